// The run record: what the store keeps for every run. One logical schema for every RunStore.
// Values (inputs, outputs, resolved inputs, sources) are stored once by content hash in blobs;
// records refer to them by hash (refs.ts). Every list of names (statuses, origins, event types,
// finding kinds) is defined here once; the messages across process and webview boundaries
// (core/protocol/) build their schemas from these lists.
// Browser-safe: no imports.

export const RUN_STATUSES = ["running", "succeeded", "failed", "cancelled", "interrupted"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const RUN_MODES = ["run", "replay", "rerun"] as const;
export type RunMode = (typeof RUN_MODES)[number];
export const STEP_STATUSES = [
  "pending",
  "running",
  "succeeded",
  "failed",
  "skipped",
  "cancelled",
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];
/** How a success came about (docs/runner.md): executed now, from the cache, or from a parent run. */
export const ORIGINS = ["live", "cached", "reused"] as const;
export type Origin = (typeof ORIGINS)[number];
/** How an attempt ended. */
export const ATTEMPT_STATUSES = ["succeeded", "failed"] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

export interface RunRecord {
  /** Sorts by creation time (see ids.ts). */
  readonly id: string;
  readonly workflowPath: string;
  readonly workflowName: string;
  /** sha256 of the workflow's source text; the text itself is the blob with this hash. */
  readonly sourceHash: string;
  /** Blob hash of the run's inputs (JSON). */
  readonly inputsHash: string;
  readonly status: RunStatus;
  readonly mode: RunMode;
  readonly parentId: string | null;
  /**
   * The unit of the parent run that started this one (a child workflow): `refine#2`,
   * `per_ticket[t-9]`, or the step's id; null for a run nobody started (docs/dev/scopes.md).
   */
  readonly parentScope: string | null;
  /** ISO-8601 UTC with milliseconds; the recorded clock expressions see as `run.started_at`. */
  readonly startedAt: string;
  readonly endedAt: string | null;
  /** Blob hash of the run's outputs (JSON), once finished. */
  readonly outputsHash: string | null;
  readonly error: string | null;
  /** The process that owns a running run, and when it last said it was alive. */
  readonly ownerPid: number | null;
  readonly heartbeatAt: string | null;
}

export const EVENT_TYPES = [
  "run_started",
  "run_resumed",
  "step_started",
  "attempt_failed",
  "step_succeeded",
  "step_failed",
  "step_skipped",
  "step_reused",
  "step_cached",
  "step_cancelled",
  "finding",
  "run_finished",
  "expanded",
  "child_started",
  "child_finished",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * The events that end a step: after one of them the step has its final state in the run. Every
 * `step_*` event but `step_started` ends its step.
 */
export const STEP_ENDING_EVENTS: ReadonlySet<EventType> = new Set(
  EVENT_TYPES.filter((t) => t.startsWith("step_") && t !== "step_started"),
);

/** One entry of a run's append-only log; `seq` numbers a run's events from 1 without gaps. */
export interface EventRecord {
  readonly runId: string;
  readonly seq: number;
  readonly type: EventType;
  readonly stepId: string | null;
  /** The item or iteration of the step (`[doc-17]`, `#2`); null for the step itself. */
  readonly scope: string | null;
  readonly attempt: number | null;
  readonly at: string;
  /** Small JSON details (error kind and message, durations, the source run of a cache hit, ...). */
  readonly data: Readonly<Record<string, unknown>> | null;
}

export interface AttemptRecord {
  readonly runId: string;
  readonly stepId: string;
  /** The item or iteration of the step the attempt worked for; null for the step itself. */
  readonly scope: string | null;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly status: AttemptStatus;
  readonly origin: Origin;
  /** Blob hash of the resolved input: the exact prompt, request, arguments or command. */
  readonly inputHash: string;
  readonly outputHash: string | null;
  readonly errorKind: string | null;
  readonly errorMessage: string | null;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly cacheKey: string | null;
  /** The run a cached or reused result came from. */
  readonly sourceRunId: string | null;
  /** Provider metadata: served model, response id, fingerprint, usage, cost, provider id. */
  readonly meta: Readonly<Record<string, unknown>> | null;
}

export interface CacheEntry {
  readonly key: string;
  readonly outputHash: string;
  readonly runId: string;
  readonly stepId: string;
  readonly createdAt: string;
  /** Null: never expires. */
  readonly expiresAt: string | null;
}

export const FINDING_KINDS = [
  "stale_context",
  "provider_drift",
  "skipped_output",
  "tool_env_drift",
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export interface Finding {
  readonly runId: string;
  readonly kind: FindingKind;
  readonly message: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * A process group a command of the run started (its leader's pid and start time), recorded as it
 * starts, so that `keel resume` can end what a run whose process died left running.
 */
export interface ProcessRecord {
  readonly runId: string;
  readonly stepId: string;
  readonly attempt: number;
  readonly pid: number;
  /** When the leader started, as the system tells it (core/node/processes.ts): tells reuse apart. */
  readonly start: string;
}

export interface Blob {
  readonly hash: string;
  readonly text: string;
}

/** Everything one commit writes, atomically. Blobs already present are kept as they are. */
export interface WriteBatch {
  readonly runs?: readonly RunRecord[];
  readonly events?: readonly EventRecord[];
  readonly attempts?: readonly AttemptRecord[];
  readonly blobs?: readonly Blob[];
  readonly cache?: readonly CacheEntry[];
  readonly findings?: readonly Finding[];
  readonly processes?: readonly ProcessRecord[];
}

/** The key of a step's unit (the step itself, an item, an iteration): `summarize[doc-17]`. */
export function unitKey(stepId: string, scope: string | null): string {
  return scope === null ? stepId : stepId + scope;
}

/**
 * A unit key's step id and scope. Step ids are `[a-z][a-z0-9_]*` and a scope starts with `[` or
 * `#`, so the split is the first of those characters.
 */
export function splitUnit(key: string): { readonly stepId: string; readonly scope: string | null } {
  for (let i = 1; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c === 0x5b /* [ */ || c === 0x23 /* # */)
      return { stepId: key.slice(0, i), scope: key.slice(i) };
  }
  return { stepId: key, scope: null };
}

/** The scope of an item of a map: its key in brackets. */
export function itemScope(key: string): string {
  return `[${key}]`;
}
