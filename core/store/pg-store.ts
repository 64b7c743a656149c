// The PostgreSQL run store (docs/cli.md, "PostgreSQL stores"): the same logical schema as the
// SQLite store, in a schema of its own (`keel` unless told), so a team's workers and their readers
// share one record.
// Every commit is one transaction. Many processes write to one database, so what SQLite gets from
// its single writer lock is held by keys here: a commit appends a run's segment with the key that
// follows the run's last one, and a second writer that read the same tail collides on that primary
// key and is refused whole, so a run's event sequence never has a gap or a repeat.
// Invariants: migrations run once, under an advisory lock, before anything else touches the
// schema (workers starting together on an empty database do not race); a schema whose version is
// newer than PG_MIGRATIONS is opened read-only and never migrated down; opening with
// `readOnly: true` never creates or changes anything.
// This module loads `pg`: it is reached only through `@keel/production` (core/production.ts).
import pg from "pg";
import { COMMITS_PER_RUN } from "./migrations";
import { releaseLock, takeLock } from "./pg-lock";
import { PG_MIGRATIONS } from "./pg-migrations";
import {
  attemptTuple,
  cacheRow,
  eventFromTuple,
  fromTuple,
  logsByRun,
  segmentAfter,
  runRow,
  toCache,
  toProcess,
  toRun,
  type AttemptTuple,
  type EventTuple,
  type Tail,
} from "./rows";
import { inlineValue } from "../record/refs";
import type {
  AttemptRecord,
  CacheEntry,
  EventRecord,
  Finding,
  ProcessRecord,
  RunRecord,
  WriteBatch,
} from "../record/records";
import { ExpandedLinks, expandStored } from "./chains";
import type { RunQuery, RunStore } from "./run-store";

/** A connection with a transaction open on it: `pg`'s, whichever copy of `pg` opened it. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export interface PgStoreOptions {
  /** The PostgreSQL schema holding Keel's tables; default `keel`. */
  readonly schema?: string;
  /** Open for reading only: nothing is created or migrated, and commits are refused. */
  readonly readOnly?: boolean;
  /** Connections kept at most; default 4. */
  readonly maxConnections?: number;
}

/** Thrown by `appendIn` when the run it appends to has ended. */
export class RunEndedError extends Error {}

/** Thrown when a read-only open finds no Keel store at the URL. */
export class NoPgStoreError extends Error {}

/** Opens (and, unless read-only, creates and migrates) the store at a postgres:// URL. */
export async function openPgStore(url: string, options: PgStoreOptions = {}): Promise<PgStore> {
  const schema = options.schema ?? "keel";
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`'${schema}' is not a schema name Keel uses (lowercase letters, digits, _)`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 4,
    options: `-c search_path=${schema}`,
  });
  // An idle connection that the server drops is an error on the pool: without a listener it
  // would crash the process; the next query opens a new connection.
  pool.on("error", () => {});
  try {
    const version = options.readOnly
      ? await currentVersion(pool, schema)
      : await migrate(pool, schema);
    if (version === undefined) {
      throw new NoPgStoreError(`no Keel run store in schema '${schema}' at ${redactUrl(url)}`);
    }
    return new PgStore(pool, options.readOnly === true || version > PG_MIGRATIONS.length, schema);
  } catch (e) {
    await pool.end();
    throw e;
  }
}

/** A URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
}

/** The schema's version, or undefined when there is no Keel store in it. */
async function currentVersion(pool: pg.Pool, schema: string): Promise<number | undefined> {
  const exists = await pool.query(
    "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'schema_version'",
    [schema],
  );
  if (exists.rowCount === 0) return undefined;
  const row = await pool.query("SELECT version FROM schema_version");
  return Number(row.rows[0]?.version ?? 0);
}

/** Brings the schema to the newest version, once, under an advisory lock; returns its version. */
async function migrate(pool: pg.Pool, schema: string): Promise<number> {
  const client = await pool.connect();
  const lock = `keel.migrate.${schema}`;
  try {
    await takeLock(client, lock);
    try {
      // Read inside the lock: another process may have migrated meanwhile.
      const known = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
      if (known.rowCount === 0) await client.query(`CREATE SCHEMA ${schema}`);
      await client.query(
        "CREATE TABLE IF NOT EXISTS schema_version (one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one), version INTEGER NOT NULL)",
      );
      await client.query("INSERT INTO schema_version (version) VALUES (0) ON CONFLICT DO NOTHING");
      const current = Number(
        (await client.query("SELECT version FROM schema_version")).rows[0].version,
      );
      if (current >= PG_MIGRATIONS.length) return current;
      await client.query("BEGIN");
      try {
        for (let v = current; v < PG_MIGRATIONS.length; v++) await client.query(PG_MIGRATIONS[v]!);
        await client.query("UPDATE schema_version SET version = $1", [PG_MIGRATIONS.length]);
        await client.query("COMMIT");
      } catch (e) {
        await client.query("ROLLBACK");
        throw e;
      }
      return PG_MIGRATIONS.length;
    } finally {
      await releaseLock(client, lock);
    }
  } finally {
    client.release();
  }
}

