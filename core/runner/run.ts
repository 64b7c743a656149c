// The local executor: runs a validated workflow's DAG and records everything it does.
// Invariants:
// - A step starts when everything it depends on has ended; it sees only those steps' outputs.
// - Before an effect starts, every result it depends on is durably committed (docs/runner.md,
//   "What is recorded"); pure steps are group-committed and never wait.
// - Every run ends in a recorded state: succeeded, failed or cancelled, with its reason.
// The scheduler's state machine (start, condition, attempts, end) is kept together in this one
// class on purpose; conditions, limits and findings live in their own files.
import type { Step } from "../model/schema";
import type { RunOptions, RunResult, StepState } from "./types";
import type { RunStatus } from "../record/records";
import { sleep } from "./async";
import { recordEnd, summaries } from "./result";
import { dependenciesAllow, STATUS_FUNCTIONS } from "./conditions";
import {
  contextWith,
  scopeFor,
  shouldRun,
  viewOf,
  type RunContext,
  type ScopeSource,
} from "./scope";
import { StepError, asStepError } from "./errors";
import { evaluateBare, evaluateBareSync, FALLBACK, toJson, type ExprScope } from "../expr/evaluate";
import { Recorder } from "./recorder";
import { Outcomes, pendingState, snapshotOf } from "./outcomes";
import { cacheKey, cachePolicy } from "./cache";
import { Redactor } from "./redact";
import { checkOutput } from "./output-schema";
import { afterFailure, fallbackRetryPolicy, stepRetryPolicy, stepTimeout } from "./policy";
import {
  prepareStep,
  prepareStepSync,
  providerOf,
  replayRecomputes,
  type ChildCall,
  type PreparedStep,
  type StepOutput,
} from "./steps";
import { newRunId } from "../store/ids";
import { resolve } from "node:path";
import { loadWorkflow, type LoadedWorkflow, type LoadResult } from "./load";
import { resolveInputs } from "./inputs";
import { createNodeEffects } from "./node-effects";
import { LineIndex } from "../model/line-index";
import type { AttemptScope } from "./effects";
import { AttemptOutput } from "./attempt-output";
import {
  assemble,
  DEFAULT_ITEM_CONCURRENCY,
  failureLimit,
  itemList,
  itemsError,
  itemsOf,
  type Item,
} from "./map";
import { splitUnit } from "../record/records";
import { cancelledError, RunLimits } from "./limits";

export type { RunOptions, RunResult, StepSummary } from "./types";

/** The longest a run of quick steps holds the event loop before it lets other work go on. */
const SLICE_MS = 10;

/** A step run on the spot by `runQuick`: its output, and its input's reference once it is recorded. */
interface QuickRun {
  readonly output: StepOutput;
  readonly provider?: string;
  inputRef(): string;
}

/** How often a running run's owner updates its heartbeat. */
export const HEARTBEAT_MS = 5_000;

export async function runWorkflow(options: RunOptions): Promise<RunResult> {
  return new LocalRun(options).run();
}

class LocalRun implements ScopeSource {
  private readonly runId: string;
  private readonly startedAt: string;
  private readonly recorder: Recorder;
  private readonly redactor: Redactor;
  readonly states = new Map<string, StepState>();
  /**
   * Every unit's state by its key (docs/dev/scopes.md): the steps' own, the same objects as in
   * `states`, and the items of maps. `states` holds the steps only: what a run's end and its
   * dependents' expressions read.
   */
  private readonly units = new Map<string, StepState>();
  readonly graph: RunOptions["graph"];
  readonly context: RunContext;
  private readonly steps: Record<string, Step>;
  private readonly dir: string;
  private readonly internal = new AbortController();
  private readonly limits: RunLimits;
  private readonly outcomes: Outcomes;
  private readonly runView: { readonly id: string; readonly started_at: string };

