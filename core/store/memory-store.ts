// A RunStore in memory: for tests and for replays that need no file. Same semantics as SQLite,
// including the all-or-nothing commit and the (run, seq) uniqueness of events.
import type {
  AttemptRecord,
  CacheEntry,
  EventRecord,
  Finding,
  ProcessRecord,
  RunRecord,
  WriteBatch,
} from "../record/records";
import type { RunQuery, RunStore } from "./run-store";
import { inlineValue } from "../record/refs";
import { ExpandedLinks, expandStored } from "./chains";

export class MemoryStore implements RunStore {
  /** Agents' turn inputs expanded lately (chains.ts). */
  private readonly expanded = new ExpandedLinks();
  readonly readOnly = false;
  private readonly runs = new Map<string, RunRecord>();
  private readonly eventsByRun = new Map<string, EventRecord[]>();
  private readonly attemptsByRun = new Map<string, AttemptRecord[]>();
  /** `run \0 step \0 attempt` of every attempt recorded, for the uniqueness check. */
  private readonly attemptKeys = new Set<string>();
  private readonly findingsByRun = new Map<string, Finding[]>();
  /** By run, then by pid and start (the stores' key): a record committed twice is kept once. */
  private readonly processesByRun = new Map<string, Map<string, ProcessRecord>>();
  private readonly blobs = new Map<string, string>();
  private readonly cache = new Map<string, CacheEntry>();

  async commit(batch: WriteBatch): Promise<void> {
    // Check every constraint before changing anything, so a failed commit leaves no trace.
    const known = new Set([...(batch.runs ?? []).map((r) => r.id)]);
    for (const r of [...(batch.events ?? []), ...(batch.attempts ?? [])]) {
      if (!known.has(r.runId) && !this.runs.has(r.runId)) {
        throw new Error(`run ${r.runId} is not recorded: commit its run record first`);
      }
    }
    // A run's log goes on from its last event, without a gap or a repeat.
    const next = new Map<string, number>();
    for (const e of [...(batch.events ?? [])].sort((a, b) => a.seq - b.seq)) {
      const expected = next.get(e.runId) ?? (this.eventsByRun.get(e.runId)?.length ?? 0) + 1;
      if (e.seq !== expected) {
        throw new Error(
          `event ${e.seq} of run ${e.runId} does not follow the recorded log (it ends at ${expected - 1})`,
        );
      }
      next.set(e.runId, expected + 1);
    }
    const attemptKeys = new Set<string>();
    for (const a of batch.attempts ?? []) {
      const key = attemptKey(a);
      if (attemptKeys.has(key) || this.attemptKeys.has(key)) {
        throw new Error(
          `attempt ${a.attempt} of step ${a.stepId}${a.scope ?? ""} in run ${a.runId} is already recorded`,
        );
      }
      attemptKeys.add(key);
    }
    for (const b of batch.blobs ?? []) if (!this.blobs.has(b.hash)) this.blobs.set(b.hash, b.text);
    for (const r of batch.runs ?? []) {
      const old = this.runs.get(r.id);
      this.runs.set(
        r.id,
        old
          ? {
              ...old,
              status: r.status,
              endedAt: r.endedAt,
              outputsHash: r.outputsHash,
              error: r.error,
              ownerPid: r.ownerPid,
              heartbeatAt: r.heartbeatAt,
            }
          : r,
      );
    }
    for (const e of batch.events ?? []) push(this.eventsByRun, e.runId, e);
    for (const a of batch.attempts ?? []) push(this.attemptsByRun, a.runId, a);
    for (const key of attemptKeys) this.attemptKeys.add(key);
    for (const c of batch.cache ?? []) this.cache.set(c.key, c);
    for (const f of batch.findings ?? []) push(this.findingsByRun, f.runId, f);
    for (const p of batch.processes ?? []) {
      const byKey = this.processesByRun.get(p.runId) ?? new Map<string, ProcessRecord>();
      this.processesByRun.set(p.runId, byKey);
      if (!byKey.has(`${p.pid} ${p.start}`)) byKey.set(`${p.pid} ${p.start}`, p);
    }
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    return this.runs.get(id);
  }

  async listRuns(query: RunQuery = {}): Promise<RunRecord[]> {
    return [...this.runs.values()]
      .filter((r) => query.workflowPath === undefined || r.workflowPath === query.workflowPath)
      .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, query.limit ?? 50);
  }

  async events(runId: string, afterSeq = 0): Promise<EventRecord[]> {
    return (this.eventsByRun.get(runId) ?? [])
      .filter((e) => e.seq > afterSeq)
      .sort((a, b) => a.seq - b.seq);
  }

  async attempts(runId: string): Promise<AttemptRecord[]> {
    return [...(this.attemptsByRun.get(runId) ?? [])];
  }

  async findings(runId: string): Promise<Finding[]> {
    return [...(this.findingsByRun.get(runId) ?? [])];
  }

  async processes(runId: string): Promise<ProcessRecord[]> {
    return [...(this.processesByRun.get(runId)?.values() ?? [])].sort((a, b) => a.pid - b.pid);
  }

  async blob(hash: string): Promise<string | undefined> {
    const inline = inlineValue(hash);
    if (inline !== undefined) return inline;
    const text = this.blobs.get(hash);
    return text === undefined
      ? undefined
      : expandStored(hash, text, async (h) => this.blobs.get(h), this.expanded);
  }

  async cacheLookup(key: string, now: string): Promise<CacheEntry | undefined> {
    const entry = this.cache.get(key);
    return entry && (entry.expiresAt === null || entry.expiresAt > now) ? entry : undefined;
  }

  async previousModelCall(
    workflowPath: string,
    stepId: string,
    exceptRunId: string,
  ): Promise<AttemptRecord | undefined> {
    let best: AttemptRecord | undefined;
    for (const [runId, attempts] of this.attemptsByRun) {
      if (runId === exceptRunId || this.runs.get(runId)?.workflowPath !== workflowPath) continue;
      for (const a of attempts) {
        if (a.stepId !== stepId || a.origin !== "live" || a.status !== "succeeded") continue;
        if (a.meta === null) continue;
        if (!best || newerCall(a, best)) best = a;
      }
    }
    return best;
  }

  async close(): Promise<void> {}
}

function attemptKey(a: AttemptRecord): string {
  return `${a.runId}\u0000${a.stepId}${a.scope ?? ""}\u0000${a.attempt}`;
}

/**
 * The order previousModelCall picks by, as the SQL stores' ORDER BY: the newest run, its highest
 * attempt, and among the step's units with that attempt the first scope in text order (the step
 * itself, stored as '', before its items and iterations).
 */
function newerCall(a: AttemptRecord, b: AttemptRecord): boolean {
  if (a.runId !== b.runId) return a.runId > b.runId;
  if (a.attempt !== b.attempt) return a.attempt > b.attempt;
  return (a.scope ?? "") < (b.scope ?? "");
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
