// How a step's end is recorded: a live success, a cache hit, an output reused from an earlier
// run, a failure. Each sets the step's state and writes its attempt and event, so that the
// scheduler (run.ts) only decides what happens next.
import type { Step, Workflow } from "../model/schema";
import { splitUnit, type AttemptRecord, type EventType } from "../record/records";
import type { RunStore } from "../store/run-store";
import type { Effects, LlmResponse } from "./effects";
import type { ErrorKind, StepError } from "./errors";
import { continuesOnError, type AfterFailure } from "./policy";
import { costUsd } from "./prices";
import { streamMeta } from "./stream";
import type { Recorder } from "./recorder";
import type { PreparedStep, StepOutput } from "./steps";
import type { StepState } from "./types";
import { evaluateBare, toJson, type ExprScope } from "../expr/evaluate";

/** An unexpired cache entry and its output's text. */
export interface CacheHit {
  readonly outputHash: string;
  readonly runId: string;
  readonly text: string;
}

/** The cache entry for `key` that is valid at `at`, with its output; undefined on a miss. */
export async function lookupCache(
  store: RunStore,
  key: string,
  at: string,
): Promise<CacheHit | undefined> {
  const hit = await store.cacheLookup(key, at);
  const text = hit ? await store.blob(hit.outputHash) : undefined;
  return hit && text !== undefined
    ? { outputHash: hit.outputHash, runId: hit.runId, text }
    : undefined;
}

/**
 * A step's state before it starts, with `attempts` recorded already. Every field is set from the
 * start, so that all states of a run share one shape (the scheduler reads them in a hot loop).
 */
export function pendingState(attempts = 0): StepState {
  return {
    status: "pending",
    output: null,
    origin: null,
    continued: false,
    attempts,
    startedMs: 0,
    endedMs: 0,
    error: null,
    view: undefined,
    quickInput: undefined,
    items: undefined,
    iterations: undefined,
    turns: undefined,
    stopReason: undefined,
  };
}

/** What a step with a `snapshot` records beside its output: the source, and its version now. */
export async function snapshotOf(
  step: Step,
  scope: ExprScope,
  value: unknown,
): Promise<StepState["snapshot"]> {
  if (!step.snapshot) return undefined;
  const version = await evaluateBare(step.snapshot.version, {
    ...scope,
    context: { ...scope.context, output: value },
  });
  return { source: step.snapshot.source, version: toJson(version) };
}

export class Outcomes {
  constructor(
    private readonly runId: string,
    private readonly recorder: Recorder,
    private readonly states: Map<string, StepState>,
    private readonly effects: Effects,
    private readonly store: RunStore,
    private readonly workflow: Workflow,
  ) {}

  /** Takes a step's output from an earlier run, recorded as `reused` with that run's id. */
  reuse(id: string, output: unknown, sourceRunId: string): void {
    const state = this.states.get(id);
    if (!state) return;
    const at = this.effects.now();
    const outputHash = this.recorder.blob(output);
    this.attempt(id, 1, at, this.recorder.blob(null), {
      origin: "reused",
      outputHash,
      sourceRunId,
    });
    Object.assign(state, { status: "succeeded", origin: "reused", output, attempts: 1 });
    this.event("step_reused", id, 1, at, { output: outputHash, sourceRun: sourceRunId });
  }

  /** Answers the attempt from the cache when an unexpired entry has the key; true on a hit. */
  async fromCache(
    id: string,
    attempt: number,
    startedAt: string,
    inputHash: string,
    key: string,
  ): Promise<boolean> {
    const hit = await lookupCache(this.store, key, startedAt);
    if (hit) this.cached(id, attempt, startedAt, inputHash, key, hit);
    return hit !== undefined;
  }

  /** Records the attempt as answered by a cache entry (found by `lookupCache`). */
  cached(
    id: string,
    attempt: number,
    startedAt: string,
    inputHash: string,
    key: string,
    hit: CacheHit,
  ): void {
    const state = this.states.get(id)!;
    this.attempt(id, attempt, startedAt, inputHash, {
      origin: "cached",
      outputHash: hit.outputHash,
      cacheKey: key,
      sourceRunId: hit.runId,
    });
    state.status = "succeeded";
    state.origin = "cached";
    state.output = JSON.parse(hit.text) as unknown;
    state.endedMs = Date.now();
    this.event("step_cached", id, attempt, this.effects.now(), {
      output: hit.outputHash,
      sourceRun: hit.runId,
      durationMs: state.endedMs - state.startedMs,
    });
  }