  constructor(private readonly o: RunOptions) {
    this.runId = o.resume?.runId ?? o.runId ?? newRunId();
    this.startedAt = o.resume?.startedAt ?? o.effects.now();
    // A replay records under its own id, while its expressions see the recorded run's clock and id.
    this.runView = {
      id: o.runView?.id ?? this.runId,
      started_at: o.runView?.startedAt ?? this.startedAt,
    };
    this.graph = o.graph;
    this.context = {
      inputs: o.inputs,
      run: this.runView,
      env: o.env ?? {},
      secrets: o.secrets ?? {},
    };
    this.redactor = new Redactor(o.secrets ?? {});
    this.recorder = new Recorder(
      o.store,
      this.runId,
      this.redactor,
      o.resume?.lastSeq ?? 0,
      o.onEvent,
    );
    this.steps = o.workflow.steps as Record<string, Step>;
    this.outcomes = new Outcomes(
      this.runId,
      this.recorder,
      this.units,
      o.effects,
      o.store,
      o.workflow,
    );
    this.dir = o.workflowPath.replace(/[\\/][^\\/]*$/, "") || ".";
    for (const id of o.graph.ids) {
      const state = pendingState();
      this.states.set(id, state);
      this.units.set(id, state);
    }
    this.limits = new RunLimits(this.internal.signal, o.effects, o.workflow);
    for (const [id, n] of o.resume?.attempts ?? []) {
      const state = this.states.get(id);
      if (state) state.attempts = n;
    }
    for (const [id, ended] of o.resume?.ended ?? []) {
      const state = this.states.get(id);
      if (state) Object.assign(state, ended, { meta: ended.meta ?? null });
    }
  }

  async run(): Promise<RunResult> {
    const o = this.o;
    // The source is stored as text, not JSON, so that its hash is the hash of the file.
    const sourceHash = this.recorder.textBlob(o.source);
    const inputsHash = this.recorder.blob(o.inputs);
    this.recorder.run(this.runRecord("running", sourceHash, inputsHash));
    if (o.resume) {
      this.recorder.event("run_resumed", null, null, o.effects.now(), {
        pid: process.pid,
        rerunning: o.resume.inFlight,
      });
    } else {
      this.recorder.event("run_started", null, null, this.startedAt, {
        inputs: o.inputs,
        env: o.env ?? {},
      });
      // Reused items are taken when their map runs (runMap).
      for (const [id, reused] of o.reuse ?? [])
        if (splitUnit(id).scope === null)
          this.outcomes.reuse(id, reused.output, reused.sourceRunId);
    }
    // The owner says it is alive, so other processes can tell a running run from an interrupted one.
    const heartbeat = setInterval(() => {
      this.recorder.run({
        ...this.runRecord("running", sourceHash, inputsHash),
        heartbeatAt: o.effects.now(),
      });
    }, HEARTBEAT_MS);
    heartbeat.unref();
    // A cancel reaches the steps and, after them, the evaluation of the run's outputs.
    const abort = () => this.internal.abort(cancelledError());
    o.signal?.addEventListener("abort", abort);
    try {
      try {
        await this.schedule();
      } finally {
        clearInterval(heartbeat);
      }
      return await this.finish(sourceHash, inputsHash);
    } finally {
      o.signal?.removeEventListener("abort", abort);
    }
  }

  private runRecord(
    status: RunStatus,
    sourceHash: string,
    inputsHash: string,
    end?: { endedAt: string; outputsHash: string | null; error: string | null },
  ) {
    return {
      id: this.runId,
      workflowPath: this.o.workflowPath,
      workflowName: this.o.workflow.name,
      sourceHash,
      inputsHash,
      status,
      mode: this.o.mode ?? "run",
      parentId: this.o.parentId ?? null,
      parentScope: this.o.parentScope ?? null,
      startedAt: this.startedAt,
      endedAt: end?.endedAt ?? null,
      outputsHash: end?.outputsHash ?? null,
      error: end?.error ?? null,
      ownerPid: end ? null : process.pid,
      heartbeatAt: end ? null : this.startedAt,
    } as const;
  }

