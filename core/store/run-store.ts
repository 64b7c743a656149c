// The RunStore seam (docs/dev/architecture.md, "Parts"): one interface for the memory, SQLite and
// PostgreSQL stores, all held to the same conformance suite (test/core/store/conformance.ts).
import type {
  AttemptRecord,
  CacheEntry,
  EventRecord,
  Finding,
  ProcessRecord,
  RunRecord,
  WriteBatch,
} from "../record/records";

export interface RunQuery {
  readonly workflowPath?: string;
  /** Newest first; default 50. */
  readonly limit?: number;
}

export interface RunStore {
  /** Writes the batch in one transaction: all of it is durable when the promise resolves, or none. */
  commit(batch: WriteBatch): Promise<void>;
  getRun(id: string): Promise<RunRecord | undefined>;
  /** Runs, newest first. */
  listRuns(query?: RunQuery): Promise<RunRecord[]>;
  /** A run's events in sequence order, from `afterSeq` (exclusive). */
  events(runId: string, afterSeq?: number): Promise<EventRecord[]>;
  /** A run's attempts, by step in the order they were recorded. */
  attempts(runId: string): Promise<AttemptRecord[]>;
  findings(runId: string): Promise<Finding[]>;
  /** The process groups a run's commands started (records.ts ProcessRecord), by pid. */
  processes(runId: string): Promise<ProcessRecord[]>;
  /** A value's JSON text by its reference: a content hash, or an inline value (values.ts). */
  blob(hash: string): Promise<string | undefined>;
  /** The cache entry for `key` that has not expired at `now` (ISO time). */
  cacheLookup(key: string, now: string): Promise<CacheEntry | undefined>;
  /**
   * The newest live, successful attempt of `stepId` that carries provider metadata (a model call),
   * in runs of `workflowPath` other than `exceptRunId`: what provider drift is measured against.
   * Any unit of the step counts (the step itself, an item, an iteration): every store picks the
   * newest run, its highest attempt, then the first scope in text order (the step itself first).
   */
  previousModelCall(
    workflowPath: string,
    stepId: string,
    exceptRunId: string,
  ): Promise<AttemptRecord | undefined>;
  /**
   * Throws when the store's file is no longer the one opened (deleted, replaced, overwritten): a
   * run checks it after each effect, `after` naming what ran. Stores without a file have none.
   */
  verify?(after?: string): void;
  /** True when the store was written by a newer Keel: it is open read-only and never migrated down. */
  readonly readOnly: boolean;
  close(): Promise<void>;
}
