// Steps and items run on the spot (docs/runner.md, "Speed"): a transform or assert within the fast
// expression subset, or in a replay a step whose first attempt the record answers, runs to its end
// synchronously: no promise, no turn of the event loop. Anything that could fail, wait or need
// jsonata goes to the general path (attempts.ts), which records it with its full explanation.
import type { Step } from "../model/schema";
import { evaluateBareSync, FALLBACK, toJson, type ExprScope } from "../expr/evaluate";
import { dependenciesAllow, STATUS_FUNCTIONS } from "./conditions";
import { checkOutput } from "./output-schema";
import type { RunCore } from "./run-core";
import { contextWith, viewOf } from "./scope";
import { prepareStepSync, replayRecomputes, type StepOutput } from "./steps";

/** A unit run on the spot: its output, and its input's reference once it is recorded. */
interface QuickRun {
  readonly output: StepOutput;
  readonly provider?: string;
  inputRef(): string;
}

/**
 * Runs a quick step synchronously when it can, and says whether it did. It cannot (false, and
 * nothing is recorded) when the step has a cache, a retry policy or a snapshot, when one of its
 * expressions needs jsonata, or when it would fail. In a replay, a step with an effect is quick
 * too when the record answers its first attempt with a success (core/replay/answers.ts).
 */
export function runQuick(r: RunCore, id: string): boolean {
  const state = r.states.get(id)!;
  if (state.status !== "pending") return true; // ended before a resume
  const step = r.steps[id]!;
  // A map runs its items, and a child workflow its run, on the general path.
  if (step.for_each !== undefined || step.type === "workflow") return false;
  const pure = step.type === "transform" || step.type === "assert";
  // Outside a replay only pure steps are quick; in one, steps answered from the record too.
  if (!pure && (!r.o.replay || replayRecomputes(step))) return false;
  // Retries and timeouts only matter to a failure, and a failure is not run here; a replay
  // consults no cache.
  if (step.snapshot || (pure && step.cache)) return false;
  const steps = Object.create(null) as Record<string, unknown>;
  for (const d of r.graph.deps.get(id)!) steps[d] = viewOf(r.states.get(d)!);
  const success = dependenciesAllow(r.graph, r.states, id);
  const scope = { context: contextWith(r.context, steps) };
  let runs: boolean;
  let ran: QuickRun | undefined;
  try {
    runs = success && !r.cancelled();
    if (step.if !== undefined) {
      if (STATUS_FUNCTIONS.some((f) => String(step.if).includes(`$${f}(`))) return false;
      const condition = evaluateBareSync(step.if, scope);
      if (condition === FALLBACK) return false;
      runs &&= condition === true;
    }
    if (runs) {
      ran = pure ? quickPure(r, id, step, scope) : quickReplayed(r, id, step, scope);
      if (!ran) return false;
      checkOutput(step.type, step.output?.schema, ran.output.value);
    }
  } catch {
    return false;
  }
  if (!ran) {
    notRun(r, id);
    return true;
  }
  quickSucceeded(r, id, ran);
  return true;
}

/**
 * An item of a pure map (a transform or assert) run on the spot, as `runQuick` runs a step:
 * false, with nothing recorded, when only the general path can run it or it would fail.
 */
export function quickItem(r: RunCore, id: string, unit: string, step: Step, scope: ExprScope) {
  if (step.type !== "transform" && step.type !== "assert") return false;
  if (step.snapshot || step.cache) return false;
  let ran: QuickRun | undefined;
  try {
    // The input is the step's own text: one reference for every item (kept on the step).
    ran = quickPure(r, id, step, scope);
    if (!ran) return false;
    checkOutput(step.type, step.output?.schema, ran.output.value);
  } catch {
    return false;
  }
  quickSucceeded(r, unit, ran);
  return true;
}

/** Records a step that does not run: skipped, or cancelled when the run was. */
export function notRun(r: RunCore, id: string): void {
  const state = r.states.get(id)!;
  state.status = r.cancelled() ? "cancelled" : "skipped";
  r.recorder.event(
    state.status === "skipped" ? "step_skipped" : "step_cancelled",
    id,
    null,
    r.now(),
  );
}

/** Records a unit run on the spot: its start and its success, at once. */
function quickSucceeded(r: RunCore, unit: string, ran: QuickRun): void {
  const state = r.units.get(unit)!;
  const at = r.now();
  state.status = "running";
  state.startedMs = Date.now();
  r.outcomes.event("step_started", unit, null, at);
  const attempt = ++state.attempts;
  r.outcomes.succeed(unit, attempt, at, ran.inputRef(), ran.output, ran, undefined, null);
}

/** A transform's or assert's quick run; undefined when only the general path can run it. */
function quickPure(r: RunCore, id: string, step: Step, scope: ExprScope): QuickRun | undefined {
  let value: unknown = true;
  let input: unknown;
  if (step.type === "transform") {
    const v = evaluateBareSync(step.expr, scope);
    if (v === FALLBACK) return undefined;
    value = toJson(v);
    input = { expr: step.expr };
  } else if (step.type === "assert") {
    const checks = Array.isArray(step.that) ? step.that : [step.that];
    for (const check of checks) if (evaluateBareSync(check, scope) !== true) return undefined;
    input = { that: checks };
  }
  // A quick step's input is its own text: the same reference every time it runs.
  const state = r.states.get(id)!;
  const inputRef = () => (state.quickInput ??= r.recorder.blob(input));
  return { output: { value }, inputRef };
}

/**
 * A replayed step's first attempt, answered from the record without a promise: its input
 * resolved without jsonata, its recorded success taken. Undefined when either is not at hand.
 */
function quickReplayed(r: RunCore, id: string, step: Step, scope: ExprScope): QuickRun | undefined {
  const prepared = prepareStepSync(step, scope, {
    workflow: r.o.workflow,
    dir: r.dir,
    prompts: r.prompts,
  });
  if (prepared === FALLBACK) return undefined;
  const output = r.o.replay!.success(id, r.states.get(id)!.attempts + 1);
  if (!output) return undefined;
  return { output, provider: prepared.provider, inputRef: () => r.recorder.blob(prepared.input) };
}