  /**
   * Starts every step whose dependencies have ended, up to the concurrency limit. A quick step
   * (a transform or assert within the fast expression subset) runs to its end on the spot, and so
   * do the quick steps it makes ready: no promise, no turn of the event loop per step.
   */
  private async schedule(): Promise<void> {
    const { graph } = this.o;
    const limit = this.o.concurrency ?? 16;
    // Steps by their index in topological order, so the loop does no lookups by name.
    const ids = graph.order;
    const index = new Map(ids.map((id, i) => [id, i]));
    const remaining = Int32Array.from(ids, (id) => graph.deps.get(id)!.length);
    const dependents = ids.map((id) => graph.dependents.get(id)!.map((d) => index.get(d)!));
    const ready: number[] = [];
    for (let i = 0; i < ids.length; i++) if (remaining[i] === 0) ready.push(i);
    let head = 0;
    let running = 0;
    const ended: number[] = [];
    let failure: { error: unknown } | undefined;
    let wake: (() => void) | undefined;
    const end = (i: number) => {
      for (const next of dependents[i]!) if (--remaining[next]! === 0) ready.push(next);
    };
    let sliceStart = performance.now();
    let quickInSlice = 0;
    for (;;) {
      while (head < ready.length && running < limit && !failure) {
        const i = ready[head++]!;
        const id = ids[i]!;
        if (this.runQuick(id)) {
          end(i);
          // Give the event loop a turn now and then: commits, progress and a cancel go on.
          if (++quickInSlice % 256 === 0 && performance.now() - sliceStart > SLICE_MS) {
            await new Promise<void>((r) => setImmediate(r));
            sliceStart = performance.now();
          }
          continue;
        }
        running++;
        this.runStep(id).then(
          () => {
            running--;
            ended.push(i);
            wake?.();
          },
          (error: unknown) => {
            running--;
            failure ??= { error };
            wake?.();
          },
        );
      }
      if (failure && running === 0) throw failure.error;
      if (ended.length > 0) {
        for (const i of ended.splice(0)) end(i);
        continue;
      }
      if (running === 0 && head >= ready.length) return;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
      sliceStart = performance.now();
    }
  }

  /**
   * Runs a quick step synchronously when it can, and says whether it did. It cannot (false, and
   * nothing is recorded) when the step has a cache, a retry policy or a snapshot, when one of its
   * expressions needs jsonata, or when it would fail: the general path then runs it and records
   * the failure with its full explanation. In a replay, a step with an effect is quick too when
   * the record answers its first attempt with a success (core/replay/answers.ts).
   */
  private runQuick(id: string): boolean {
    const state = this.states.get(id)!;
    if (state.status !== "pending") return true; // ended before a resume
    const step = this.steps[id]!;
    // A map runs its items, and a child workflow its run, on the general path.
    if (step.for_each !== undefined || step.type === "workflow") return false;
    const pure = step.type === "transform" || step.type === "assert";
    // Outside a replay only pure steps are quick; in one, steps answered from the record too.
    if (!pure && (!this.o.replay || replayRecomputes(step))) return false;
    // Retries and timeouts only matter to a failure, and a failure is not run here; a replay
    // consults no cache.
    if (step.snapshot || (pure && step.cache)) return false;
    const steps = Object.create(null) as Record<string, unknown>;
    for (const d of this.o.graph.deps.get(id)!) steps[d] = viewOf(this.states.get(d)!);
    const success = dependenciesAllow(this.o.graph, this.states, id);
    const scope = { context: contextWith(this.context, steps) };
    let runs: boolean;
    let ran: QuickRun | undefined;
    try {
      runs = success && !this.internal.signal.aborted;
      if (step.if !== undefined) {
        if (STATUS_FUNCTIONS.some((f) => String(step.if).includes(`$${f}(`))) return false;
        const condition = evaluateBareSync(step.if, scope);
        if (condition === FALLBACK) return false;
        runs &&= condition === true;
      }
      if (runs) {
        ran = pure ? this.quickPure(id, step, scope) : this.quickReplayed(id, step, scope);
        if (!ran) return false;
        checkOutput(step.type, step.output?.schema, ran.output.value);
      }
    } catch {
      return false;
    }
    if (!ran) {
      this.notRun(id);
      return true;
    }
    this.quickSucceeded(id, ran);
    return true;
  }

