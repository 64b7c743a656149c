// A run on a team's workers: the body of the DBOS workflow `keel_run`, whose id is the Keel run
// id. It is the scheduler of the local runner in a replay-safe form. DBOS executes a workflow
// again from its start when the worker executing it died, answering every step it had
// checkpointed from the checkpoint, so this body must take the same decisions every time:
// - it starts ready steps one at a time, in a stable order (ready order, ties by topological
//   index), and waits for the next ended attempt with `DBOS.waitFirst`, whose answer is
//   checkpointed: a re-execution sees the attempts end in the same order;
// - a transform or assert without a cache or a snapshot runs here, in the workflow: it is pure,
//   so it computes the same again; every other step's attempt is a child workflow
//   (dbos-attempt.ts) on its provider's queue, executed by any worker. One with a time limit is
//   evaluated inside a checkpointed DBOS step, since whether it ends in time depends on this
//   execution; the evaluations here stop at the workflow's cancel (docs/dev/production-mode.md,
//   "Expressions on the workers");
// - everything it records it writes with `recordInStep` (dbos-record.ts), in the transaction of a
//   DBOS checkpoint: once, however often this body executes. It writes before it starts an
//   attempt, so an effect never depends on an unrecorded result;
// - what only one execution can know (the clock at the start, the findings read from the store at
//   the end) is taken inside a checkpointed step and read back from it.
// Keel's retry policy stays in charge: an attempt says what follows it (dbos-attempt.ts), and this
// body starts the next one (after the backoff, which the attempt waits durably) or the fallback.
// It runs units (docs/dev/scopes.md) as the local runner does (core/runner/run.ts): a map's items,
// each with its own attempts, up to the step's `concurrency`; a `workflow` step's attempt as a
// child run, a `keel_run` workflow of its own; a `repeat`'s iterations one after another. Every
// unit that ends goes on a queue this body takes from in order, so what follows an end (the next
// item, the next iteration, the dependents) is decided alike on every execution
// (docs/dev/production-mode.md, "Maps, child runs and loops on the workers").
import { resolve } from "node:path";
import { DBOS, Error as DBOSErrors, type WorkflowHandle } from "@dbos-inc/dbos-sdk";
import type { Step } from "../model/schema";
import type { StepGraph } from "../graph/graph";
import { splitUnit, type RunRecord, type RunStatus } from "../record/records";
import { raceAbort } from "../runner/async";
import { cacheKey, cachePolicy } from "../runner/cache";
import { childError, childInputs, depthError, type ChildEnd } from "../runner/child";
import { asStepError, StepError } from "../runner/errors";
import {
  assemble,
  DEFAULT_ITEM_CONCURRENCY,
  failureLimit,
  itemList,
  itemsError,
  itemsOf,
  type Item,
} from "../runner/map";
import { checkOutput } from "../runner/output-schema";
import { lookupCache, Outcomes, pendingState, snapshotOf, type CacheHit } from "../runner/outcomes";
import { afterFailure, durationMs, stepRetryPolicy, stepTimeout } from "../runner/policy";
import {
  iterationError,
  iterationNames,
  iterationStep,
  untilNeverHeld,
  type Repeat,
  type WorkflowStep,
} from "../runner/repeat";
import { Recorder } from "../runner/recorder";
import { Redactor } from "../runner/redact";
import { recordEnd } from "../runner/result";
import {
  dependencyViews,
  scopeFor,
  shouldRun,
  withNames,
  type RunContext,
  type ScopeSource,
} from "../runner/scope";
import {
  prepareStep,
  providerOf,
  type ChildCall,
  type PreparedStep,
  type StepOutput,
} from "../runner/steps";
import type { StepState } from "../runner/types";
import { evaluateBare, toJson, type ExprScope } from "../expr/evaluate";
import { newRunId } from "../store/ids";
import {
  AgentLoop,
  modelCallStep,
  scopedError,
  type AgentStep,
  type PlannedCall,
} from "../runner/agent-loop";
import { toolSpecs } from "../runner/agent-tools";
import { within, type AgentPart, type AttemptOutcome, type AttemptTask } from "./dbos-attempt";
import {
  loadOnWorker,
  recordInStep,
  throwIfCancelled,
  untilCancelled,
  type Loaded,
  type WorkerContext,
} from "./dbos-record";
import type { RunSpec } from "./executor";
import { CHILD_RUNS_QUEUE } from "./dbos-schema";
import { recordCancelled, recordChildrenCancelled } from "./dbos-submit";

/**
 * The attempt and run workflows as registered (a child run is a run workflow of its own), and the
 * queue an attempt of a provider goes to.
 */
export interface AttemptFlows {
  readonly attempt: (task: AttemptTask) => Promise<AttemptOutcome>;
  readonly run: (spec: RunSpec) => Promise<Executed>;
  /** Sleeps durably for the milliseconds given: a workflow step's time limit. */
  readonly timer: (ms: number) => Promise<number>;
  queueOf(limit: number | undefined, provider: string | undefined): Promise<string>;
}

/** How a run ended; a parent run takes its child's end from it (masked like the record). */
export interface Executed extends ChildEnd {
  readonly runId: string;
  readonly status: RunStatus;
  readonly startedAt?: string;
  readonly outputs?: Record<string, unknown> | null;
}

export async function executeDistributed(
  w: WorkerContext,
  flows: AttemptFlows,
  spec: RunSpec,
): Promise<Executed> {
  return new DistributedRun(w, flows, spec).run();
}

interface Begun {
  readonly startedAt: string;
  readonly sourceHash: string;
  readonly inputsHash: string;
}

