// One attempt of a step of a distributed run: the DBOS workflow `keel_attempt`, a child of the
// run's workflow (dbos-run.ts), on the queue of the step's provider, so it executes on whichever
// worker takes it. It attempts a unit (docs/dev/scopes.md): a step, or an item of a map. Its id is
// `<run>:<unit>:<attempt>` (`<run>:summarize[doc-17]:1`): starting it twice starts it once.
// Within it, two DBOS steps:
// 1. `keel.effect`: the step's templates (within its time limit), the cache lookup and, on a
//    miss, the effect itself, DBOS retries off (Keel's retry policy decides, in the run's
//    workflow, from what this attempt returns); its answer is checkpointed, so an effect that
//    ended is never executed again, and one in flight when its worker died is (at least once);
// 2. `keel.attempt`: the attempt's record (its row, `step_succeeded`, `step_cached` or
//    `attempt_failed`, and `step_failed` when nothing follows), in the same transaction as
//    DBOS's checkpoint.
// What it returns crosses PostgreSQL (DBOS's tables), so values in it are redacted like the record.
import { DBOS } from "@dbos-inc/dbos-sdk";
import type { Step } from "../model/schema";
import { unitKey, type Origin } from "../record/records";
import { cacheKey, cachePolicy } from "../runner/cache";
import { raceAbort } from "../runner/async";
import { StepError, asStepError, type ErrorKind } from "../runner/errors";
import type { ExprScope } from "../expr/evaluate";
import { checkOutput } from "../runner/output-schema";
import { lookupCache, Outcomes, pendingState, snapshotOf } from "../runner/outcomes";
import {
  afterFailure,
  durationMs,
  fallbackRetryPolicy,
  stepTimeout,
  stepRetryPolicy,
  type AfterFailure,
} from "../runner/policy";
import { Recorder } from "../runner/recorder";
import { AttemptOutput } from "../runner/attempt-output";
import type { AttemptScope } from "../runner/effects";
import { Redactor } from "../runner/redact";
import { contextWith, type RunContext } from "../runner/scope";
import { prepareStep, type AgentTurn, type PreparedStep, type StepOutput } from "../runner/steps";
import { modelCallStep, toolStep, type AgentStep } from "../runner/agent-loop";
import { toolSpecs } from "../runner/agent-tools";
import type { LlmMessage, LlmRequest } from "../runner/effects";
import { PromptFiles } from "../runner/prompt-files";
import type { StepState } from "../runner/types";
import {
  loadRecorded,
  recordedValue,
  recordInStep,
  throwIfCancelled,
  untilCancelled,
  type Loaded,
  type WorkerContext,
} from "./dbos-record";

/** What the run's workflow hands an attempt: everything it needs, nothing it must read back. */
export interface AttemptTask {
  readonly runId: string;
  readonly stepId: string;
  /** The unit's scope within the step (`[doc-17]` for an item), null for the step itself. */
  readonly scope: string | null;
  /** Names the unit's expressions see beside the step's (an item's `item` and `index`). */
  readonly names: Record<string, unknown> | null;
  /** The attempt's number within its unit. */
  readonly attempt: number;
  /** Which try this is on `provider` (1 after a fallback). */
  readonly tries: number;
  /** The provider an `llm` step calls; null for other steps. */
  readonly provider: string | null;
  /** True when `provider` is a fallback, not the step's own. */
  readonly fallback: boolean;
  /** Wait this long before the attempt (the retry policy's backoff). */
  readonly delayMs: number;
  readonly workflowPath: string;
  readonly sourceHash: string;
  readonly context: Omit<RunContext, "secrets">;
  /** The dependencies as the step's expressions see them. */
  readonly steps: Record<string, unknown>;
  /** Else (an item's attempt) the reference of their recorded value, masked like the record. */
  readonly stepsRef?: string;
  /** What `$success()` and `$failure()` answer for the step. */
  readonly success: boolean;
  readonly failure: boolean;
  readonly noCache: boolean;
  /** When the step started (Date.now()), for the durations its events carry. */
  readonly startedMs: number;
  /** An agent's model call or tool call: what the step's unit is (docs/dev/agents.md). */
  readonly agent?: AgentPart;
}

