// The SQLite run store (SPEC §5): WAL, synchronous=NORMAL (a commit survives a killed process,
// not a power cut), a busy timeout because the CLI and the editor share the file, statements
// prepared once, every commit one IMMEDIATE transaction.
// Invariant: a store whose user_version is newer than MIGRATIONS is opened read-only and never
// migrated down.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { MIGRATIONS } from "./migrations";
import type {
  AttemptRecord,
  CacheEntry,
  EventRecord,
  Finding,
  RunRecord,
  WriteBatch,
} from "./records";
import type { RunQuery, RunStore } from "./run-store";
import { openDefaultDriver, type SqlDriver, type SqlStatement, type SqlValue } from "./sql-driver";

export interface SqliteStoreOptions {
  /** Opens the database; default better-sqlite3, or node:sqlite where that cannot load. */
  readonly open?: (path: string, options: { readOnly?: boolean }) => SqlDriver;
}

export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): RunStore {
  const open = options.open ?? openDefaultDriver;
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  let db = open(path, {});
  db.exec("PRAGMA busy_timeout = 5000");
  const version = Number(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
  if (version > MIGRATIONS.length) {
    db.close();
    db = open(path, { readOnly: true });
    db.exec("PRAGMA busy_timeout = 5000");
    return new SqliteStore(db, true);
  }
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  migrate(db);
  return new SqliteStore(db, false);
}

function migrate(db: SqlDriver): void {
  db.transaction(() => {
    // Read again inside the write lock: another process may have migrated meanwhile.
    const current = Number(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
    for (let v = current; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    if (current < MIGRATIONS.length) db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
  });
}

class SqliteStore implements RunStore {
  private readonly statements = new Map<string, SqlStatement>();
  private closed = false;

  constructor(
    private readonly db: SqlDriver,
    readonly readOnly: boolean,
  ) {}

  async commit(batch: WriteBatch): Promise<void> {
    if (this.readOnly)
      throw new Error("this run store was written by a newer Keel: it is read-only");
    this.db.transaction(() => {
      for (const b of batch.blobs ?? []) this.sql(INSERT_BLOB).run(b.hash, b.text);
      for (const r of batch.runs ?? []) this.sql(UPSERT_RUN).run(...runRow(r));
      for (const e of batch.events ?? []) this.sql(INSERT_EVENT).run(...eventRow(e));
      for (const a of batch.attempts ?? []) this.sql(INSERT_ATTEMPT).run(...attemptRow(a));
      for (const c of batch.cache ?? []) this.sql(UPSERT_CACHE).run(...cacheRow(c));
      for (const f of batch.findings ?? []) {
        this.sql(INSERT_FINDING).run(f.runId, f.kind, f.message, JSON.stringify(f.data));
      }
    });
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = this.sql("SELECT * FROM runs WHERE id = ?").get(id);
    return row && toRun(row);
  }

  async listRuns(query: RunQuery = {}): Promise<RunRecord[]> {
    const limit = query.limit ?? 50;
    const rows =
      query.workflowPath === undefined
        ? this.sql("SELECT * FROM runs ORDER BY id DESC LIMIT ?").all(limit)
        : this.sql("SELECT * FROM runs WHERE workflow_path = ? ORDER BY id DESC LIMIT ?").all(
            query.workflowPath,
            limit,
          );
    return rows.map(toRun);
  }

  async events(runId: string, afterSeq = 0): Promise<EventRecord[]> {
    return this.sql("SELECT * FROM events WHERE run_id = ? AND seq > ? ORDER BY seq")
      .all(runId, afterSeq)
      .map(toEvent);
  }

  async attempts(runId: string): Promise<AttemptRecord[]> {
    return this.sql("SELECT * FROM attempts WHERE run_id = ? ORDER BY started_at, step_id, attempt")
      .all(runId)
      .map(toAttempt);
  }

  async findings(runId: string): Promise<Finding[]> {
    return this.sql("SELECT * FROM findings WHERE run_id = ? ORDER BY rowid")
      .all(runId)
      .map((r) => ({
        runId: String(r.run_id),
        kind: r.kind as Finding["kind"],
        message: String(r.message),
        data: JSON.parse(String(r.data)) as Record<string, unknown>,
      }));
  }

  async blob(hash: string): Promise<string | undefined> {
    const row = this.sql("SELECT text FROM blobs WHERE hash = ?").get(hash);
    return row ? String(row.text) : undefined;
  }

  async cacheLookup(key: string, now: string): Promise<CacheEntry | undefined> {
    const row = this.sql(
      "SELECT * FROM cache WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)",
    ).get(key, now);
    return row && toCache(row);
  }

  async previousLiveAttempt(
    workflowPath: string,
    stepId: string,
    exceptRunId: string,
  ): Promise<AttemptRecord | undefined> {
    const row = this.sql(
      `SELECT a.* FROM attempts a JOIN runs r ON r.id = a.run_id
       WHERE r.workflow_path = ? AND a.step_id = ? AND a.run_id <> ?
         AND a.origin = 'live' AND a.status = 'succeeded'
       ORDER BY a.run_id DESC, a.attempt DESC LIMIT 1`,
    ).get(workflowPath, stepId, exceptRunId);
    return row && toAttempt(row);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private sql(text: string): SqlStatement {
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }
}

const INSERT_BLOB = "INSERT OR IGNORE INTO blobs (hash, text) VALUES (?, ?)";
const UPSERT_RUN = `INSERT INTO runs (id, workflow_path, workflow_name, source_hash, inputs_hash,
  status, mode, parent_id, started_at, ended_at, outputs_hash, error, owner_pid, heartbeat_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO UPDATE SET status = excluded.status, ended_at = excluded.ended_at,
  outputs_hash = excluded.outputs_hash, error = excluded.error, owner_pid = excluded.owner_pid,
  heartbeat_at = excluded.heartbeat_at`;
const INSERT_EVENT =
  "INSERT INTO events (run_id, seq, type, step_id, attempt, at, data) VALUES (?, ?, ?, ?, ?, ?, ?)";
const INSERT_ATTEMPT = `INSERT INTO attempts (run_id, step_id, attempt, status, origin, input_hash,
  output_hash, error_kind, error_message, started_at, ended_at, cache_key, source_run_id, meta)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const UPSERT_CACHE = `INSERT OR REPLACE INTO cache (key, output_hash, run_id, step_id, created_at,
  expires_at) VALUES (?, ?, ?, ?, ?, ?)`;
const INSERT_FINDING = "INSERT INTO findings (run_id, kind, message, data) VALUES (?, ?, ?, ?)";

const json = (v: unknown): string | null => (v == null ? null : JSON.stringify(v));
const parse = (v: unknown): Record<string, unknown> | null =>
  v == null ? null : (JSON.parse(String(v)) as Record<string, unknown>);
const text = (v: unknown): string | null => (v == null ? null : String(v));
const num = (v: unknown): number | null => (v == null ? null : Number(v));

function runRow(r: RunRecord): SqlValue[] {
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
  ];
}

function toRun(r: Record<string, unknown>): RunRecord {
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
  };
}

function eventRow(e: EventRecord): SqlValue[] {
  return [e.runId, e.seq, e.type, e.stepId, e.attempt, e.at, json(e.data)];
}

function toEvent(r: Record<string, unknown>): EventRecord {
  return {
    runId: String(r.run_id),
    seq: Number(r.seq),
    type: r.type as EventRecord["type"],
    stepId: text(r.step_id),
    attempt: num(r.attempt),
    at: String(r.at),
    data: parse(r.data),
  };
}

function attemptRow(a: AttemptRecord): SqlValue[] {
  return [
    a.runId,
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
    json(a.meta),
  ];
}

function toAttempt(r: Record<string, unknown>): AttemptRecord {
  return {
    runId: String(r.run_id),
    stepId: String(r.step_id),
    attempt: Number(r.attempt),
    status: r.status as AttemptRecord["status"],
    origin: r.origin as AttemptRecord["origin"],
    inputHash: String(r.input_hash),
    outputHash: text(r.output_hash),
    errorKind: text(r.error_kind),
    errorMessage: text(r.error_message),
    startedAt: String(r.started_at),
    endedAt: String(r.ended_at),
    cacheKey: text(r.cache_key),
    sourceRunId: text(r.source_run_id),
    meta: parse(r.meta),
  };
}

function cacheRow(c: CacheEntry): SqlValue[] {
  return [c.key, c.outputHash, c.runId, c.stepId, c.createdAt, c.expiresAt];
}

function toCache(r: Record<string, unknown>): CacheEntry {
  return {
    key: String(r.key),
    outputHash: String(r.output_hash),
    runId: String(r.run_id),
    stepId: String(r.step_id),
    createdAt: String(r.created_at),
    expiresAt: text(r.expires_at),
  };
}