/** A unit under way (docs/dev/scopes.md): a step, an item of a map, an iteration of a repeat. */
interface Unit {
  /** Its unit key: `summarize`, `summarize[doc-17]`, `refine#2`. */
  readonly key: string;
  readonly stepId: string;
  /** The step as this unit runs it (an iteration after the first takes `repeat.with`). */
  readonly step: Step;
  /** What its expressions see. */
  readonly scope: ExprScope;
  /** What its scope adds to the step's (an item's `item` and `index`), for its attempts. */
  readonly names: Record<string, unknown> | null;
  /** Takes the unit's end, once its state has ended: what follows it. */
  readonly then: () => Promise<void>;
  /** An agent's model call or tool call: what its attempts are. */
  readonly agent?: AgentPart;
}

/** An agent step under way (core/runner/agent-loop.ts): its loop and the turn's calls. */
interface AgentRun {
  readonly unit: Unit;
  readonly loop: AgentLoop;
  /** The step its model calls run as. */
  readonly modelStep: Step;
  /** The recorded input of the last turn, and how many messages it had after the prompt's. */
  previousRef: string | null;
  kept: number;
  /** The calls of the turn, the next to start, and those started and not ended. */
  calls: PlannedCall[];
  next: number;
  inFlight: number;
}

/** A `for_each` step under way: its items, and those started, running and failed. */
interface MapRun {
  readonly unit: Unit;
  readonly items: readonly Item[];
  readonly concurrency: number;
  readonly limit: number;
  next: number;
  inFlight: number;
  readonly failed: Item[];
  stopped: boolean;
}

/** A `repeat` under way: the unit that repeats and its iterations' outputs so far. */
interface Loop {
  readonly unit: Unit;
  readonly step: WorkflowStep;
  readonly repeat: Repeat;
  readonly outputs: unknown[];
}

/** A workflow step's attempt whose child run is under way. */
interface ChildAttempt {
  readonly attempt: number;
  readonly tries: number;
  readonly startedAt: string;
  readonly inputHash: string;
  readonly prepared: PreparedStep;
  readonly uses: string;
  readonly childRun: string;
  readonly key: string | null;
  /** The step's time limit, and the id of the timer workflow that bounds the child by it. */
  readonly timeout: { readonly text: string; readonly timer: string } | null;
}

/** A DBOS workflow this run waits for: an attempt's, or a child run's. */
type Running =
  | {
      readonly kind: "attempt";
      readonly handle: WorkflowHandle<AttemptOutcome>;
      readonly unit: Unit;
      readonly task: AttemptTask;
    }
  | {
      readonly kind: "child";
      readonly handle: WorkflowHandle<Executed>;
      readonly unit: Unit;
      readonly child: ChildAttempt;
    }
  | { readonly kind: "timer"; readonly handle: WorkflowHandle<number>; readonly childRun: string };

class DistributedRun implements ScopeSource {
  readonly graph: StepGraph;
  /** The steps' own states: what the run's end and the dependents' expressions read. */
  readonly states = new Map<string, StepState>();
  /** Every unit's state by its key: the steps' own (the same objects), items and iterations. */
  private readonly units = new Map<string, StepState>();
  /** The workflows of attempts and child runs under way, by workflow id. */
  private readonly running = new Map<string, Running>();
  /** A map step's dependencies as its items' attempts see them, recorded once: their reference. */
  private readonly viewRefs = new Map<string, string>();
  /** The recorded input of an agent's model call that succeeded, by its unit key. */
  private readonly turnInputs = new Map<string, string>();
  /** Units that have ended, whose ends are to be taken, in order. */
  private readonly ended: Unit[] = [];
  context!: RunContext;
  private readonly recorder: Recorder;
  private readonly redactor: Redactor;
  private readonly outcomes: Outcomes;
  private readonly loaded: Loaded;
  private readonly secrets: Record<string, string>;
  private begun!: Begun;

  constructor(
    private readonly w: WorkerContext,
    private readonly flows: AttemptFlows,
    private readonly spec: RunSpec,
  ) {
    this.loaded = loadOnWorker(spec.workflowPath, spec.source);
    this.graph = this.loaded.graph;
    this.secrets = availableSecrets(w, this.loaded.secretNames);
    this.redactor = new Redactor(this.secrets);
    this.recorder = new Recorder(w.store, spec.runId, this.redactor, 0, undefined, false);
    this.outcomes = new Outcomes(
      spec.runId,
      this.recorder,
      this.units,
      this.loaded.effects,
      w.store,
      this.loaded.workflow,
    );
    for (const id of this.graph.ids) {
      const state = pendingState();
      this.states.set(id, state);
      this.units.set(id, state);
    }
  }

  cancelled(): boolean {
    // A cancel stops this workflow at its next DBOS call (DbosExecutor.cancel): nothing runs
    // after it.
    return false;
  }

  async run(): Promise<Executed> {
    const { spec, recorder } = this;
    // A retried child run waits its backoff here, durably.
    if (spec.delayMs) await DBOS.sleep(spec.delayMs);
    this.begun = await recordInStep(this.w, recorder, "keel.begin", () => {
      const startedAt = isoNow();
      const begun = {
        startedAt,
        sourceHash: recorder.textBlob(spec.source),
        inputsHash: recorder.blob(spec.inputs),
      };
      recorder.run(this.runRecord("running", begun));
      recorder.event("run_started", null, null, startedAt, {
        inputs: spec.inputs,
        env: spec.env ?? {},
      });
      return begun;
    });
    this.context = {
      inputs: spec.inputs,
      run: { id: spec.runId, started_at: this.begun.startedAt },
      env: spec.env ?? {},
      secrets: this.secrets,
    };
    await this.schedule();
    const end = await recordInStep(this.w, recorder, "keel.finish", async () => {
      const e = await recordEnd({
        recorder,
        states: this.states,
        store: this.w.store,
        workflow: this.loaded.workflow,
        workflowPath: this.loaded.path,
        runId: spec.runId,
        cancelled: false,
        context: this.context,
        now: isoNow,
        runRecord: (status, ended) => this.runRecord(status, this.begun, ended),
      });
      // DBOS keeps the answer in its tables: masked, as the record has it.
      return { status: e.status, error: e.error, outputs: this.redactor.value(e.outputs) };
    });
    return {
      runId: spec.runId,
      startedAt: this.begun.startedAt,
      ...end,
      failed: this.failedStep(),
    };
  }