/**
 * What an agent step's attempt is: turn `turn`'s model call, or a call to tool `tool` (whose
 * arguments are the `args` of `names`). A model call's conversation comes by reference: the
 * previous turn's recorded input (`previousRef`), whose last `kept` messages were appended after
 * the prompt's, and the messages `added` since, so that DBOS's tables hold each message once.
 */
export type AgentPart =
  | {
      readonly kind: "turn";
      readonly turn: number;
      readonly final: boolean;
      readonly previousRef: string | null;
      readonly kept: number;
      readonly added: readonly LlmMessage[];
    }
  | { readonly kind: "tool"; readonly tool: string };

/** How the attempt ended, as the run's workflow needs it. */
export interface AttemptOutcome {
  readonly status: "succeeded" | "failed";
  readonly origin?: Origin;
  readonly output?: unknown;
  readonly snapshot?: StepState["snapshot"] | null;
  readonly meta?: Record<string, unknown> | null;
  readonly error?: { readonly kind: ErrorKind; readonly message: string };
  /** After a failure: another attempt, a fallback, or the step's end. */
  readonly after?: AfterFailure;
  /** A failure the attempt could not record itself (its workflow did not load): the run does. */
  readonly unrecorded?: boolean;
  readonly continued?: boolean;
  /** A success's recorded input: an agent's next turn links to it. */
  readonly inputHash?: string;
}

const NEVER = new AbortController().signal;