  succeed(
    id: string,
    attempt: number,
    startedAt: string,
    inputHash: string,
    output: StepOutput,
    prepared: Pick<PreparedStep, "provider">,
    snapshot: StepState["snapshot"],
    cacheKeyUsed: string | null,
    /** What a tool printed (attempt-output.ts). */
    log?: string,
  ): void {
    const state = this.states.get(id)!;
    const outputHash = this.recorder.blob(output.value);
    const reply = output.reply;
    const replyMeta = reply
      ? {
          provider: prepared.provider,
          model: reply.servedModel,
          responseId: reply.responseId,
          fingerprint: reply.fingerprint,
          usage: reply.usage,
          // Timing and piece boundaries of a streamed reply, never its chunks (stream.ts).
          ...(reply.stream
            ? {
                stream: streamMeta(reply.stream, reply.text, output.value, (t) =>
                  this.recorder.redact(t),
                ),
              }
            : {}),
          // A scripted reply costs nothing: its model name may still match the price table.
          ...(this.costOf(prepared.provider, reply) !== null
            ? { costUsd: this.costOf(prepared.provider, reply) }
            : {}),
        }
      : null;
    const own = output.meta ? { ...replyMeta, ...output.meta } : replyMeta;
    const meta = log !== undefined ? { ...own, log } : own;
    const endedAt = this.effects.now();
    this.attempt(id, attempt, startedAt, inputHash, {
      outputHash,
      cacheKey: cacheKeyUsed,
      meta,
      endedAt,
    });
    state.status = "succeeded";
    state.origin = "live";
    state.output = output.value;
    state.endedMs = Date.now();
    state.snapshot = snapshot;
    state.meta = meta;
    this.event("step_succeeded", id, attempt, endedAt, {
      output: outputHash,
      durationMs: state.endedMs - state.startedMs,
      ...(snapshot ? { snapshot } : {}),
      ...(log !== undefined ? { log } : {}),
    });
  }

  /** Records an event of a unit (a step, an item, an iteration: docs/dev/scopes.md). */
  event(
    type: EventType,
    unit: string,
    attempt: number | null,
    at: string,
    data: Record<string, unknown> | null = null,
  ): void {
    const { stepId, scope } = splitUnit(unit);
    this.recorder.event(type, stepId, attempt, at, data, scope);
  }

  /**
   * Ends a map step whose items ended within what it allows: its output is the list of the items'
   * outputs (map.ts), recorded by reference like any output; the event counts the items by status.
   */
  mapped(id: string, output: unknown[]): void {
    const tally: Record<string, number> = {};
    for (const i of this.states.get(id)!.items ?? []) tally[i.status] = (tally[i.status] ?? 0) + 1;
    this.gathered(id, output, { items: tally });
  }

  /** Ends a repeated unit (a step or an item) with its last iteration's output. */
  repeated(id: string, iterations: readonly unknown[]): void {
    this.gathered(id, iterations.at(-1) ?? null, { iterations: iterations.length }).iterations =
      iterations;
  }

  /**
   * Ends an agent that answered: its output is the answer; the event holds its turns (a
   * reference), how many there were and why it stopped (agent.ts).
   */
  answered(id: string, output: unknown, turns: readonly unknown[], stopReason: string): void {
    this.gathered(id, output, {
      turns: turns.length,
      stopReason,
      transcript: this.recorder.blob(turns),
    });
  }

  /** A unit's success made of its scopes' (items', iterations'): no attempt of its own. */
  private gathered(id: string, output: unknown, data: Record<string, unknown>): StepState {
    const state = this.states.get(id)!;
    state.status = "succeeded";
    state.origin = "live";
    state.output = output;
    state.endedMs = Date.now();
    this.event("step_succeeded", id, null, this.effects.now(), {
      output: this.recorder.blob(output),
      durationMs: state.endedMs - state.startedMs,
      ...data,
    });
    return state;
  }

