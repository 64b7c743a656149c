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
import { DBOS, Error as DBOSErrors, type WorkflowHandle } from "@dbos-inc/dbos-sdk";
import type { Step } from "../model/schema";
import type { StepGraph } from "../graph/graph";
import type { RunRecord, RunStatus } from "../record/records";
import { raceAbort } from "../runner/async";
import { asStepError, StepError } from "../runner/errors";
import { checkOutput } from "../runner/output-schema";
import { Outcomes, pendingState } from "../runner/outcomes";
import { afterFailure, stepRetryPolicy, stepTimeout } from "../runner/policy";
import { Recorder } from "../runner/recorder";
import { Redactor } from "../runner/redact";
import { recordEnd } from "../runner/result";
import {
  dependencyViews,
  scopeFor,
  shouldRun,
  type RunContext,
  type ScopeSource,
} from "../runner/scope";
import { prepareStep, providerOf, type PreparedStep, type StepOutput } from "../runner/steps";
import type { StepState } from "../runner/types";
import type { ExprScope } from "../expr/evaluate";
import { within, type AttemptOutcome, type AttemptTask } from "./dbos-attempt";
import {
  loadOnWorker,
  recordInStep,
  throwIfCancelled,
  untilCancelled,
  type Loaded,
  type WorkerContext,
} from "./dbos-record";
import type { RunSpec } from "./executor";

/** The attempt workflow as registered, and the queue an attempt of a provider goes to. */
export interface AttemptFlows {
  readonly attempt: (task: AttemptTask) => Promise<AttemptOutcome>;
  queueOf(limit: number | undefined, provider: string | undefined): Promise<string>;
}