  /** The first step that failed the run (in the graph's order, as a local run's summary lists). */
  private failedStep(): Executed["failed"] {
    for (const id of this.graph.ids) {
      const s = this.states.get(id)!;
      if (s.status === "failed" && !s.continued && s.error)
        return { id, kind: s.error.kind, message: this.redactor.text(s.error.message) };
    }
    return null;
  }

  private runRecord(
    status: RunStatus,
    begun: Begun,
    end?: { endedAt: string; outputsHash: string | null; error: string | null },
  ): RunRecord {
    return {
      id: this.spec.runId,
      workflowPath: this.loaded.path,
      workflowName: this.loaded.workflow.name,
      sourceHash: begun.sourceHash,
      inputsHash: begun.inputsHash,
      status,
      mode: "run",
      parentId: this.spec.parent?.runId ?? null,
      parentScope: this.spec.parent?.scope ?? null,
      startedAt: begun.startedAt,
      endedAt: end?.endedAt ?? null,
      outputsHash: end?.outputsHash ?? null,
      error: end?.error ?? null,
      // No one process owns a distributed run: DBOS knows which workers execute its parts.
      ownerPid: null,
      heartbeatAt: null,
    };
  }

  /**
   * Starts ready steps in a stable order, up to the run's concurrency, takes the ends of units in
   * the order they ended, and the ends of attempts and child runs one at a time, in the order DBOS
   * checkpointed them.
   */
  private async schedule(): Promise<void> {
    const { graph } = this;
    const limit = this.spec.concurrency ?? 16;
    const index = new Map(graph.order.map((id, i) => [id, i]));
    const remaining = new Map(graph.order.map((id) => [id, graph.deps.get(id)!.length]));
    const ready = graph.order.filter((id) => remaining.get(id) === 0);
    // Steps started and not ended: a map counts once, however many items it runs.
    let active = 0;
    const end = (id: string) => {
      active--;
      const next: string[] = [];
      for (const d of graph.dependents.get(id)!) {
        const left = remaining.get(d)! - 1;
        remaining.set(d, left);
        if (left === 0) next.push(d);
      }
      ready.push(...next.sort((a, b) => index.get(a)! - index.get(b)!));
    };
    for (;;) {
      while (ready.length > 0 && active < limit) {
        const id = ready.shift()!;
        active++;
        await this.begin(id, async () => end(id));
      }
      const ended = this.ended.shift();
      if (ended) {
        await ended.then();
        continue;
      }
      if (this.running.size === 0) return;
      const first = await DBOS.waitFirst(
        [...this.running.values()].map((r) => r.handle as WorkflowHandle<unknown>),
        { pollingIntervalMs: this.w.pollMs },
      );
      const done = this.running.get(first.workflowID)!;
      this.running.delete(first.workflowID);
      if (done.kind === "attempt") await this.attemptEnded(done.unit, done.task, done.handle);
      else if (done.kind === "child") await this.childEnded(done.unit, done.child, done.handle);
      else await this.timedOut(done.childRun);
    }
  }

  /** The result of an attempt's or child run's workflow; a cancel ends this run here. */
  private async resultOf<T>(
    handle: WorkflowHandle<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; message: string }> {
    try {
      return { ok: true, value: await handle.getResult() };
    } catch (e) {
      if (
        e instanceof DBOSErrors.DBOSWorkflowCancelledError ||
        e instanceof DBOSErrors.DBOSAwaitedWorkflowCancelledError
      ) {
        throw e;
      }
      return { ok: false, message: (e as Error).message };
    }
  }

  /** Takes an attempt's end: the next attempt starts, or the unit has ended. */
  private async attemptEnded(
    unit: Unit,
    task: AttemptTask,
    handle: WorkflowHandle<AttemptOutcome>,
  ): Promise<void> {
    const result = await this.resultOf(handle);
    // Any failure of the attempt's workflow other than a cancel is its unit's.
    const outcome: AttemptOutcome = result.ok
      ? result.value
      : {
          status: "failed",
          error: {
            kind: "tool_error",
            message: `the attempt's workflow failed: ${result.message}`,
          },
          unrecorded: true,
        };
    const next = this.settle(unit.key, task, outcome);
    if (next) await this.dispatch(unit, next);
    else this.ended.push(unit);
  }

  /**
   * Decides whether step `id` runs and records it, then starts it: its first attempt, its items
   * or its iterations; `then` takes its end. A step that does not run, or runs here, has ended
   * when this returns.
   */
  private async begin(id: string, then: () => Promise<void>): Promise<void> {
    const step = this.loaded.workflow.steps[id] as Step;
    const state = this.states.get(id)!;
    const scope = scopeFor(this, id);
    const unit: Unit = { key: id, stepId: id, step, scope, names: null, then };
    let runs: boolean;
    try {
      // Its `if` stops at a cancel, as a local run's does; nothing is decided from that stop.
      runs = await untilCancelled((signal) => shouldRun(this, id, step, { ...scope, signal }));
    } catch (e) {
      throwIfCancelled(e);
      this.outcomes.fail(id, asStepError(e, "expression"), 0);
      this.ended.push(unit);
      return;
    }
    if (!runs) {
      state.status = "skipped";
      this.recorder.event("step_skipped", id, null, isoNow());
      this.ended.push(unit);
      return;
    }
    state.status = "running";
    state.startedMs = Date.now();
    this.recorder.event("step_started", id, null, isoNow());
    if (step.for_each !== undefined) await this.beginMap(unit);
    else await this.startUnit(unit);
  }