export async function executeAttempt(w: WorkerContext, task: AttemptTask): Promise<AttemptOutcome> {
  if (task.delayMs > 0) await DBOS.sleep(task.delayMs);
  let loaded: Loaded;
  try {
    loaded = await loadRecorded(w, task.workflowPath, task.sourceHash);
  } catch (e) {
    // This worker cannot load the workflow (a tool module missing here): the run records it.
    const message = `worker ${w.id}: ${(e as Error).message}`;
    return { status: "failed", error: { kind: "config", message }, unrecorded: true };
  }
  const { workflow: wf } = loaded;
  let steps = task.steps;
  if (task.stepsRef !== undefined) {
    try {
      steps = await recordedValue<Record<string, unknown>>(w, task.stepsRef);
    } catch (e) {
      const message = `worker ${w.id}: ${(e as Error).message}`;
      return { status: "failed", error: { kind: "config", message }, unrecorded: true };
    }
  }
  // The unit's key: its attempts, events and state are kept by it.
  const id = unitKey(task.stepId, task.scope);
  const own = wf.steps[task.stepId] as Step;
  const part = task.agent;
  const step =
    part === undefined || own.type !== "agent"
      ? own
      : part.kind === "turn"
        ? modelCallStep(own, wf.defaults?.agent)
        : toolStep(own.tools[part.tool]!);
  const provider = task.provider ?? undefined;
  const state: StepState = {
    ...pendingState(task.attempt - 1),
    status: "running",
    startedMs: task.startedMs,
  };
  let secrets: Record<string, string> = {};
  let missing: StepError | undefined;
  try {
    secrets = w.secrets(loaded.secretNames);
  } catch (e) {
    missing = new StepError("config", (e as Error).message);
  }
  const redactor = new Redactor(secrets);
  const recorder = new Recorder(w.store, task.runId, redactor, 0, undefined, false);
  let turn: AgentTurn | undefined;
  if (part?.kind === "turn" && own.type === "agent") {
    try {
      turn = await agentTurn(w, recorder, own, part, loaded.path);
    } catch (e) {
      missing ??= asStepError(e);
    }
  }
  const outcomes = new Outcomes(
    task.runId,
    recorder,
    new Map([[id, state]]),
    loaded.effects,
    w.store,
    wf,
  );
  const scope: ExprScope = {
    context: {
      ...contextWith({ ...task.context, secrets }, steps),
      ...(task.names ?? {}),
    },
    bindings: {
      always: () => true,
      success: () => task.success,
      failure: () => task.failure,
      cancelled: () => false,
    },
  };
  const startedAt = loaded.effects.now();
  const ended = (): AttemptOutcome =>
    redactor.value({
      status: "succeeded",
      origin: state.origin ?? "live",
      output: state.output,
      snapshot: state.snapshot ?? null,
      meta: state.meta ?? null,
      inputHash,
    });
  // A failure that is recorded with the attempt (with what a tool printed), then decided on.
  const failed = (err: StepError, inputHash: string | undefined, log?: string): AttemptOutcome => {
    if (inputHash !== undefined) {
      outcomes.failedAttempt(id, task.attempt, startedAt, inputHash, err, provider, log);
    }
    const policy = task.fallback
      ? fallbackRetryPolicy(wf, provider!)
      : stepRetryPolicy(step, wf, provider);
    const after = afterFailure(wf, provider, policy, task.tries, err, false);
    outcomes.attemptFailed(id, task.attempt, err, after, log);
    if (after.next === null) outcomes.fail(id, err, task.attempt);
    return redactor.value({
      status: "failed",
      error: { kind: err.kind, message: err.message },
      after,
      continued: state.continued,
    });
  };

  // A prompt file is read on this worker, as a tool's module is, and its text stored in the run's
  // record with the attempt, so the input's `promptFile.hash` names a text the record holds.
  const prompts = new PromptFiles(loaded.dir, undefined, (text) => recorder.textBlob(text));
  const env = { workflow: wf, dir: loaded.dir, prompts, ...(turn ? { turn } : {}) };
  const override = task.fallback ? provider : undefined;
  const timeout = stepTimeout(step, wf, provider);
  const cache = cachePolicy(step, wf);
  let prepared: PreparedStep | undefined;
  let inputHash = "";
  let key: string | null = null;
  const take = (p: PreparedStep) => {
    prepared = p;
    inputHash = recorder.blob(p.input, p.chain);
    key = cache.enabled ? cacheKey(step, inputHash, wf, p.provider, loaded.dir, secrets) : null;
  };
  // The attempt's answer, checkpointed: its templates evaluated within the step's time limit (a
  // timing this execution only knows), then a cache entry, else the effect's value or the error it
  // ended with (DBOS never retries it). A re-execution takes the same answer without a lookup.
  const done = await DBOS.runStep(
    async () => {
      let p: PreparedStep;
      try {
        if (missing) throw missing;
        p = await untilCancelled((cancel) =>
          bounded(timeout, "its templates were not evaluated", cancel, (signal) =>
            prepareStep(step, { ...scope, signal }, env, override),
          ),
        );
      } catch (e) {
        throwIfCancelled(e);
        const err = asStepError(e, "expression");
        const message = redactor.text(err.message);
        return { ok: false as const, stage: "templates" as const, kind: err.kind, message };
      }
      take(p);
      const hit = key && !task.noCache ? await lookupCache(w.store, key, startedAt) : undefined;
      if (hit) return { ok: true as const, hit, value: null, reply: null, meta: null, log: null };
      // What a tool prints is checkpointed with the answer, so its record survives a re-execution.
      const printed = new AttemptOutput();
      const at = {
        runId: task.runId,
        stepId: task.stepId,
        attempt: task.attempt,
        output: (text: string) => printed.add(text),
      };
      try {
        const output = await within(p, loaded.effects, timeout, at);
        // DBOS keeps the outcome in its tables: with secrets masked, as the record has it.
        return redactor.value({
          ok: true as const,
          hit: null,
          value: output.value,
          reply: output.reply ?? null,
          // A Python tool's version and lockfile hash, recorded with the attempt.
          meta: output.meta ?? null,
          log: printed.value() ?? null,
        });
      } catch (e) {
        // A cancel ends the attempt's workflow with nothing checkpointed.
        throwIfCancelled(e);
        const err = asStepError(e);
        const log = printed.value();
        return {
          ok: false as const,
          stage: "effect" as const,
          kind: err.kind,
          // An error's message may quote what the effect saw: masked before DBOS keeps it.
          message: redactor.text(err.message),
          retryAfterMs: err.retryAfterMs ?? null,
          log: log === undefined ? null : redactor.text(log),
        };
      }
    },
    { name: "keel.effect", retriesAllowed: false },
  );
  if (!done.ok && done.stage === "templates") {
    const err = new StepError(done.kind, done.message);
    return recordInStep(w, recorder, "keel.attempt", () => failed(err, undefined));
  }
  // A re-execution read the answer back: the templates, which ended in time when it was taken,
  // are evaluated again (they compute the same), stopped only by a cancel.
  if (!prepared) {
    take(await untilCancelled((signal) => prepareStep(step, { ...scope, signal }, env, override)));
  }
  return recordInStep(w, recorder, "keel.attempt", async () => {
    if (!done.ok) {
      const err = new StepError(done.kind, done.message, done.retryAfterMs ?? undefined);
      return failed(err, inputHash, done.log ?? undefined);
    }
    if (done.hit) {
      outcomes.cached(id, task.attempt, startedAt, inputHash, key!, done.hit);
      return ended();
    }
    const output: StepOutput = {
      value: done.value,
      reply: done.reply ?? undefined,
      meta: done.meta ?? undefined,
    };
    try {
      checkOutput(step.type, step.output?.schema, output.value);
      // Its version stops at a cancel, which leaves this step unrecorded (the transaction rolls back).
      const snapshot = await untilCancelled((signal) =>
        snapshotOf(step, { ...scope, signal }, output.value),
      );
      const log = done.log ?? undefined;
      outcomes.succeed(
        id,
        task.attempt,
        startedAt,
        inputHash,
        output,
        prepared!,
        snapshot,
        key,
        log,
      );
    } catch (e) {
      throwIfCancelled(e);
      return failed(asStepError(e), inputHash, done.log ?? undefined);
    }
    if (key) outcomes.cacheEntry(key, id, output.value, cache.ttlMs);
    return ended();
  });
}