export class PgStore implements RunStore {
  /** Agents' turn inputs expanded lately (chains.ts). */
  private readonly expanded = new ExpandedLinks();
  private readonly tails = new Map<string, Tail>();
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    readonly readOnly: boolean,
    private readonly schema = "keel",
  ) {}

  /**
   * Writes `batch` inside a transaction the caller has open on a connection of its own (a DBOS
   * step's, so that the record and DBOS's checkpoint of the step commit together or not at all).
   * Many processes append to one run at once here (a distributed run's steps end on different
   * workers), so each run's row is locked first and its tail read under the lock: the events are
   * numbered to follow it, and concurrent appends wait for each other instead of colliding.
   */
  async appendIn(client: Queryable, batch: WriteBatch): Promise<void> {
    if (this.readOnly) {
      throw new Error("this run store is read-only (opened so, or written by a newer Keel)");
    }
    // For the rest of this transaction only; DBOS names its own tables with their schema.
    await client.query("SELECT set_config('search_path', $1, true)", [this.schema]);
    await this.write(client, batch, new Map(), true);
    for (const r of [...(batch.events ?? []), ...(batch.attempts ?? [])]) {
      this.tails.delete(r.runId);
    }
  }

  /** `appendIn` on a transaction of the store's own. */
  async append(batch: WriteBatch): Promise<void> {
    await this.appendAfter(undefined, () => batch);
  }

  /**
   * Appends what `build` makes of run `runId` as it is (its record and its events, read on the
   * transaction that appends, with the run's row locked, so nothing is appended in between);
   * `build` returns undefined to append nothing. Returns whether something was appended.
   */
  async appendAfter(
    runId: string | undefined,
    build: (run: RunRecord | undefined, events: EventRecord[]) => WriteBatch | undefined,
  ): Promise<boolean> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      let run: RunRecord | undefined;
      let events: EventRecord[] = [];
      if (runId !== undefined) {
        const row = (await client.query("SELECT * FROM runs WHERE id = $1 FOR UPDATE", [runId]))
          .rows[0];
        run = row && toRun(row);
        if (run) events = await this.events(runId, 0, client);
      }
      const batch = build(run, events);
      if (!batch) {
        await client.query("ROLLBACK");
        return false;
      }
      await this.appendIn(client, batch);
      await client.query("COMMIT");
      return true;
    } catch (e) {
      await client.query("ROLLBACK").catch((rollback: Error) => (broken = rollback));
      throw e;
    } finally {
      client.release(broken);
    }
  }

  async commit(batch: WriteBatch): Promise<void> {
    if (this.readOnly) {
      throw new Error("this run store is read-only (opened so, or written by a newer Keel)");
    }
    const client = await this.pool.connect();
    const pending = new Map<string, Tail>();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      await this.write(client, batch, pending);
      await client.query("COMMIT");
      for (const [runId, tail] of pending) this.tails.set(runId, tail);
    } catch (e) {
      // A refused commit may mean another writer went on with the run: read its tail again.
      for (const runId of pending.keys()) this.tails.delete(runId);
      for (const r of [...(batch.events ?? []), ...(batch.attempts ?? [])]) {
        this.tails.delete(r.runId);
      }
      try {
        await client.query("ROLLBACK");
      } catch (rollback) {
        broken = rollback as Error;
      }
      throw e;
    } finally {
      client.release(broken);
    }
  }

  private async write(
    client: Queryable,
    batch: WriteBatch,
    pending: Map<string, Tail>,
    renumber = false,
  ): Promise<void> {
    // Appending alongside other writers: each run's row locked, then its tail read. Two
    // statements: in READ COMMITTED a statement that waited for the lock still reads the log as
    // it was when it began, so the tail must be read by a statement that starts after the lock.
    const locked = new Map<string, Tail>();
    if (renumber) {
      const runIds = new Set(
        [...(batch.runs ?? []), ...(batch.events ?? []), ...(batch.attempts ?? [])].map((r) =>
          "runId" in r ? r.runId : r.id,
        ),
      );
      for (const runId of runIds) {
        const row = (await client.query(LOCK_RUN, [runId])).rows[0];
        if (!row) continue; // a new run: its row is written below, its log starts empty
        const status = String(row.status);
        // A run that ended (a cancel recorded its end while a worker was still at work) takes
        // nothing more: its log stays as its end left it.
        if (status !== "running") {
          throw new RunEndedError(`run ${runId} has ended (${status}): nothing more is recorded`);
        }
        locked.set(runId, await this.readTail(client, runId));
      }
    }
    const blobs = batch.blobs ?? [];
    if (blobs.length > 0) {
      await client.query(
        "INSERT INTO blobs (hash, text) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
        [blobs.map((b) => b.hash), blobs.map((b) => b.text)],
      );
    }
    for (const r of batch.runs ?? []) await client.query(UPSERT_RUN, runRow(r));
    for (const [runId, recorded, atts] of logsByRun(batch.events ?? [], batch.attempts ?? [])) {
      let evs = recorded;
      let tail: Tail;
      if (renumber) {
        tail = locked.get(runId) ?? (await this.readTail(client, runId));
        evs = recorded.map((e, i) => ({ ...e, seq: tail.lastSeq + 1 + i }));
      } else tail = await this.tail(client, runId);
      const s = segmentAfter(tail, runId, evs, atts);
      await client.query(INSERT_LOG, [s.key, s.firstSeq, s.lastSeq, s.events, s.attempts]);
      pending.set(runId, { key: s.key, lastSeq: s.lastSeq });
      if (s.calls.length > 0) {
        await client.query(
          `INSERT INTO model_calls (run_id, step_id, scope, attempt, data)
           SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[], $5::text[])`,
          [
            runId,
            s.calls.map((a) => a.stepId),
            s.calls.map((a) => a.scope ?? ""),
            s.calls.map((a) => a.attempt),
            s.calls.map((a) => JSON.stringify(attemptTuple(a))),
          ],
        );
      }
    }
    for (const c of batch.cache ?? []) await client.query(UPSERT_CACHE, cacheRow(c));
    const findings = batch.findings ?? [];
    if (findings.length > 0) {
      await client.query(
        `INSERT INTO findings (run_id, kind, message, data)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`,
        [
          findings.map((f) => f.runId),
          findings.map((f) => f.kind),
          findings.map((f) => f.message),
          findings.map((f) => JSON.stringify(f.data)),
        ],
      );
    }
    const processes = batch.processes ?? [];
    if (processes.length > 0) {
      await client.query(
        `INSERT INTO processes (run_id, step_id, attempt, pid, start)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[])
         ON CONFLICT DO NOTHING`,
        [
          processes.map((p) => p.runId),
          processes.map((p) => p.stepId),
          processes.map((p) => p.attempt),
          processes.map((p) => p.pid),
          processes.map((p) => p.start),
        ],
      );
    }
  }

  /**
   * Where a run's log ends, remembered from this store's last commit to the run, else read.
   * A remembered tail that another writer has moved on is caught by the segment key (see above).
   */
  private async tail(client: Queryable, runId: string): Promise<Tail> {
    return this.tails.get(runId) ?? this.readTail(client, runId);
  }

  private async readTail(client: Queryable, runId: string): Promise<Tail> {
    const row = (await client.query(TAIL, [runId, COMMITS_PER_RUN])).rows[0];
    if (!row) throw new Error(`run ${runId} is not recorded: commit its run record first`);
    return tailOf(row);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = (await this.pool.query("SELECT * FROM runs WHERE id = $1", [id])).rows[0];
    return row && toRun(row);
  }

  async listRuns(query: RunQuery = {}): Promise<RunRecord[]> {
    const limit = query.limit ?? 50;
    const result =
      query.workflowPath === undefined
        ? await this.pool.query("SELECT * FROM runs ORDER BY id DESC LIMIT $1", [limit])
        : await this.pool.query(
            "SELECT * FROM runs WHERE workflow_path = $1 ORDER BY id DESC LIMIT $2",
            [query.workflowPath, limit],
          );
    return result.rows.map(toRun);
  }

  async events(runId: string, afterSeq = 0, on: Queryable = this.pool): Promise<EventRecord[]> {
    const out: EventRecord[] = [];
    const rows = (await on.query(SELECT_EVENTS, [runId, COMMITS_PER_RUN, afterSeq])).rows;
    for (const row of rows) {
      for (const t of JSON.parse(String(row.events)) as EventTuple[]) {
        if (t[0] > afterSeq) out.push(eventFromTuple(runId, t));
      }
    }
    return out;
  }

  async attempts(runId: string): Promise<AttemptRecord[]> {
    const out: AttemptRecord[] = [];
    const rows = (await this.pool.query(SELECT_ATTEMPTS, [runId, COMMITS_PER_RUN])).rows;
    for (const row of rows) {
      for (const t of JSON.parse(String(row.attempts)) as AttemptTuple[]) {
        out.push(fromTuple(runId, t));
      }
    }
    return out;
  }

  async processes(runId: string): Promise<ProcessRecord[]> {
    const rows = (
      await this.pool.query("SELECT * FROM processes WHERE run_id = $1 ORDER BY pid", [runId])
    ).rows;
    return rows.map(toProcess);
  }

  async findings(runId: string): Promise<Finding[]> {
    const rows = (
      await this.pool.query("SELECT * FROM findings WHERE run_id = $1 ORDER BY rowid", [runId])
    ).rows;
    return rows.map((r) => ({
      runId: String(r.run_id),
      kind: r.kind as Finding["kind"],
      message: String(r.message),
      data: JSON.parse(String(r.data)) as Record<string, unknown>,
    }));
  }

  async blob(hash: string): Promise<string | undefined> {
    const inline = inlineValue(hash);
    if (inline !== undefined) return inline;
    const stored = async (h: string) => {
      const row = (await this.pool.query("SELECT text FROM blobs WHERE hash = $1", [h])).rows[0];
      return row ? String(row.text) : undefined;
    };
    const text = await stored(hash);
    return text === undefined ? undefined : expandStored(hash, text, stored, this.expanded);
  }

  async cacheLookup(key: string, now: string): Promise<CacheEntry | undefined> {
    const row = (
      await this.pool.query(
        "SELECT * FROM cache WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)",
        [key, now],
      )
    ).rows[0];
    return row && toCache(row);
  }

  async previousModelCall(
    workflowPath: string,
    stepId: string,
    exceptRunId: string,
  ): Promise<AttemptRecord | undefined> {
    const row = (
      await this.pool.query(
        `SELECT m.run_id, m.data FROM model_calls m JOIN runs r ON r.id = m.run_id
         WHERE m.step_id = $1 AND r.workflow_path = $2 AND m.run_id <> $3
         ORDER BY m.run_id DESC, m.attempt DESC, m.scope COLLATE "C" LIMIT 1`,
        [stepId, workflowPath, exceptRunId],
      )
    ).rows[0];
    return row && fromTuple(String(row.run_id), JSON.parse(String(row.data)) as AttemptTuple);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

const UPSERT_RUN = `INSERT INTO runs (id, workflow_path, workflow_name, source_hash, inputs_hash,
  status, mode, parent_id, started_at, ended_at, outputs_hash, error, owner_pid, heartbeat_at,
  parent_scope)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
  ON CONFLICT (id) DO UPDATE SET status = excluded.status, ended_at = excluded.ended_at,
  outputs_hash = excluded.outputs_hash, error = excluded.error, owner_pid = excluded.owner_pid,
  heartbeat_at = excluded.heartbeat_at`;
/** Where a run's log ends, from a TAIL or LOCK_TAIL row. */
function tailOf(row: Record<string, unknown>): Tail {
  const first = Number(row.no) * COMMITS_PER_RUN;
  return { key: row.id == null ? first : Number(row.id), lastSeq: Number(row.last_seq ?? 0) };
}

/** A run's status, its row locked for the rest of the transaction. */
const LOCK_RUN = "SELECT status FROM runs WHERE id = $1 FOR UPDATE";
/** A run's number and its last segment, if any ($2 = COMMITS_PER_RUN). */
const TAIL = `SELECT r.no, l.id, l.last_seq FROM runs r
  LEFT JOIN LATERAL (SELECT id, last_seq FROM run_log
    WHERE id BETWEEN r.no * $2 AND r.no * $2 + $2 - 1 ORDER BY id DESC LIMIT 1) l ON true
  WHERE r.id = $1`;
const INSERT_LOG = `INSERT INTO run_log (id, first_seq, last_seq, events, attempts)
  VALUES ($1, $2, $3, $4, $5)`;
const SELECT_EVENTS = `SELECT l.events FROM runs r JOIN run_log l
  ON l.id BETWEEN r.no * $2 AND r.no * $2 + $2 - 1
  WHERE r.id = $1 AND l.last_seq > $3 AND l.events IS NOT NULL ORDER BY l.id`;
const SELECT_ATTEMPTS = `SELECT l.attempts FROM runs r JOIN run_log l
  ON l.id BETWEEN r.no * $2 AND r.no * $2 + $2 - 1
  WHERE r.id = $1 AND l.attempts IS NOT NULL ORDER BY l.id`;
const UPSERT_CACHE = `INSERT INTO cache (key, output_hash, run_id, step_id, created_at, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (key) DO UPDATE SET output_hash = excluded.output_hash, run_id = excluded.run_id,
  step_id = excluded.step_id, created_at = excluded.created_at, expires_at = excluded.expires_at`;