  /** A unit that has started (a step, an item): its iterations when it repeats, else its attempts. */
  private async startUnit(unit: Unit): Promise<void> {
    const { step } = unit;
    if (step.type === "workflow" && step.repeat) {
      await this.iterate({ unit, step, repeat: step.repeat, outputs: [] }, 1);
    } else if (step.type === "agent") await this.startAgent(unit, step);
    else await this.startAttempts(unit);
  }

  /**
   * A unit's first attempt: a pure one here, in the workflow (it has ended on return), a workflow
   * step's as a child run, any other as an attempt's workflow on its provider's queue.
   */
  private async startAttempts(unit: Unit): Promise<void> {
    const { step } = unit;
    if ((step.type === "transform" || step.type === "assert") && !step.cache && !step.snapshot) {
      await this.inline(unit);
      this.ended.push(unit);
      return;
    }
    if (step.type === "workflow") {
      await this.startChild(unit, step, this.units.get(unit.key)!.attempts + 1, 1, 0);
      return;
    }
    const state = this.units.get(unit.key)!;
    const provider =
      step.type === "llm" || step.type === "embed"
        ? providerOf(step, this.loaded.workflow)
        : undefined;
    // An item's task names its step's dependencies by reference, recorded once per step: in the
    // task itself they would be copied into DBOS's tables once per item.
    const item = splitUnit(unit.key).scope !== null;
    let stepsRef: string | undefined;
    if (item) {
      stepsRef = this.viewRefs.get(unit.stepId);
      if (stepsRef === undefined) {
        stepsRef = this.recorder.blob(dependencyViews(this, unit.stepId));
        this.viewRefs.set(unit.stepId, stepsRef);
      }
    }
    await this.dispatch(unit, {
      runId: this.spec.runId,
      stepId: unit.stepId,
      scope: splitUnit(unit.key).scope,
      names: unit.names && this.redactor.value(unit.names),
      attempt: state.attempts + 1,
      tries: 1,
      provider: provider ?? null,
      fallback: false,
      delayMs: 0,
      workflowPath: this.loaded.path,
      sourceHash: this.begun.sourceHash,
      context: { inputs: this.context.inputs, run: this.context.run, env: this.context.env },
      steps: item ? {} : this.redactor.value(dependencyViews(this, unit.stepId)),
      stepsRef,
      success: (unit.scope.bindings!.success as () => boolean)(),
      failure: (unit.scope.bindings!.failure as () => boolean)(),
      noCache: this.spec.noCache === true,
      startedMs: state.startedMs,
      ...(unit.agent ? { agent: unit.agent } : {}),
    });
  }

  /** Records what is pending, then starts the attempt on its provider's queue. */
  private async dispatch(unit: Unit, task: AttemptTask): Promise<void> {
    // Whether anything waits to be recorded is itself decided alike on every execution.
    if (this.recorder.holding) await recordInStep(this.w, this.recorder, "keel.record", () => null);
    const provider = task.provider ?? undefined;
    const limit = provider ? this.loaded.workflow.providers?.[provider]?.concurrency : undefined;
    const queueName = await this.flows.queueOf(limit, provider);
    const handle = await DBOS.startWorkflow(this.flows.attempt, {
      workflowID: `${task.runId}:${unit.key}:${task.attempt}`,
      queueName,
    })(task);
    this.running.set(handle.workflowID, { kind: "attempt", handle, unit, task });
  }

  /** Takes an attempt's end into its unit's state; returns the next attempt's task, if any. */
  private settle(key: string, task: AttemptTask, outcome: AttemptOutcome): AttemptTask | undefined {
    const state = this.units.get(key)!;
    state.attempts = task.attempt;
    if (outcome.status === "succeeded") {
      if (task.agent?.kind === "turn" && outcome.inputHash !== undefined)
        this.turnInputs.set(key, outcome.inputHash);
      Object.assign(state, {
        status: "succeeded",
        origin: outcome.origin ?? "live",
        output: outcome.output ?? null,
        snapshot: outcome.snapshot ?? undefined,
        meta: outcome.meta ?? null,
        endedMs: Date.now(),
      });
      return undefined;
    }
    if (outcome.unrecorded) {
      const err = new StepError(outcome.error!.kind, outcome.error!.message);
      this.outcomes.attemptFailed(key, task.attempt, err, { next: null });
      this.outcomes.fail(key, err, task.attempt);
      return undefined;
    }
    const after = outcome.after ?? { next: null };
    if (after.next === "retry") {
      return { ...task, attempt: task.attempt + 1, tries: task.tries + 1, delayMs: after.delayMs };
    }
    if (after.next === "fallback") {
      return {
        ...task,
        attempt: task.attempt + 1,
        tries: 1,
        provider: after.provider,
        fallback: true,
        delayMs: 0,
      };
    }
    // The attempt recorded the unit's end; this run takes it into the unit's state.
    this.outcomes.failed(key, outcome.error ?? { kind: "tool_error", message: "failed" });
    return undefined;
  }

