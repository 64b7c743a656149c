// How records map onto the rows of the store's logical schema, shared by the SQLite and the
// PostgreSQL stores: a run's and a cache entry's columns, and the JSON tuples a log segment holds
// (migration 2: one row per commit, its events and attempts as JSON arrays).
import { COMMITS_PER_RUN } from "./migrations";
import type {
  AttemptRecord,
  CacheEntry,
  EventRecord,
  ProcessRecord,
  RunRecord,
} from "../record/records";
import type { SqlValue } from "./sql-driver";

export const text = (v: unknown): string | null => (v == null ? null : String(v));
export const num = (v: unknown): number | null => (v == null ? null : Number(v));

export function runRow(r: RunRecord): SqlValue[] {
  return [
    r.id,
    r.workflowPath,
    r.workflowName,
    r.sourceHash,
    r.inputsHash,
    r.status,
    r.mode,
    r.parentId,
    r.startedAt,
    r.endedAt,
    r.outputsHash,
    r.error,
    r.ownerPid,
    r.heartbeatAt,
    r.parentScope,
  ];
}

export function toRun(r: Record<string, unknown>): RunRecord {
  return {
    id: String(r.id),
    workflowPath: String(r.workflow_path),
    workflowName: String(r.workflow_name),
    sourceHash: String(r.source_hash),
    inputsHash: String(r.inputs_hash),
    status: r.status as RunRecord["status"],
    mode: r.mode as RunRecord["mode"],
    parentId: text(r.parent_id),
    startedAt: String(r.started_at),
    endedAt: text(r.ended_at),
    outputsHash: text(r.outputs_hash),
    error: text(r.error),
    ownerPid: num(r.owner_pid),
    heartbeatAt: text(r.heartbeat_at),
    parentScope: text(r.parent_scope),
  };
}

/** Where a run's log ends: the key of its last segment and its last event's sequence number. */
export interface Tail {
  readonly key: number;
  readonly lastSeq: number;
}

/**
 * How a segment holds an event: [seq, type, stepId, attempt, at, data, scope?]. The scope comes
 * last and only when there is one, so that the log of a run without scopes is what it was
 * before scopes existed, and an old log reads with every scope null.
 */
export type EventTuple = [
  number,
  EventRecord["type"],
  string | null,
  number | null,
  string,
  EventRecord["data"],
  scope?: string,
];

/** How a segment holds an attempt: its fields in AttemptRecord's order, without the run id. */
export type AttemptTuple = [
  string,
  number,
  AttemptRecord["status"],
  AttemptRecord["origin"],
  string,
  string | null,
  string | null,
  string | null,
  string,
  string,
  string | null,
  string | null,
  AttemptRecord["meta"],
  scope?: string,
];

export function eventTuple(e: EventRecord): EventTuple {
  const t: EventTuple = [e.seq, e.type, e.stepId, e.attempt, e.at, e.data];
  if (e.scope !== null) t.push(e.scope);
  return t;
}

export function attemptTuple(a: AttemptRecord): AttemptTuple {
  const t: AttemptTuple = [
    a.stepId,
    a.attempt,
    a.status,
    a.origin,
    a.inputHash,
    a.outputHash,
    a.errorKind,
    a.errorMessage,
    a.startedAt,
    a.endedAt,
    a.cacheKey,
    a.sourceRunId,
    a.meta,
  ];
  if (a.scope !== null) t.push(a.scope);
  return t;
}

export function eventFromTuple(runId: string, t: EventTuple): EventRecord {
  return {
    runId,
    seq: t[0],
    type: t[1],
    stepId: t[2],
    scope: t[6] ?? null,
    attempt: t[3],
    at: t[4],
    data: t[5],
  };
}