  /** Records one attempt; what is not given is a live success with nothing attached. */
  attempt(
    unit: string,
    attempt: number,
    startedAt: string,
    inputHash: string,
    outcome: Partial<
      Omit<AttemptRecord, "runId" | "stepId" | "attempt" | "startedAt" | "inputHash">
    >,
  ): void {
    const { stepId, scope } = splitUnit(unit);
    this.recorder.attempt({
      runId: this.runId,
      stepId,
      scope,
      attempt,
      startedAt,
      inputHash,
      status: "succeeded",
      origin: "live",
      outputHash: null,
      errorKind: null,
      errorMessage: null,
      endedAt: outcome.endedAt ?? this.effects.now(),
      cacheKey: null,
      sourceRunId: null,
      meta: null,
      ...outcome,
    });
  }

  /** Records the cache entry of a success under `key`, valid for `ttlMs` (for ever if undefined). */
  cacheEntry(key: string, unit: string, value: unknown, ttlMs: number | undefined): void {
    const createdAt = this.effects.now();
    this.recorder.cacheEntry({
      key,
      outputHash: this.recorder.blob(value),
      runId: this.runId,
      stepId: splitUnit(unit).stepId,
      createdAt,
      expiresAt: ttlMs === undefined ? null : new Date(Date.parse(createdAt) + ttlMs).toISOString(),
    });
  }

  costOf(provider: string | undefined, reply: LlmResponse): number | null {
    const type = provider ? this.workflow.providers?.[provider]?.type : undefined;
    return type === "scripted" ? null : costUsd(reply.servedModel, reply.usage);
  }

  /** Records a failed attempt's row; `provider` is the one it called, if any. */
  failedAttempt(
    id: string,
    attempt: number,
    startedAt: string,
    inputHash: string,
    err: StepError,
    provider: string | undefined,
    /** What a tool printed (attempt-output.ts). */
    log?: string,
  ): void {
    const meta = {
      ...(provider ? { provider } : {}),
      ...(log !== undefined ? { log } : {}),
      // What a streamed reply had received: redacted whole with the meta, never an output.
      ...(err.partial !== undefined ? { partial: err.partial } : {}),
    };
    this.attempt(id, attempt, startedAt, inputHash, {
      status: "failed",
      errorKind: err.kind,
      errorMessage: err.message,
      meta: Object.keys(meta).length > 0 ? meta : null,
    });
  }

  /**
   * Records `attempt_failed`: its `next` tells readers of the log what follows (another attempt,
   * a fallback, or the end).
   */
  attemptFailed(
    id: string,
    attempt: number,
    err: StepError,
    after: AfterFailure,
    log?: string,
  ): void {
    this.event("attempt_failed", id, attempt, this.effects.now(), {
      kind: err.kind,
      message: err.message,
      next: after.next,
      ...(after.next === "fallback" ? { fallback: after.provider } : {}),
      ...(log !== undefined ? { log } : {}),
    });
  }

  /** Sets the state of a step that ended with `err` (recorded elsewhere, or by `fail`). */
  failed(id: string, err: { kind: ErrorKind; message: string }): StepState {
    const { stepId, scope } = splitUnit(id);
    const step = this.workflow.steps[stepId] as Step;
    const state = this.states.get(id)!;
    state.status = err.kind === "cancelled" ? "cancelled" : "failed";
    // An item's failure is the map's to weigh (`on_item_error`); `on_error` is the step's own.
    state.continued =
      state.status === "failed" && scope === null && continuesOnError(step, this.workflow);
    state.output = null;
    state.error = { kind: err.kind, message: err.message };
    state.endedMs = Date.now();
    return state;
  }

  /**
   * Fails an agent: its event holds, beside the error, its turns (a reference), how many there
   * were and why it stopped, as an answered agent's does (agent.ts).
   */
  agentFailed(id: string, err: StepError, turns: readonly unknown[], stopReason: string): void {
    this.fail(id, err, 0, {
      turns: turns.length,
      stopReason,
      transcript: this.recorder.blob(turns),
    });
  }

  fail(id: string, err: StepError, attempt: number, extra?: Record<string, unknown>): void {
    const state = this.failed(id, err);
    this.event(
      state.status === "cancelled" ? "step_cancelled" : "step_failed",
      id,
      attempt || null,
      this.effects.now(),
      {
        kind: err.kind,
        message: err.message,
        continued: state.continued,
        ...extra,
      },
    );
  }
}