  /**
   * A `for_each` step: its list and keys, evaluated here (they are pure), checked by the map's
   * rules (core/runner/map.ts) before any item starts, then its items in list order, each a unit
   * of its own (`id[key]`), up to the step's `concurrency` at once.
   */
  private async beginMap(unit: Unit): Promise<void> {
    const { key: id, step, scope } = unit;
    let items: Item[];
    let list: unknown[];
    try {
      [list, items] = await untilCancelled(async (signal) => {
        const bounded = { ...scope, signal };
        const l = itemList(id, step, toJson(await evaluateBare(step.for_each!, bounded)));
        const keys: unknown[] = [];
        for (let index = 0; index < l.length; index++) {
          keys.push(
            step.key === undefined
              ? index
              : toJson(await evaluateBare(step.key, withNames(bounded, { item: l[index], index }))),
          );
        }
        return [l, itemsOf(id, l, keys, (k) => this.redactor.text(k))] as const;
      });
    } catch (e) {
      throwIfCancelled(e);
      this.outcomes.fail(id, asStepError(e, "expression"), 0);
      this.ended.push(unit);
      return;
    }
    const concurrency = step.concurrency ?? DEFAULT_ITEM_CONCURRENCY;
    this.outcomes.event("expanded", id, null, isoNow(), {
      count: items.length,
      keys: items.map((i) => i.key),
      list: this.recorder.blob(list),
      concurrency,
    });
    for (const item of items) this.units.set(item.unit, pendingState());
    const map: MapRun = {
      unit,
      items,
      concurrency,
      limit: failureLimit(step, items.length),
      next: 0,
      inFlight: 0,
      failed: [],
      stopped: false,
    };
    await this.startItems(map);
  }

  /** Starts the map's next items, up to its concurrency; ends the map once none is left to run. */
  private async startItems(map: MapRun): Promise<void> {
    const { unit } = map;
    while (!map.stopped && map.next < map.items.length && map.inFlight < map.concurrency) {
      const item = map.items[map.next++]!;
      const state = this.units.get(item.unit)!;
      state.status = "running";
      state.startedMs = Date.now();
      this.outcomes.event("step_started", item.unit, null, isoNow());
      map.inFlight++;
      const names = { item: item.value, index: item.index };
      await this.startUnit({
        key: item.unit,
        stepId: unit.stepId,
        step: unit.step,
        scope: withNames(unit.scope, names),
        names,
        then: () => this.itemEnded(map, item),
      });
    }
    if (map.inFlight === 0) this.endMap(map);
  }

  /** Takes an item's end: a failure counts; once more failed than the step allows, none starts. */
  private async itemEnded(map: MapRun, item: Item): Promise<void> {
    map.inFlight--;
    if (this.units.get(item.unit)!.status === "failed") {
      map.failed.push(item);
      if (map.failed.length > map.limit) map.stopped = true;
    }
    await this.startItems(map);
  }

  /** Ends a map whose items ended: those never started are cancelled, the output assembled. */
  private endMap(map: MapRun): void {
    const { unit, items, failed } = map;
    const id = unit.key;
    for (const item of items) {
      const state = this.units.get(item.unit)!;
      if (state.status !== "pending") continue;
      state.status = "cancelled";
      this.outcomes.event("step_cancelled", item.unit, null, isoNow());
    }
    const { output, views } = assemble(unit.step, items, this.units);
    failed.sort((a, b) => a.index - b.index);
    // `steps.<id>.items` holds whether the map succeeded or not.
    this.states.get(id)!.items = views;
    if (failed.length > map.limit)
      this.outcomes.fail(id, itemsError(id, failed, this.units, items.length), 0);
    else this.outcomes.mapped(id, output);
    this.ended.push(unit);
  }

  /**
   * Starts iteration n of a `repeat`: the unit `<unit>#n`, a child run with its own attempts,
   * which sees `iteration` and `previous.output` (core/runner/repeat.ts).
   */
  private async iterate(loop: Loop, n: number): Promise<void> {
    const key = `${loop.unit.key}#${n}`;
    this.startScope(key);
    const names = iterationNames(n, loop.outputs);
    await this.startAttempts({
      key,
      stepId: loop.unit.stepId,
      step: iterationStep(loop.step, loop.repeat, n),
      scope: withNames(loop.unit.scope, names),
      names: { ...loop.unit.names, ...names },
      then: () => this.iterationEnded(loop, n),
    });
  }

  /** Takes iteration n's end: `until` says whether the loop ends, else the next one starts. */
  private async iterationEnded(loop: Loop, n: number): Promise<void> {
    const { unit, repeat } = loop;
    const state = this.units.get(`${unit.key}#${n}`)!;
    if (state.status !== "succeeded") {
      this.outcomes.fail(unit.key, iterationError(n, state), 0);
      this.ended.push(unit);
      return;
    }
    loop.outputs.push(state.output);
    if (repeat.until !== undefined) {
      let done: unknown;
      try {
        done = await untilCancelled((signal) =>
          evaluateBare(
            repeat.until!,
            withNames({ ...unit.scope, signal }, { output: state.output, iteration: n }),
          ),
        );
      } catch (e) {
        throwIfCancelled(e);
        this.outcomes.fail(unit.key, asStepError(e, "expression"), 0);
        this.ended.push(unit);
        return;
      }
      if (done === true) {
        this.outcomes.repeated(unit.key, loop.outputs);
        this.ended.push(unit);
        return;
      }
    }
    if (n < repeat.max) {
      await this.iterate(loop, n + 1);
      return;
    }
    if (repeat.until === undefined || repeat.on_max === "last") {
      this.outcomes.repeated(unit.key, loop.outputs);
    } else {
      this.units.get(unit.key)!.iterations = loop.outputs;
      this.outcomes.fail(unit.key, untilNeverHeld(repeat), 0);
    }
    this.ended.push(unit);
  }