export function fromTuple(runId: string, t: AttemptTuple): AttemptRecord {
  return {
    runId,
    stepId: t[0],
    scope: t[13] ?? null,
    attempt: t[1],
    status: t[2],
    origin: t[3],
    inputHash: t[4],
    outputHash: t[5],
    errorKind: t[6],
    errorMessage: t[7],
    startedAt: t[8],
    endedAt: t[9],
    cacheKey: t[10],
    sourceRunId: t[11],
    meta: t[12],
  };
}

function ascending(events: readonly EventRecord[]): boolean {
  for (let i = 1; i < events.length; i++) if (events[i]!.seq < events[i - 1]!.seq) return false;
  return true;
}

/** A commit's events and attempts, by run: each run's events in `seq` order. */
export function logsByRun(
  events: readonly EventRecord[],
  attempts: readonly AttemptRecord[],
): [runId: string, events: EventRecord[], attempts: AttemptRecord[]][] {
  const eventsByRun = byRun(events);
  const attemptsByRun = byRun(attempts);
  return [...new Set([...eventsByRun.keys(), ...attemptsByRun.keys()])].map((runId) => {
    const evs = eventsByRun.get(runId) ?? [];
    if (!ascending(evs)) evs.sort((a, b) => a.seq - b.seq);
    return [runId, evs, attemptsByRun.get(runId) ?? []];
  });
}

/** One run's share of a commit as both stores write it: a log segment and its model calls. */
export interface Segment {
  readonly key: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly events: string | null;
  readonly attempts: string | null;
  /** Live successful attempts with provider metadata: a row each, for `previousModelCall`. */
  readonly calls: readonly AttemptRecord[];
}

/**
 * The segment that appends a run's events and attempts after `tail`. Throws, so that the commit
 * is refused whole, unless the events go on from the log's last one without a gap or a repeat.
 */
export function segmentAfter(
  tail: Tail,
  runId: string,
  events: readonly EventRecord[],
  attempts: readonly AttemptRecord[],
): Segment {
  events.forEach((e, i) => {
    if (e.seq !== tail.lastSeq + 1 + i) {
      throw new Error(
        `event ${e.seq} of run ${runId} does not follow the recorded log (it ends at ${tail.lastSeq + i})`,
      );
    }
  });
  const key = tail.key + 1;
  if (key % COMMITS_PER_RUN === 0) {
    throw new Error(`run ${runId} has used all ${COMMITS_PER_RUN - 1} of its log segments`);
  }
  return {
    key,
    firstSeq: tail.lastSeq + 1,
    lastSeq: tail.lastSeq + events.length,
    events: events.length ? JSON.stringify(events.map(eventTuple)) : null,
    attempts: attempts.length ? JSON.stringify(attempts.map(attemptTuple)) : null,
    calls: attempts.filter((a) => a.origin === "live" && a.status === "succeeded" && a.meta),
  };
}

function byRun<T extends { readonly runId: string }>(records: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  // A recorder's batch holds one run's records: no grouping to do.
  if (records.every((r) => r.runId === records[0]!.runId)) {
    if (records.length > 0) out.set(records[0]!.runId, [...records]);
    return out;
  }
  for (const r of records) {
    const list = out.get(r.runId);
    if (list) list.push(r);
    else out.set(r.runId, [r]);
  }
  return out;
}

export function cacheRow(c: CacheEntry): SqlValue[] {
  return [c.key, c.outputHash, c.runId, c.stepId, c.createdAt, c.expiresAt];
}

/** A `processes` row (migration 3) as a ProcessRecord. */
export function toProcess(r: Record<string, unknown>): ProcessRecord {
  return {
    runId: String(r.run_id),
    stepId: String(r.step_id),
    attempt: Number(r.attempt),
    pid: Number(r.pid),
    start: String(r.start),
  };
}

export function toCache(r: Record<string, unknown>): CacheEntry {
  return {
    key: String(r.key),
    outputHash: String(r.output_hash),
    runId: String(r.run_id),
    stepId: String(r.step_id),
    createdAt: String(r.created_at),
    expiresAt: text(r.expires_at),
  };
}