/**
 * An agent's model call as this worker prepares it: the tools, and the conversation after the
 * prompt's, from the previous turn's recorded input and the messages added since. The recorder
 * is told that input is recorded, so this turn's input is stored as a link to it.
 */
async function agentTurn(
  w: WorkerContext,
  recorder: Recorder,
  step: AgentStep,
  part: Extract<AgentPart, { kind: "turn" }>,
  workflowPath: string,
): Promise<AgentTurn> {
  let previous: LlmRequest | undefined;
  let appended: LlmMessage[] = [...part.added];
  if (part.previousRef !== null) {
    previous = await recordedValue<LlmRequest>(w, part.previousRef);
    recorder.recorded(previous, part.previousRef);
    const before = previous.messages.slice(previous.messages.length - part.kept);
    appended = [...before, ...part.added];
  }
  return {
    appended,
    tools: toolSpecs(step, workflowPath),
    final: part.final,
    ...(step.parallel_tool_calls !== undefined ? { parallel: step.parallel_tool_calls } : {}),
    ...(step.output ? { output: step.output } : {}),
    ...(previous ? { previous } : {}),
  };
}

/**
 * Executes a prepared step within its time limit, if it has one. A transform or assert (one with
 * a cache or a snapshot) also stops at the workflow's cancel, throwing DBOS's cancel error; an
 * effect runs to its end (docs/team.md). Called within a DBOS step.
 */
export async function within(
  prepared: PreparedStep,
  effects: Parameters<PreparedStep["execute"]>[0],
  timeout: string | undefined,
  at?: AttemptScope,
): Promise<StepOutput> {
  const execute = (signal: AbortSignal) => prepared.execute(effects, signal, at);
  if (!prepared.quick) return bounded(timeout, "no answer", undefined, execute);
  return untilCancelled((cancel) =>
    bounded(timeout, "the expression did not end", cancel, execute),
  );
}

/**
 * Runs `work` with a signal that fires at `timeout` (a timeout: "<what> within <timeout>") and
 * when `follow` fires (with its reason), and rejects as soon as it does.
 */
async function bounded<T>(
  timeout: string | undefined,
  what: string,
  follow: AbortSignal | undefined,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (timeout === undefined && !follow) return work(NEVER);
  const controller = new AbortController();
  const timer =
    timeout === undefined
      ? undefined
      : setTimeout(
          () => controller.abort(new StepError("timeout", `${what} within ${timeout}`)),
          durationMs(timeout),
        );
  const stop = () => controller.abort(follow!.reason);
  follow?.addEventListener("abort", stop, { once: true });
  try {
    return await raceAbort(work(controller.signal), controller.signal);
  } finally {
    clearTimeout(timer);
    follow?.removeEventListener("abort", stop);
  }
}