  /**
   * An agent step (docs/dev/agents.md): its loop's rules are agent-loop.ts's; each model call is
   * the unit `<unit>#t`, an attempt on its provider's queue, and each tool call the unit
   * `<unit>#t/<tool>.<i>`, an attempt on the queue its kind uses (a workflow tool's, a child run).
   */
  private async startAgent(unit: Unit, step: AgentStep): Promise<void> {
    let loop: AgentLoop;
    try {
      loop = new AgentLoop(step, toolSpecs(step, this.loaded.path));
    } catch (e) {
      const own = this.units.get(unit.key)!;
      own.turns = [];
      own.stopReason = "error";
      this.outcomes.agentFailed(unit.key, asStepError(e, "config"), [], "error");
      this.ended.push(unit);
      return;
    }
    const modelStep = modelCallStep(step, this.loaded.workflow.defaults?.agent);
    const run: AgentRun = {
      unit,
      loop,
      modelStep,
      previousRef: null,
      kept: 0,
      calls: [],
      next: 0,
      inFlight: 0,
    };
    await this.startTurn(run);
  }

  /** Starts the agent's next model call, with the messages appended since the one before. */
  private async startTurn(run: AgentRun): Promise<void> {
    const { turn, final, appended } = run.loop.next();
    const key = `${run.unit.key}#${turn}`;
    const agent: AgentPart = {
      kind: "turn",
      turn,
      final,
      previousRef: run.previousRef,
      kept: run.kept,
      // Masked like every value that crosses DBOS's tables.
      added: this.redactor.value(appended.slice(run.kept)),
    };
    run.kept = appended.length;
    this.startScope(key);
    await this.startAttempts({
      ...run.unit,
      key,
      step: run.modelStep,
      agent,
      then: () => this.turnEnded(run, turn, key),
    });
  }

  /** A unit of a step (an iteration, an agent's model call or tool call) starts: its state and `step_started`. */
  private startScope(key: string): void {
    const state = pendingState();
    state.status = "running";
    state.startedMs = Date.now();
    this.units.set(key, state);
    this.outcomes.event("step_started", key, null, isoNow());
  }

  /** Takes a model call's end: the agent's answer or failure, or the tool calls it asked for. */
  private async turnEnded(run: AgentRun, turn: number, key: string): Promise<void> {
    const { unit, loop } = run;
    const own = this.units.get(unit.key)!;
    const state = this.units.get(key)!;
    if (state.status !== "succeeded") {
      const reason = state.status === "cancelled" ? "cancelled" : "error";
      loop.end(own, reason);
      this.outcomes.agentFailed(unit.key, scopedError(`turn ${turn}`, state), loop.turns, reason);
      this.ended.push(unit);
      return;
    }
    run.previousRef = this.turnInputs.get(key) ?? null;
    const after = loop.turnEnded(state);
    if (after.end !== undefined) {
      loop.end(own, after.reason);
      if (after.end === "answer")
        this.outcomes.answered(unit.key, after.output, loop.turns, after.reason);
      else this.outcomes.agentFailed(unit.key, after.error, loop.turns, after.reason);
      this.ended.push(unit);
      return;
    }
    Object.assign(run, { calls: after.calls, next: 0, inFlight: 0 });
    await this.startCalls(run);
  }

  /**
   * Starts the turn's next tool calls in call order: all at once with `parallel_tool_calls: true`,
   * else one after the other. A refused call ends as it starts. Once every call ended, the
   * results are appended and the next turn starts, unless a failed call fails the agent.
   */
  private async startCalls(run: AgentRun): Promise<void> {
    const { unit, loop } = run;
    const parallel = loop.step.parallel_tool_calls === true;
    while (run.next < run.calls.length && (parallel || run.inFlight === 0)) {
      const call = run.calls[run.next++]!;
      const key = unit.key + call.scope;
      this.startScope(key);
      if (call.refused !== undefined) {
        this.outcomes.fail(key, new StepError("invalid_arguments", call.refused), 0);
        continue;
      }
      run.inFlight++;
      const names = { ...unit.names, args: call.args };
      await this.startAttempts({
        key,
        stepId: unit.stepId,
        step: call.step,
        scope: withNames(unit.scope, { args: call.args }),
        names,
        agent: { kind: "tool", tool: call.name },
        then: async () => {
          run.inFlight--;
          loop.callEnded(call.index, call.args, this.units.get(key)!);
          await this.startCalls(run);
        },
      });
    }
    if (run.inFlight > 0 || run.next < run.calls.length) return;
    const failed = loop.callsEnded();
    if (failed) {
      loop.end(this.units.get(unit.key)!, "tool_error");
      this.outcomes.agentFailed(unit.key, failed, loop.turns, "tool_error");
      this.ended.push(unit);
      return;
    }
    await this.startTurn(run);
  }