export interface Executed {
  readonly runId: string;
  readonly status: RunStatus;
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

interface Running {
  readonly handle: WorkflowHandle<AttemptOutcome>;
  readonly task: AttemptTask;
}

class DistributedRun implements ScopeSource {
  readonly graph: StepGraph;
  readonly states = new Map<string, StepState>();
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
      this.states,
      this.loaded.effects,
      w.store,
      this.loaded.workflow,
    );
    for (const id of this.graph.ids) {
      this.states.set(id, pendingState());
    }
  }

  cancelled(): boolean {
    // A cancel stops this workflow at its next DBOS call (DbosExecutor.cancel): nothing runs
    // after it.
    return false;
  }

  async run(): Promise<Executed> {
    const { spec, recorder } = this;
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
    const end = await recordInStep(this.w, recorder, "keel.finish", () =>
      recordEnd({
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
      }),
    );
    return { runId: spec.runId, status: end.status };
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
      parentId: null,
      parentScope: null,
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
   * Starts ready steps in a stable order, up to the run's concurrency, and takes the ends of
   * their attempts one at a time, in the order DBOS checkpointed them.
   */
  private async schedule(): Promise<void> {
    const { graph } = this;
    const limit = this.spec.concurrency ?? 16;
    const index = new Map(graph.order.map((id, i) => [id, i]));
    const remaining = new Map(graph.order.map((id) => [id, graph.deps.get(id)!.length]));
    const ready = graph.order.filter((id) => remaining.get(id) === 0);
    const end = (id: string) => {
      const next: string[] = [];
      for (const d of graph.dependents.get(id)!) {
        const left = remaining.get(d)! - 1;
        remaining.set(d, left);
        if (left === 0) next.push(d);
      }
      ready.push(...next.sort((a, b) => index.get(a)! - index.get(b)!));
    };
    const running = new Map<string, Running>();
    for (;;) {
      while (ready.length > 0 && running.size < limit) {
        const id = ready.shift()!;
        const task = await this.begin(id);
        if (task) {
          const r = await this.dispatch(task);
          running.set(r.handle.workflowID, r);
        } else end(id);
      }
      if (running.size === 0) return;
      const first = await DBOS.waitFirst(
        [...running.values()].map((r) => r.handle),
        { pollingIntervalMs: this.w.pollMs },
      );
      const done = running.get(first.workflowID)!;
      running.delete(first.workflowID);
      let outcome: AttemptOutcome;
      try {
        outcome = await done.handle.getResult();
      } catch (e) {
        // A cancel ends the run here; any other failure of the attempt's workflow is its step's.
        if (
          e instanceof DBOSErrors.DBOSWorkflowCancelledError ||
          e instanceof DBOSErrors.DBOSAwaitedWorkflowCancelledError
        ) {
          throw e;
        }
        const message = `the attempt's workflow failed: ${(e as Error).message}`;
        outcome = { status: "failed", error: { kind: "tool_error", message }, unrecorded: true };
      }
      const next = this.settle(done.task, outcome);
      if (next) {
        const r = await this.dispatch(next);
        running.set(r.handle.workflowID, r);
      } else end(done.task.stepId);
    }
  }

  /**
   * Decides whether step `id` runs and records it: a step that does not run, or runs here, has
   * ended when this returns (undefined); otherwise its first attempt's task is returned.
   */
  private async begin(id: string): Promise<AttemptTask | undefined> {
    const step = this.loaded.workflow.steps[id] as Step;
    const state = this.states.get(id)!;
    const scope = scopeFor(this, id);
    let runs: boolean;
    try {
      // Its `if` stops at a cancel, as a local run's does; nothing is decided from that stop.
      runs = await untilCancelled((signal) => shouldRun(this, id, step, { ...scope, signal }));
    } catch (e) {
      throwIfCancelled(e);
      this.outcomes.fail(id, asStepError(e, "expression"), 0);
      return undefined;
    }
    if (!runs) {
      state.status = "skipped";
      this.recorder.event("step_skipped", id, null, isoNow());
      return undefined;
    }
    state.status = "running";
    state.startedMs = Date.now();
    this.recorder.event("step_started", id, null, isoNow());
    if ((step.type === "transform" || step.type === "assert") && !step.cache && !step.snapshot) {
      await this.inline(id, step, scope);
      return undefined;
    }
    const provider = step.type === "llm" ? providerOf(step, this.loaded.workflow) : undefined;
    const deps = dependencyViews(this, id);
    return {
      runId: this.spec.runId,
      stepId: id,
      attempt: state.attempts + 1,
      tries: 1,
      provider: provider ?? null,
      fallback: false,
      delayMs: 0,
      workflowPath: this.loaded.path,
      sourceHash: this.begun.sourceHash,
      context: { inputs: this.context.inputs, run: this.context.run, env: this.context.env },
      steps: this.redactor.value(deps),
      success: (scope.bindings!.success as () => boolean)(),
      failure: (scope.bindings!.failure as () => boolean)(),
      noCache: this.spec.noCache === true,
      startedMs: state.startedMs,
    };
  }

  /** Records what is pending, then starts the attempt on its provider's queue. */
  private async dispatch(task: AttemptTask): Promise<Running> {
    // Whether anything waits to be recorded is itself decided alike on every execution.
    if (this.recorder.holding) await recordInStep(this.w, this.recorder, "keel.record", () => null);
    const provider = task.provider ?? undefined;
    const limit = provider ? this.loaded.workflow.providers?.[provider]?.concurrency : undefined;
    const queueName = await this.flows.queueOf(limit, provider);
    const handle = await DBOS.startWorkflow(this.flows.attempt, {
      workflowID: `${task.runId}:${task.stepId}:${task.attempt}`,
      queueName,
    })(task);
    return { handle, task };
  }

  /** Takes an attempt's end into the step's state; returns the next attempt's task, if any. */
  private settle(task: AttemptTask, outcome: AttemptOutcome): AttemptTask | undefined {
    const state = this.states.get(task.stepId)!;
    state.attempts = task.attempt;
    if (outcome.status === "succeeded") {
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
      this.outcomes.attemptFailed(task.stepId, task.attempt, err, { next: null });
      this.outcomes.fail(task.stepId, err, task.attempt);
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
    // The attempt recorded the step's end; this run takes it into the step's state.
    this.outcomes.failed(task.stepId, outcome.error ?? { kind: "tool_error", message: "failed" });
    return undefined;
  }

  /**
   * A pure step's attempts, here in the workflow: they compute the same on every execution. With
   * a time limit (its own `timeout` or `defaults.timeout`), each is evaluated in a checkpointed
   * step; without one, in the body, until the workflow is cancelled.
   */
  private async inline(id: string, step: Step, scope: ExprScope): Promise<void> {
    const state = this.states.get(id)!;
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
