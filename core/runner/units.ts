// The units of a step that repeats (docs/dev/scopes.md, "Runner"): a `for_each` map's items and a
// `repeat` loop's iterations, each a unit of its own with its own attempts, retries, cache and
// record. The rules that do not depend on where they run (lists, keys, failure limits, the output
// assembled, what an iteration sees) are in map.ts and repeat.ts, shared with the team's workers.
import type { Step } from "../model/schema";
import { evaluateBare, toJson, type ExprScope } from "../expr/evaluate";
import { runAttempts } from "./attempts";
import { runAgent } from "./agent";
import { asStepError } from "./errors";
import { cancelledError } from "./limits";
import {
  assemble,
  DEFAULT_ITEM_CONCURRENCY,
  failureLimit,
  itemList,
  itemsError,
  itemsOf,
  type Item,
} from "./map";
import { pendingState } from "./outcomes";
import { quickItem } from "./quick";
import {
  iterationError,
  iterationNames,
  iterationStep,
  untilNeverHeld,
  type Repeat,
  type WorkflowStep,
} from "./repeat";
import type { RunCore } from "./run-core";
import { withNames } from "./scope";
import type { StepState } from "./types";

/** The longest quick items hold the event loop before they let other work go on. */
const SLICE_MS = 10;

/** A unit that has started (a step, an item): its iterations when it repeats, else its attempts. */
export async function runUnit(
  r: RunCore,
  unit: string,
  step: Step,
  scope: ExprScope,
  cancellable: boolean,
): Promise<void> {
  if (step.type === "workflow" && step.repeat)
    await runRepeat(r, unit, step, step.repeat, scope, cancellable);
  else if (step.type === "agent") await runAgent(r, unit, step, scope, cancellable);
  else await runAttempts(r, unit, step, scope, cancellable);
}

/**
 * A `for_each` step: its list and keys, then each item as a unit of its own (`id[key]`), up to
 * the step's concurrency. Items start in list order; once more items failed than the step allows,
 * no new item starts, the running ones end, and those never started are recorded cancelled.
 */
export async function runMap(
  r: RunCore,
  id: string,
  step: Step,
  scope: ExprScope,
  cancellable: boolean,
): Promise<void> {
  let items: Item[];
  let list: unknown[];
  try {
    list = itemList(id, step, toJson(await evaluateBare(step.for_each!, scope)));
    const keys: unknown[] = [];
    for (let index = 0; index < list.length; index++) {
      keys.push(
        step.key === undefined
          ? index
          : toJson(await evaluateBare(step.key, withNames(scope, { item: list[index], index }))),
      );
    }
    items = itemsOf(id, list, keys, (k) => r.redactor.text(k));
  } catch (e) {
    r.outcomes.fail(id, asStepError(e, "expression"), 0);
    return;
  }
  const concurrency = step.concurrency ?? DEFAULT_ITEM_CONCURRENCY;
  r.outcomes.event("expanded", id, null, r.now(), {
    count: items.length,
    keys: items.map((i) => i.key),
    list: r.recorder.blob(list),
    concurrency,
  });
  const limit = failureLimit(step, items.length);
  const failed: Item[] = [];
  // A resumed map keeps the items that had ended; those that failed count as before.
  for (const item of items) {
    const state = r.resumedUnit(item.unit);
    r.units.set(item.unit, state);
    if (state.status === "failed") failed.push(item);
  }
  let next = 0;
  let stopped = failed.length > limit;
  const stop = () => stopped || (cancellable && r.cancelled());
  let sliceStart = performance.now();
  const lane = async () => {
    while (next < items.length && !stop()) {
      const item = items[next++]!;
      // A rerun keeps an item that succeeded before (`keel rerun --failed`, `--from x[key]`).
      const reused = r.o.reuse?.get(item.unit);
      if (reused) {
        r.outcomes.reuse(item.unit, reused.output, reused.sourceRunId);
        continue;
      }
      const state = r.units.get(item.unit)!;
      if (state.status !== "pending") continue; // ended before a resume
      const itemScope = withNames(scope, { item: item.value, index: item.index });
      if (quickItem(r, id, item.unit, step, itemScope)) {
        // Quick items run without a turn of the event loop: give one now and then.
        if (performance.now() - sliceStart > SLICE_MS) {
          await new Promise<void>((resume) => setImmediate(resume));
          sliceStart = performance.now();
        }
        continue;
      }
      r.started(item.unit);
      await runUnit(r, item.unit, step, itemScope, cancellable);
      // The attempts ended the item: failed, succeeded or cancelled.
      if ((state as StepState).status === "failed") {
        failed.push(item);
        if (failed.length > limit) stopped = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  for (const item of items) {
    const state = r.units.get(item.unit)!;
    if (state.status !== "pending") continue;
    state.status = "cancelled";
    r.outcomes.event("step_cancelled", item.unit, null, r.now());
  }
  const { output, views } = assemble(step, items, r.units);
  failed.sort((a, b) => a.index - b.index);
  // `steps.<id>.items` holds whether the map succeeded or not.
  r.states.get(id)!.items = views;
  if (cancellable && r.cancelled()) r.outcomes.fail(id, cancelledError(), 0);
  else if (failed.length > limit)
    r.outcomes.fail(id, itemsError(id, failed, r.units, items.length), 0);
  else r.outcomes.mapped(id, output);
}

/**
 * A `repeat`: iteration n is the unit `<unit>#n`, a child run with its own attempts; the first
 * gets the step's `with`, the next ones `repeat.with`, which sees `previous.output` and
 * `iteration`. After each, `until` (over `output` and `iteration`) says whether to stop.
 */
async function runRepeat(
  r: RunCore,
  unit: string,
  step: WorkflowStep,
  repeat: Repeat,
  scope: ExprScope,
  cancellable: boolean,
): Promise<void> {
  const iterations: unknown[] = [];
  for (let n = 1; n <= repeat.max; n++) {
    const iteration = `${unit}#${n}`;
    const state = r.resumedUnit(iteration);
    r.units.set(iteration, state);
    // An iteration that succeeded before a resume is kept; any other runs (again).
    if (state.status !== "succeeded") {
      Object.assign(state, pendingState(state.attempts));
      r.started(iteration);
      const names = iterationNames(n, iterations);
      await runAttempts(
        r,
        iteration,
        iterationStep(step, repeat, n),
        withNames(scope, names),
        cancellable,
      );
    }
    if ((state as StepState).status !== "succeeded") {
      r.outcomes.fail(unit, iterationError(n, state), 0);
      return;
    }
    iterations.push(state.output);
    if (repeat.until === undefined) continue;
    let done: unknown;
    try {
      done = await evaluateBare(
        repeat.until,
        withNames(scope, { output: state.output, iteration: n }),
      );
    } catch (e) {
      r.outcomes.fail(unit, asStepError(e, "expression"), 0);
      return;
    }
    if (done === true) {
      r.outcomes.repeated(unit, iterations);
      return;
    }
  }
  if (repeat.until === undefined || repeat.on_max === "last") {
    r.outcomes.repeated(unit, iterations);
    return;
  }
  r.units.get(unit)!.iterations = iterations;
  r.outcomes.fail(unit, untilNeverHeld(repeat), 0);
}