  /** Records a unit run on the spot: its start and its success, at once. */
  private quickSucceeded(unit: string, ran: QuickRun): void {
    const state = this.units.get(unit)!;
    const at = this.o.effects.now();
    state.status = "running";
    state.startedMs = Date.now();
    this.outcomes.event("step_started", unit, null, at);
    const attempt = ++state.attempts;
    this.outcomes.succeed(unit, attempt, at, ran.inputRef(), ran.output, ran, undefined, null);
  }

  /** A transform's or assert's quick run; undefined when only the general path can run it. */
  private quickPure(id: string, step: Step, scope: ExprScope): QuickRun | undefined {
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
    const state = this.states.get(id)!;
    const inputRef = () => (state.quickInput ??= this.recorder.blob(input));
    return { output: { value }, inputRef };
  }

  /**
   * A replayed step's first attempt, answered from the record without a promise: its input
   * resolved without jsonata, its recorded success taken. Undefined when either is not at hand.
   */
  private quickReplayed(id: string, step: Step, scope: ExprScope): QuickRun | undefined {
    const prepared = prepareStepSync(step, scope, { workflow: this.o.workflow, dir: this.dir });
    if (prepared === FALLBACK) return undefined;
    const output = this.o.replay!.success(id, this.states.get(id)!.attempts + 1);
    if (!output) return undefined;
    return {
      output,
      provider: prepared.provider,
      inputRef: () => this.recorder.blob(prepared.input),
    };
  }

  /** Records a step that does not run: skipped, or cancelled when the run was. */
  private notRun(id: string): void {
    const state = this.states.get(id)!;
    state.status = this.internal.signal.aborted ? "cancelled" : "skipped";
    this.recorder.event(
      state.status === "skipped" ? "step_skipped" : "step_cancelled",
      id,
      null,
      this.o.effects.now(),
    );
  }

  private async runStep(id: string): Promise<void> {
    const step = this.steps[id]!;
    const state = this.states.get(id)!;
    if (state.status !== "pending") return; // ended before a resume
    // A cancel stops the step's expressions (its `if`, its templates) unless the run was
    // cancelled before it started: then it runs to its end, as below.
    const unbounded = scopeFor(this, id);
    const scope = this.internal.signal.aborted
      ? unbounded
      : { ...unbounded, signal: this.internal.signal };
    try {
      if (!(await shouldRun(this, id, step, scope))) {
        this.notRun(id);
        return;
      }
    } catch (e) {
      this.outcomes.fail(id, asStepError(e, "expression"), 0);
      return;
    }
    state.status = "running";
    state.startedMs = Date.now();
    this.recorder.event("step_started", id, null, this.o.effects.now());
    // A step that starts after a cancel (`$always()`, `$cancelled()`) runs to its end.
    const cancellable = !this.internal.signal.aborted;
    if (step.for_each !== undefined) await this.runMap(id, step, scope, cancellable);
    else await this.runUnit(id, step, scope, cancellable);
  }

  /** A unit that has started (a step, an item): its iterations when it repeats, else its attempts. */
  private async runUnit(
    unit: string,
    step: Step,
    scope: ExprScope,
    cancellable: boolean,
  ): Promise<void> {
    if (step.type === "workflow" && step.repeat)
      await this.runRepeat(unit, step, step.repeat, scope, cancellable);
    else await this.attempts(unit, step, scope, cancellable);
  }

  /**
   * An item of a pure map (a transform or assert) run on the spot, as `runQuick` runs a step:
   * false, with nothing recorded, when only the general path can run it or it would fail.
   */
  private quickItem(id: string, unit: string, step: Step, scope: ExprScope): boolean {
    if (step.type !== "transform" && step.type !== "assert") return false;
    if (step.snapshot || step.cache) return false;
    let ran: QuickRun | undefined;
    try {
      // The input is the step's own text: one reference for every item (kept on the step).
      ran = this.quickPure(id, step, scope);
      if (!ran) return false;
      checkOutput(step.type, step.output?.schema, ran.output.value);
    } catch {
      return false;
    }
    this.quickSucceeded(unit, ran);
    return true;
  }

  /**
   * A unit's state as a resumed run starts it: as it ended before, when it did (an item, an
   * iteration), else pending with its attempts so far counted.
   */
  private resumedUnit(unit: string): StepState {
    const state = pendingState(this.o.resume?.attempts.get(unit) ?? 0);
    const ended = this.o.resume?.ended.get(unit);
    if (ended) Object.assign(state, ended, { meta: ended.meta ?? null });
    return state;
  }