  /**
   * A workflow step's attempt: its `with` evaluated here, the child's file (submitted with the
   * run) checked, then the child run started as a `keel_run` workflow of its own, on the child
   * runs' queue, with its id and `child_started` taken in one checkpoint, so a re-execution
   * finds the same child. A cache entry, when the step has a cache, answers instead.
   */
  private async startChild(
    unit: Unit,
    step: WorkflowStep,
    attempt: number,
    tries: number,
    delayMs: number,
  ): Promise<void> {
    const wf = this.loaded.workflow;
    this.units.get(unit.key)!.attempts = attempt;
    const startedAt = isoNow();
    let prepared: PreparedStep;
    try {
      prepared = await untilCancelled((signal) =>
        prepareStep(step, { ...unit.scope, signal }, { workflow: wf, dir: this.loaded.dir }),
      );
    } catch (e) {
      throwIfCancelled(e);
      await this.childFailed(unit, step, attempt, tries, asStepError(e, "expression"));
      return;
    }
    const inputHash = this.recorder.blob(prepared.input);
    const call: ChildCall = {
      uses: step.uses,
      inputs: (prepared.input as { with: Record<string, unknown> }).with,
    };
    let spec: RunSpec;
    try {
      spec = this.childSpec(unit, call);
    } catch (e) {
      const err = asStepError(e);
      this.outcomes.failedAttempt(unit.key, attempt, startedAt, inputHash, err, undefined);
      await this.childFailed(unit, step, attempt, tries, err);
      return;
    }
    const cache = cachePolicy(step, wf);
    const key = cache.enabled
      ? cacheKey(step, inputHash, wf, undefined, this.loaded.dir, this.secrets)
      : null;
    // Taken once, in the checkpoint that records what is pending before the child starts.
    const taken = await recordInStep(this.w, this.recorder, "keel.child", async () => {
      const hit =
        key && !this.spec.noCache ? await lookupCache(this.w.store, key, startedAt) : undefined;
      if (hit) return { hit, childRun: null };
      const childRun = newRunId();
      this.outcomes.event("child_started", unit.key, attempt, isoNow(), {
        childRun,
        uses: call.uses,
        source: this.recorder.textBlob(spec.source),
      });
      return { hit: null as CacheHit | null, childRun };
    });
    if (taken.hit) {
      this.outcomes.cached(unit.key, attempt, startedAt, inputHash, key!, taken.hit);
      this.ended.push(unit);
      return;
    }
    const childRun = taken.childRun!;
    const handle = await DBOS.startWorkflow(this.flows.run, {
      workflowID: childRun,
      queueName: CHILD_RUNS_QUEUE,
    })({ ...spec, runId: childRun, delayMs });
    // The step's time limit bounds the whole child run, from its start (after its backoff).
    const limit = stepTimeout(step, wf, undefined);
    let timeout: ChildAttempt["timeout"] = null;
    if (limit !== undefined) {
      const timer = await DBOS.startWorkflow(this.flows.timer, {
        workflowID: `${childRun}:timeout`,
      })(delayMs + durationMs(limit));
      this.running.set(timer.workflowID, { kind: "timer", handle: timer, childRun });
      timeout = { text: limit, timer: timer.workflowID };
    }
    this.running.set(childRun, {
      kind: "child",
      handle,
      unit,
      child: {
        attempt,
        tries,
        startedAt,
        inputHash,
        prepared,
        uses: call.uses,
        childRun,
        key,
        timeout,
      },
    });
  }

  /**
   * A child run's time limit passed before it ended: it is cancelled (its workflow and its
   * record, as a local run's child is at its parent's time limit), and the attempt fails as a
   * `timeout`, as locally.
   */
  private async timedOut(childRun: string): Promise<void> {
    const running = this.running.get(childRun);
    // The child ended first: its end was taken, and its timer cancelled.
    if (running?.kind !== "child") return;
    const { unit, child } = running;
    // The child's record ends here unless it has ended already: then its end is taken as it
    // comes, as if it had come first.
    const cancelled = await recordInStep(this.w, this.recorder, "keel.timeout", async () => {
      const now = await recordCancelled(this.w.store, childRun);
      if (now) await recordChildrenCancelled(this.w.store, childRun);
      return now;
    });
    if (!cancelled) return;
    this.running.delete(childRun);
    await DBOS.cancelWorkflow(childRun, { cancelChildren: true });
    this.outcomes.event("child_finished", unit.key, child.attempt, isoNow(), {
      childRun,
      status: "cancelled",
    });
    const err = new StepError("timeout", `no answer within ${child.timeout!.text}`);
    this.outcomes.failedAttempt(
      unit.key,
      child.attempt,
      child.startedAt,
      child.inputHash,
      err,
      undefined,
    );
    await this.childFailed(unit, unit.step as WorkflowStep, child.attempt, child.tries, err);
  }

  /** The child's run as submitted: its file's text, its inputs checked, one level deeper. */
  private childSpec(unit: Unit, call: ChildCall): RunSpec {
    const depth = (this.spec.parent?.depth ?? 0) + 1;
    const deep = depthError(call.uses, depth);
    if (deep) throw deep;
    const path = resolve(this.loaded.dir, call.uses);
    const file = this.spec.children?.[path];
    if (!file)
      throw new StepError(
        "config",
        `the child workflow ${call.uses} (${path}) was not submitted with the run: submit it with keel run --on, which sends the child workflows' files with it`,
      );
    let child: Loaded;
    try {
      child = loadOnWorker(path, file.source);
    } catch (e) {
      throw new StepError(
        "config",
        `the child workflow ${call.uses} does not load on worker ${this.w.id}: ${(e as Error).message}`,
      );
    }
    return {
      runId: "",
      workflowPath: path,
      source: file.source,
      // It crosses DBOS's tables: masked like the record.
      inputs: this.redactor.value(childInputs(child, call)),
      env: file.env,
      concurrency: this.spec.concurrency,
      noCache: this.spec.noCache,
      children: this.spec.children,
      parent: { runId: this.spec.runId, scope: unit.key, depth },
    };
  }