  /**
   * A `repeat`: iteration n is the unit `<unit>#n`, a child run with its own attempts; the first
   * gets the step's `with`, the next ones `repeat.with`, which sees `previous.output` and
   * `iteration`. After each, `until` (over `output` and `iteration`) says whether to stop.
   */
  private async runRepeat(
    unit: string,
    step: Extract<Step, { type: "workflow" }>,
    repeat: NonNullable<Extract<Step, { type: "workflow" }>["repeat"]>,
    scope: ExprScope,
    cancellable: boolean,
  ): Promise<void> {
    const iterations: unknown[] = [];
    for (let n = 1; n <= repeat.max; n++) {
      const iteration = `${unit}#${n}`;
      const state = this.resumedUnit(iteration);
      this.units.set(iteration, state);
      // An iteration that succeeded before a resume is kept; any other runs (again).
      if (state.status !== "succeeded") {
        Object.assign(state, pendingState(state.attempts));
        state.status = "running";
        state.startedMs = Date.now();
        this.outcomes.event("step_started", iteration, null, this.o.effects.now());
        const body = n === 1 ? step : { ...step, with: repeat.with ?? step.with };
        const previous = n === 1 ? null : { output: iterations.at(-1) };
        await this.attempts(
          iteration,
          body,
          withNames(scope, { iteration: n, previous }),
          cancellable,
        );
      }
      if ((state as StepState).status !== "succeeded") {
        const why = state.error ?? { kind: "config" as const, message: "did not succeed" };
        const err = new StepError(why.kind, `iteration ${n}: ${why.message}`);
        this.outcomes.fail(unit, err, 0);
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
        this.outcomes.fail(unit, asStepError(e, "expression"), 0);
        return;
      }
      if (done === true) {
        this.outcomes.repeated(unit, iterations);
        return;
      }
    }
    if (repeat.until === undefined || repeat.on_max === "last") {
      this.outcomes.repeated(unit, iterations);
      return;
    }
    this.units.get(unit)!.iterations = iterations;
    this.outcomes.fail(
      unit,
      new StepError(
        "max_iterations",
        `\`until\` was still not true after ${repeat.max} iterations (\`${String(repeat.until)}\`): raise repeat.max, or set on_max: last to keep the last iteration's output`,
      ),
      0,
    );
  }

  /**
   * A `for_each` step: its list and keys, then each item as a unit of its own (`id[key]`), up to
   * the step's concurrency, with its own attempts, retries, cache and record (map.ts for the
   * rules). Items start in list order; once more items failed than the step allows, no new item
   * starts, the running ones end, and those never started are recorded cancelled.
   */
  private async runMap(
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
            : toJson(await evaluateBare(step.key, withItem(scope, list[index], index))),
        );
      }
      items = itemsOf(id, list, keys);
    } catch (e) {
      this.outcomes.fail(id, asStepError(e, "expression"), 0);
      return;
    }
    const concurrency = step.concurrency ?? DEFAULT_ITEM_CONCURRENCY;
    this.outcomes.event("expanded", id, null, this.o.effects.now(), {
      count: items.length,
      keys: items.map((i) => i.key),
      list: this.recorder.blob(list),
      concurrency,
    });
    const limit = failureLimit(step, items.length);
    const failed: Item[] = [];
    // A resumed map keeps the items that had ended; those that failed count as before.
    for (const item of items) {
      const state = this.resumedUnit(item.unit);
      this.units.set(item.unit, state);
      if (state.status === "failed") failed.push(item);
    }
    let next = 0;
    let stopped = failed.length > limit;
    const stop = () => stopped || (cancellable && this.internal.signal.aborted);
    let sliceStart = performance.now();
    const lane = async () => {
      while (next < items.length && !stop()) {
        const item = items[next++]!;
        // A rerun keeps an item that succeeded before (`keel rerun --failed`, `--from x[key]`).
        const reused = this.o.reuse?.get(item.unit);
        if (reused) {
          this.outcomes.reuse(item.unit, reused.output, reused.sourceRunId);
          continue;
        }
        const state = this.units.get(item.unit)!;
        if (state.status !== "pending") continue; // ended before a resume
        const itemScope = withItem(scope, item.value, item.index);
        if (this.quickItem(id, item.unit, step, itemScope)) {
          // Quick items run without a turn of the event loop: give one now and then.
          if (performance.now() - sliceStart > SLICE_MS) {
            await new Promise<void>((r) => setImmediate(r));
            sliceStart = performance.now();
          }
          continue;
        }
        state.status = "running";
        state.startedMs = Date.now();
        this.outcomes.event("step_started", item.unit, null, this.o.effects.now());
        await this.runUnit(item.unit, step, itemScope, cancellable);
        // `attempts` ended the item: failed, succeeded or cancelled.
        if ((state as StepState).status === "failed") {
          failed.push(item);
          if (failed.length > limit) stopped = true;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
    for (const item of items) {
      const state = this.units.get(item.unit)!;
      if (state.status !== "pending") continue;
      state.status = "cancelled";
      this.outcomes.event("step_cancelled", item.unit, null, this.o.effects.now());
    }
    const { output, views } = assemble(step, items, this.units);
    failed.sort((a, b) => a.index - b.index);
    // `steps.<id>.items` holds whether the map succeeded or not.
    this.states.get(id)!.items = views;
    if (cancellable && this.internal.signal.aborted) this.outcomes.fail(id, cancelledError(), 0);
    else if (failed.length > limit)
      this.outcomes.fail(id, itemsError(id, failed, this.units, items.length), 0);
    else this.outcomes.mapped(id, output);
  }

  cancelled(): boolean {
    return this.internal.signal.aborted;
  }

  /** Attempts the step until it succeeds or its retries and fallbacks are used up. */
  private async attempts(
    id: string,
    step: Step,
    scope: ExprScope,
    cancellable: boolean,
  ): Promise<void> {
    const wf = this.o.workflow;
    const own = step.type === "llm" ? providerOf(step, wf) : undefined;
    let provider = own;
    let policy = stepRetryPolicy(step, wf, provider);
    let tries = 0;
    for (;;) {
      tries++;
      const failure = await this.attempt(id, step, scope, cancellable, provider, provider !== own);
      if (!failure) return;
      const { err, attempt } = failure;
      const cancelled = cancellable && this.internal.signal.aborted;
      const after = afterFailure(wf, provider, policy, tries, err, cancelled);
      this.outcomes.attemptFailed(id, attempt, err, after, failure.log);
      if (after.next === "retry") {
        if (!this.o.replay)
          await sleep(after.delayMs, cancellable ? this.internal.signal : undefined);
      } else if (after.next === "fallback") {
        provider = after.provider;
        policy = fallbackRetryPolicy(wf, provider);
        tries = 0;
      } else {
        this.outcomes.fail(id, cancelled ? cancelledError() : err, attempt);
        return;
      }
    }
  }

  /** One attempt: resolve, wait for durability before an effect, execute, check, record. */
  private async attempt(
    id: string,
    step: Step,
    scope: ExprScope,
    cancellable: boolean,
    provider: string | undefined,
    isFallback: boolean,
  ): Promise<{ err: StepError; attempt: number; log?: string } | undefined> {
    const state = this.units.get(id)!;
    const wf = this.o.workflow;
    const attempt = ++state.attempts;
    const startedAt = this.o.effects.now();
    const timeout = stepTimeout(step, wf, provider);
    let prepared: PreparedStep;
    // The step's time limit bounds the evaluation of its templates too.
    const limit =
      timeout === undefined
        ? undefined
        : this.limits.limit(timeout, cancellable, "its templates were not evaluated");
    try {
      prepared = await prepareStep(
        step,
        limit ? { ...scope, signal: limit.signal } : scope,
        {
          workflow: wf,
          dir: this.dir,
          children: { run: (call, signal) => this.runChild(id, attempt, call, signal) },
        },
        isFallback ? provider : undefined,
      );
    } catch (e) {
      return { err: asStepError(e, "expression"), attempt };
    } finally {
      limit?.release();
    }
    const replay = this.o.replay;
    // Replay: the effect is answered from the record, never executed (pure steps recompute).
    if (replay && !replayRecomputes(step))
      prepared = { ...prepared, effectful: false, execute: () => replay.answer(id, attempt) };
    const inputHash = this.recorder.blob(prepared.input);
    const cache = cachePolicy(step, wf);
    const key =
      cache.enabled && !replay
        ? cacheKey(step, inputHash, wf, prepared.provider, this.dir, this.context.secrets)
        : null;
    if (
      key &&
      !this.o.noCache &&
      (await this.outcomes.fromCache(id, attempt, startedAt, inputHash, key))
    )
      return undefined;
    if (prepared.effectful) await this.recorder.durable();
    const at = this.attemptScope(id, attempt);
    const unbound = prepared;
    const bound: PreparedStep = { ...unbound, execute: (e, s) => unbound.execute(e, s, at) };
    try {
      const output = await this.limits.execute(bound, timeout, provider, cancellable);
      this.verifyStore(id, prepared);
      checkOutput(step.type, step.output?.schema, output.value);
      const snapshot = await snapshotOf(step, scope, output.value);
      this.outcomes.succeed(
        id,
        attempt,
        startedAt,
        inputHash,
        output,
        prepared,
        snapshot,
        key,
        at.log(),
      );
      if (key) this.outcomes.cacheEntry(key, id, output.value, cache.ttlMs);
      return undefined;
    } catch (e) {
      // A store the effect destroyed stops the run here: nothing more can be recorded.
      this.verifyStore(id, prepared);
      const err = asStepError(e);
      const log = at.log();
      this.outcomes.failedAttempt(id, attempt, startedAt, inputHash, err, prepared.provider, log);
      return { err, attempt, log };
    }
  }

  /**
   * A `workflow` step's attempt: the child file loaded and checked, then run as a run of its own
   * in the same store (`parentId` this run, `parentScope` the unit), between `child_started` and
   * `child_finished` in this run's log. Its outputs are the attempt's output; its failure fails
   * the attempt with the child step's error kind, so `retry.on` applies to it.
   */
  private async runChild(
    unit: string,
    attempt: number,
    call: ChildCall,
    signal: AbortSignal,
  ): Promise<StepOutput> {
    const depth = (this.o.depth ?? 0) + 1;
    if (depth > MAX_CHILD_DEPTH)
      throw new StepError(
        "config",
        `${call.uses}: child workflows nest more than ${MAX_CHILD_DEPTH} deep; a workflow that uses itself never ends`,
      );
    // A replay replays the recorded child in its place.
    const replayed = this.o.replay?.children;
    if (replayed) return replayed.run(unit, attempt, call, signal);
    const path = resolve(this.dir, call.uses);
    let loaded: LoadResult;
    try {
      loaded = loadWorkflow(path);
    } catch (e) {
      throw new StepError(
        "config",
        `cannot read the child workflow ${call.uses} (${path}): ${(e as Error).message}`,
      );
    }
    if (!loaded.ok) {
      const errors = loaded.diagnostics.filter((d) => d.severity === "error");
      const first = errors[0]!;
      throw new StepError(
        "config",
        `the child workflow ${call.uses} has ${errors.length} error${errors.length > 1 ? "s" : ""} (first, line ${new LineIndex(loaded.source).position(first.start).line + 1}: ${first.code} ${first.message}): run keel validate ${call.uses}`,
      );
    }
    const child = loaded.loaded;
    const inputs = checkedChildInputs(child, call);
    const childId = newRunId();
    const sourceHash = this.recorder.textBlob(child.source);
    this.outcomes.event("child_started", unit, attempt, this.o.effects.now(), {
      childRun: childId,
      uses: call.uses,
      source: sourceHash,
    });
    // The child's effects may depend on what this run recorded so far.
    await this.recorder.durable();
    const parentEnv = this.o.env ?? {};
    const result = await runWorkflow({
      workflowPath: child.path,
      source: child.source,
      workflow: child.workflow,
      graph: child.graph,
      inputs,
      store: this.o.store,
      effects: this.o.childEffects
        ? this.o.childEffects(child)
        : createNodeEffects({ providers: child.workflow.providers ?? {}, dir: child.dir }),
      env: this.o.readEnv
        ? this.o.readEnv(child.envNames)
        : Object.fromEntries(child.envNames.map((n) => [n, parentEnv[n]])),
      secrets: this.o.secrets,
      signal,
      concurrency: this.o.concurrency,
      noCache: this.o.noCache,
      runId: childId,
      mode: "run",
      parentId: this.runId,
      parentScope: unit,
      depth,
      readEnv: this.o.readEnv,
      childEffects: this.o.childEffects,
    });
    this.outcomes.event("child_finished", unit, attempt, this.o.effects.now(), {
      childRun: childId,
      status: result.status,
    });
    if (result.status === "succeeded") return { value: result.outputs ?? {} };
    if (result.status === "cancelled") throw cancelledError();
    const failed = result.steps.find((s) => s.status === "failed" && !s.continued);
    throw new StepError(
      failed?.error?.kind ?? "config",
      `the child run ${childId} of ${call.uses} failed${failed ? ` at step '${failed.id}': ${failed.error?.message ?? ""}` : `: ${result.error ?? ""}`}`,
    );
  }

  /** Throws when the effect `id` just ran deleted, replaced or overwrote the store's file. */
  private verifyStore(id: string, prepared: PreparedStep): void {
    if (prepared.effectful) this.o.store.verify?.(`step '${id}'`);
  }

  /**
   * The attempt an effect works for: it keeps what a tool prints (attempt-output.ts) and records
   * the process groups a command starts (core/node/processes.ts).
   */
  private attemptScope(
    unit: string,
    attempt: number,
  ): AttemptScope & { log(): string | undefined } {
    const { stepId } = splitUnit(unit);
    const output = new AttemptOutput();
    return {
      runId: this.runId,
      stepId,
      attempt,
      output: (text) => output.add(text),
      processStarted: (p) => this.recorder.process({ runId: this.runId, stepId, attempt, ...p }),
      log: () => output.value(),
    };
  }

  private async finish(sourceHash: string, inputsHash: string): Promise<RunResult> {
    const o = this.o;
    const end = await recordEnd({
      recorder: this.recorder,
      states: this.states,
      store: o.store,
      workflow: o.workflow,
      workflowPath: o.workflowPath,
      runId: this.runId,
      cancelled: this.internal.signal.aborted,
      signal: this.internal.signal,
      context: this.context,
      now: () => o.effects.now(),
      runRecord: (status, ended) => this.runRecord(status, sourceHash, inputsHash, ended),
    });
    await this.recorder.durable();
    // What the caller prints or returns is redacted like what is stored: its values and
    // messages, never its ids.
    const r = this.redactor;
    return {
      runId: this.runId,
      status: end.status,
      outputs: r.value(end.outputs),
      error: end.error && r.text(end.error),
      findings: r.value(end.findings),
      steps: summaries(o.graph, this.states).map((s) =>
        s.error ? { ...s, error: { ...s.error, message: r.text(s.error.message) } } : s,
      ),
    };
  }
}

/** How deep child workflows may nest: deeper is taken for a workflow that uses itself. */
const MAX_CHILD_DEPTH = 8;

/** A child's inputs: what `with` gives, checked like `--input` is, with the child's defaults. */
function checkedChildInputs(child: LoadedWorkflow, call: ChildCall): Record<string, unknown> {
  const resolved = resolveInputs(child.workflow, call.inputs, []);
  if (resolved.problems.length > 0)
    throw new StepError(
      "config",
      `the inputs given to ${call.uses} do not fit it: ${resolved.problems.map((p) => p.replace("in the inputs file", "in `with`")).join("; ")}`,
    );
  return resolved.inputs;
}

/** What an item's expressions see: the step's names, and `item` and `index`. */
function withItem(scope: ExprScope, item: unknown, index: number): ExprScope {
  return withNames(scope, { item, index });
}

/** The scope with more names beside the step's (`item`, `iteration`, `previous`, `output`). */
function withNames(scope: ExprScope, names: Record<string, unknown>): ExprScope {
  return { ...scope, context: { ...scope.context, ...names } };
}