  /** Takes a child run's end: `child_finished`, then the attempt's success or failure. */
  private async childEnded(
    unit: Unit,
    child: ChildAttempt,
    handle: WorkflowHandle<Executed>,
  ): Promise<void> {
    const step = unit.step as WorkflowStep;
    // Its time limit no longer matters.
    if (child.timeout && this.running.delete(child.timeout.timer))
      await DBOS.cancelWorkflow(child.timeout.timer);
    const result = await this.resultOf(handle);
    const end: Executed = result.ok
      ? result.value
      : {
          runId: child.childRun,
          status: "failed",
          error: `its workflow failed: ${result.message}`,
        };
    const { attempt, inputHash } = child;
    this.outcomes.event("child_finished", unit.key, attempt, isoNow(), {
      childRun: child.childRun,
      status: end.status,
    });
    let err: StepError;
    if (end.status === "succeeded") {
      const output: StepOutput = { value: end.outputs ?? {} };
      try {
        checkOutput(step.type, step.output?.schema, output.value);
        const snapshot = await untilCancelled((signal) =>
          snapshotOf(step, { ...unit.scope, signal }, output.value),
        );
        const startedAt = end.startedAt ?? child.startedAt;
        this.outcomes.succeed(
          unit.key,
          attempt,
          startedAt,
          inputHash,
          output,
          child.prepared,
          snapshot,
          child.key,
        );
        if (child.key)
          this.outcomes.cacheEntry(
            child.key,
            unit.key,
            output.value,
            cachePolicy(step, this.loaded.workflow).ttlMs,
          );
        this.ended.push(unit);
        return;
      } catch (e) {
        throwIfCancelled(e);
        err = asStepError(e);
      }
    } else err = childError(child.childRun, child.uses, end);
    this.outcomes.failedAttempt(unit.key, attempt, child.startedAt, inputHash, err, undefined);
    await this.childFailed(unit, step, attempt, child.tries, err);
  }

  /** After a workflow step's failed attempt: another child run after the backoff, or the end. */
  private async childFailed(
    unit: Unit,
    step: WorkflowStep,
    attempt: number,
    tries: number,
    err: StepError,
  ): Promise<void> {
    const wf = this.loaded.workflow;
    const after = afterFailure(wf, undefined, stepRetryPolicy(step, wf), tries, err, false);
    this.outcomes.attemptFailed(unit.key, attempt, err, after);
    if (after.next === "retry") {
      await this.startChild(unit, step, attempt + 1, tries + 1, after.delayMs);
      return;
    }
    this.outcomes.fail(unit.key, err, attempt);
    this.ended.push(unit);
  }

  /**
   * A pure unit's attempts, here in the workflow: they compute the same on every execution. With
   * a time limit (its own `timeout` or `defaults.timeout`), each is evaluated in a checkpointed
   * step; without one, in the body, until the workflow is cancelled.
   */
  private async inline(unit: Unit): Promise<void> {
    const { key: id, step, scope } = unit;
    const state = this.units.get(id)!;
    const wf = this.loaded.workflow;
    const policy = stepRetryPolicy(step, wf);
    const timeout = stepTimeout(step, wf, undefined);
    for (let tries = 1; ; tries++) {
      const attempt = ++state.attempts;
      const startedAt = isoNow();
      let err: StepError;
      try {
        const prepared = await prepareStep(step, scope, { workflow: wf, dir: this.loaded.dir });
        const inputHash = this.recorder.blob(prepared.input);
        try {
          const output =
            timeout === undefined
              ? await untilCancelled((signal) => this.evaluate(step, prepared, signal))
              : await this.evaluateInStep(step, prepared, timeout);
          this.outcomes.succeed(
            id,
            attempt,
            startedAt,
            inputHash,
            output,
            prepared,
            undefined,
            null,
          );
          return;
        } catch (e) {
          throwIfCancelled(e);
          err = asStepError(e);
          this.outcomes.failedAttempt(id, attempt, startedAt, inputHash, err, undefined);
        }
      } catch (e) {
        throwIfCancelled(e);
        err = asStepError(e, "expression");
      }
      const after = afterFailure(wf, undefined, policy, tries, err, false);
      this.outcomes.attemptFailed(id, attempt, err, after);
      if (after.next !== "retry") {
        this.outcomes.fail(id, err, attempt);
        return;
      }
      await recordInStep(this.w, this.recorder, "keel.record", () => null);
      await DBOS.sleep(after.delayMs);
    }
  }

  /** A pure step's expressions, stopped by `signal`, and its output checked. */
  private async evaluate(
    step: Step,
    prepared: PreparedStep,
    signal: AbortSignal,
  ): Promise<StepOutput> {
    const output = await raceAbort(prepared.execute(this.loaded.effects, signal), signal);
    checkOutput(step.type, step.output?.schema, output.value);
    return output;
  }

  /**
   * Evaluates a pure step with a time limit inside the DBOS step `keel.expression`, as an
   * attempt's workflow executes its effect: whether it ends in time is known to this execution
   * only, so its answer (the value, masked like the record, or the error) is checkpointed once
   * and read back by a re-execution. A cancel ends it with nothing checkpointed: DBOS then ends
   * the workflow as cancelled.
   */
  private async evaluateInStep(
    step: Step,
    prepared: PreparedStep,
    timeout: string,
  ): Promise<StepOutput> {
    const done = await DBOS.runStep(
      async () => {
        try {
          const output = await within(prepared, this.loaded.effects, timeout);
          checkOutput(step.type, step.output?.schema, output.value);
          return { ok: true as const, value: this.redactor.value(output.value) };
        } catch (e) {
          throwIfCancelled(e);
          const err = asStepError(e);
          return { ok: false as const, kind: err.kind, message: this.redactor.text(err.message) };
        }
      },
      { name: "keel.expression", retriesAllowed: false },
    );
    if (!done.ok) throw new StepError(done.kind, done.message);
    return { value: done.value };
  }
}

const isoNow = () => new Date().toISOString();

/** The workflow's secrets this worker has; an attempt on a worker without one fails with why. */
function availableSecrets(w: WorkerContext, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    try {
      Object.assign(out, w.secrets([name]));
    } catch {
      // Missing here: the steps that use it execute where it is, or fail saying so.
    }
  }
  return out;
}
