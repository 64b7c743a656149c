// The SQLite run store (docs/runner.md, "What is recorded"): WAL, synchronous=NORMAL (a commit
// survives a killed process, not a power cut), a busy timeout because the CLI and the editor share
// the file, statements prepared once, every commit one IMMEDIATE transaction. A commit writes a
// run's events and attempts as one segment row (migration 2), so its cost hardly grows with the
// records in it.
// Invariant: a store whose user_version is newer than MIGRATIONS is opened read-only and never
// migrated down.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { COMMITS_PER_RUN, MIGRATIONS } from "./migrations";
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
import type { RunQuery, RunStore } from "./run-store";
import {
  attemptTuple,
  cacheRow,
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
  eventFromTuple,
} from "./rows";
import { openDefaultDriver, type SqlDriver, type SqlStatement } from "./sql-driver";
import {
  cannotWrite,
  checkedVersion,
  guardedOpen,
  isAccessError,
  messageOf,
  readOnlyHere,
  startsAsSqlite,
  StoreFileError,
  type Opener,
} from "./sqlite-file";
import { ExpandedLinks, expandStored } from "./chains";

export { StoreFileError };

export interface SqliteStoreOptions {
  /** Opens the database; default better-sqlite3, or node:sqlite where that cannot load. */
  readonly open?: (path: string, options: { readOnly?: boolean }) => SqlDriver;
  /**
   * For commands that only read: a missing file reads as an empty store (nothing is created), and
   * a store this process may not write (a read-only file or folder) is read as it is.
   */
  readonly readOnly?: boolean;
}

export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): RunStore {
  const raw = options.open ?? openDefaultDriver;
  const open = guardedOpen(raw, path);
  if (path === ":memory:") return openWritable(open, path);
  if (options.readOnly) {
    if (!existsSync(path)) return openWritable(open, ":memory:");
    try {
      return openWritable(open, path);
    } catch (e) {
      if (!isAccessError(e)) throw e;
    }
    return openForReading(raw, path);
  }
  try {
    mkdirSync(dirname(path), { recursive: true });
    const problem = readOnlyHere(path);
    if (problem) throw new StoreFileError(path, "access", cannotWrite(path, problem));
    return openWritable(open, path);
  } catch (e) {
    if (e instanceof StoreFileError && e.message.startsWith("cannot write")) throw e;
    if (isAccessError(e)) throw new StoreFileError(path, "access", cannotWrite(path, messageOf(e)));
    throw e;
  }
}

/**
 * Opens the store to read and write, creating and migrating it as needed; `copy` removes the
 * temporary copy this is (then the store is read-only to its users).
 */
function openWritable(open: Opener, path: string, copy?: () => void): SqliteStore {
  let db = open(path, {});
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    const version = checkedVersion(db, path);
    if (version > MIGRATIONS.length) {
      db.close();
      db = open(path, { readOnly: true });
      db.exec("PRAGMA busy_timeout = 5000");
      return new SqliteStore(db, NEWER);
    }
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA wal_autocheckpoint = 10000");
    migrate(db);
    return copy
      ? new SqliteStore(db, READ_ONLY, copy)
      : new SqliteStore(db, null, undefined, path === ":memory:" ? undefined : path);
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * A store this process may not write, for reading: where it is when SQLite can read it there (a
 * read-only file in a writable folder, at the current schema), else a copy in a temporary folder
 * (a read-only folder, where SQLite cannot make the files a WAL database is read with; a store
 * left with a journal to roll back; an older schema), removed when the store is closed.
 */
function openForReading(raw: Opener, path: string): SqliteStore {
  try {
    const db = guardedOpen(raw, path)(path, { readOnly: true });
    try {
      db.exec("PRAGMA busy_timeout = 5000");
      const version = checkedVersion(db, path);
      if (version >= MIGRATIONS.length) {
        db.prepare("SELECT id FROM runs LIMIT 1").get();
        return new SqliteStore(db, version > MIGRATIONS.length ? NEWER : READ_ONLY);
      }
    } catch (e) {
      db.close();
      throw e;
    }
    db.close();
  } catch (e) {
    if (!isAccessError(e)) throw e;
  }
  const dir = mkdtempSync(join(tmpdir(), "keel-store-"));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const copy = join(dir, "runs.sqlite");
    for (const suffix of ["", "-wal", "-journal"]) {
      if (existsSync(path + suffix)) copyFileSync(path + suffix, copy + suffix);
    }
    return openWritable(guardedOpen(raw, path, copy), copy, remove);
  } catch (e) {
    remove();
    if (isAccessError(e))
      throw new StoreFileError(
        path,
        "access",
        `cannot read the run store ${path}: ${messageOf(e)}. Give this user read access to the file and its folder, or name another store with --store`,
      );
    throw e;
  }
}

/** Why a store is read-only, for the error a commit to it raises. */
const NEWER = "this run store was written by a newer Keel: it is read-only";
const READ_ONLY = "this run store was opened for reading only";

function migrate(db: SqlDriver): void {
  db.transaction(() => {
    // Read again inside the write lock: another process may have migrated meanwhile.
    const current = Number(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
    for (let v = current; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    if (current < MIGRATIONS.length) db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
  });
}

class SqliteStore implements RunStore {
  /** Agents' turn inputs expanded lately (chains.ts). */
  private readonly expanded = new ExpandedLinks();
  private readonly statements = new Map<string, SqlStatement>();
  private readonly tails = new Map<string, Tail>();
  private readonly pendingTails = new Map<string, Tail>();
  private closed = false;

  readonly readOnly: boolean;

  private readonly logFiles = new Map<string, { readonly dev: number; readonly ino: number }>();
  /** The store file's modification time and size when `verify` last read its header. */
  private headerRead: { readonly mtimeMs: number; readonly size: number } | undefined;
  /** The store file's identity when it was opened (`verify`). */
  private readonly identity: { readonly dev: number; readonly ino: number } | undefined;

  /**
   * `readOnlyBecause`: why commits are refused (null: they are not); `onClose`: after closing;
   * `file`: the store file, whose identity `verify` checks.
   */
  constructor(
    private readonly db: SqlDriver,
    private readonly readOnlyBecause: string | null,
    private readonly onClose?: () => void,
    private readonly file?: string,
  ) {
    this.readOnly = readOnlyBecause !== null;
    const stat = file !== undefined ? statSync(file, { throwIfNoEntry: false }) : undefined;
    this.identity = stat && { dev: stat.dev, ino: stat.ino };
    // What a commit runs is prepared with the store, so that a run's first commit costs what the
    // others do (preparing a statement takes longer than running it).
    if (!this.readOnly) for (const text of WRITES) this.sql(text);
  }

  /**
   * Throws a StoreFileError ("lost") when the store file is no longer the one this store opened:
   * deleted, replaced by another file, or overwritten (it no longer starts as a SQLite database).
   * SQLite would go on writing to the deleted or rewritten file without a word, and a run would
   * report success with its record gone. `after` says what ran just before, for the message.
   */
  verify(after?: string): void {
    if (this.identity === undefined || this.file === undefined || this.closed) return;
    const path = this.file;
    const stat = statSync(path, { throwIfNoEntry: false });
    let what: string | undefined;
    if (!stat) what = "was deleted";
    else if (stat.ino !== this.identity.ino || stat.dev !== this.identity.dev)
      what = "was replaced by another file";
    else if (this.headerRead?.mtimeMs === stat.mtimeMs && this.headerRead.size === stat.size)
      return; // not written since its header was last read (commits go to the -wal file)
    else if (!startsAsSqlite(path))
      what = "was overwritten (it no longer starts as a SQLite database)";
    if (what === undefined && stat) {
      this.headerRead = { mtimeMs: stat.mtimeMs, size: stat.size };
      return;
    }
    if (stat?.ino !== this.identity.ino) this.dropOwnLog();
    throw new StoreFileError(
      path,
      "lost",
      `the run store ${path} ${what}${after ? ` while ${after} ran` : ""}. Nothing more of this run can be recorded, so it stops here, and what the store held is lost: with a deleted or replaced file, every run in it, this one too. A step that deletes or rewrites the store's folder (${dirname(path)}) destroys the store: keep the store out of what the workflow's steps change (--store <file> elsewhere), then run the workflow again`,
    );
  }

  /**
   * Removes this store's -wal and -shm files from beside a path that now holds another file (or
   * none): SQLite would read them as the new file's log and mix this store's pages into it.
   */
  private dropOwnLog(): void {
    for (const [suffix, known] of this.logFiles) {
      const stat = statSync(this.file + suffix, { throwIfNoEntry: false });
      if (stat && stat.ino === known.ino && stat.dev === known.dev) rmSync(this.file + suffix);
    }
  }

  /** The identities of this store's -wal and -shm files, once they exist (after a commit). */
  private noteLogFiles(): void {
    if (this.file === undefined || this.logFiles.size === 2) return;
    for (const suffix of ["-wal", "-shm"]) {
      const stat = statSync(this.file + suffix, { throwIfNoEntry: false });
      if (stat) this.logFiles.set(suffix, { dev: stat.dev, ino: stat.ino });
    }
  }

  async commit(batch: WriteBatch): Promise<void> {
    if (this.readOnlyBecause !== null) throw new Error(this.readOnlyBecause);
    this.verify();
    this.pendingTails.clear();
    this.db.transaction(() => {
      for (const b of batch.blobs ?? []) this.sql(INSERT_BLOB).run(b.hash, b.text);
      for (const r of batch.runs ?? []) this.sql(UPSERT_RUN).run(...runRow(r));
      this.appendLog(batch.events ?? [], batch.attempts ?? []);
      for (const c of batch.cache ?? []) this.sql(UPSERT_CACHE).run(...cacheRow(c));
      for (const f of batch.findings ?? []) {
        this.sql(INSERT_FINDING).run(f.runId, f.kind, f.message, JSON.stringify(f.data));
      }
      for (const p of batch.processes ?? []) {
        this.sql(INSERT_PROCESS).run(p.runId, p.stepId, p.attempt, p.pid, p.start);
      }
    });
    for (const [runId, tail] of this.pendingTails) this.tails.set(runId, tail);
    this.noteLogFiles();
  }

  /**
   * Where a run's log ends: the key of its last segment (the run's first key minus one when it has
   * none) and its last event. Remembered from this connection's last commit to the run: another
   * writer of the same run (a second resume) takes the same key, and its commit or this one is
   * refused by it, so a remembered tail is never silently wrong.
   */
  private tail(runId: string): Tail {
    const known = this.tails.get(runId);
    if (known) return known;
    const no = this.sql(RUN_NO).get(runId)?.no;
    if (no === undefined)
      throw new Error(`run ${runId} is not recorded: commit its run record first`);
    const first = Number(no) * COMMITS_PER_RUN;
    const row = this.sql(LOG_TAIL).get(first, first + COMMITS_PER_RUN - 1);
    return { key: Number(row?.id ?? first), lastSeq: Number(row?.last_seq ?? 0) };
  }

  /** The range of segment keys that belong to a run; empty when the run is unknown. */
  private range(runId: string): [number, number] {
    const no = this.sql(RUN_NO).get(runId)?.no;
    if (no === undefined) return [1, 0];
    const first = Number(no) * COMMITS_PER_RUN;
    return [first, first + COMMITS_PER_RUN - 1];
  }

  /**
   * One segment per run and commit. The run's events must go on from its last one, without a gap
   * or a repeat; its attempts come back in the order they were committed.
   */
  private appendLog(events: readonly EventRecord[], attempts: readonly AttemptRecord[]): void {
    for (const [runId, evs, atts] of logsByRun(events, attempts)) {
      const s = segmentAfter(this.tail(runId), runId, evs, atts);
      this.sql(INSERT_LOG).run(s.key, s.firstSeq, s.lastSeq, s.events, s.attempts);
      this.pendingTails.set(runId, { key: s.key, lastSeq: s.lastSeq });
      for (const a of s.calls) {
        this.sql(INSERT_MODEL_CALL).run(
          runId,
          a.stepId,
          a.scope ?? "",
          a.attempt,
          JSON.stringify(attemptTuple(a)),
        );
      }
    }
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
    const out: EventRecord[] = [];
    for (const row of this.sql(SELECT_EVENTS).all(...this.range(runId), afterSeq)) {
      for (const t of JSON.parse(String(row.events)) as EventTuple[]) {
        if (t[0] > afterSeq) {
          out.push(eventFromTuple(runId, t));
        }
      }
    }
    return out;
  }

  async attempts(runId: string): Promise<AttemptRecord[]> {
    const out: AttemptRecord[] = [];
    for (const row of this.sql(SELECT_ATTEMPTS).all(...this.range(runId))) {
      for (const t of JSON.parse(String(row.attempts)) as AttemptTuple[])
        out.push(fromTuple(runId, t));
    }
    return out;
  }

  async processes(runId: string): Promise<ProcessRecord[]> {
    return this.sql("SELECT * FROM processes WHERE run_id = ? ORDER BY pid")
      .all(runId)
      .map(toProcess);
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
    const inline = inlineValue(hash);
    if (inline !== undefined) return inline;
    const stored = (h: string) => {
      const row = this.sql("SELECT text FROM blobs WHERE hash = ?").get(h);
      return row ? String(row.text) : undefined;
    };
    const text = stored(hash);
    return text === undefined
      ? undefined
      : expandStored(hash, text, async (h) => stored(h), this.expanded);
  }

  async cacheLookup(key: string, now: string): Promise<CacheEntry | undefined> {
    const row = this.sql(
      "SELECT * FROM cache WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)",
    ).get(key, now);
    return row && toCache(row);
  }

  async previousModelCall(
    workflowPath: string,
    stepId: string,
    exceptRunId: string,
  ): Promise<AttemptRecord | undefined> {
    const row = this.sql(
      `SELECT m.run_id, m.data FROM model_calls m JOIN runs r ON r.id = m.run_id
       WHERE m.step_id = ? AND r.workflow_path = ? AND m.run_id <> ?
       ORDER BY m.run_id DESC, m.attempt DESC, m.scope LIMIT 1`,
    ).get(stepId, workflowPath, exceptRunId);
    return row && fromTuple(String(row.run_id), JSON.parse(String(row.data)) as AttemptTuple);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
    this.onClose?.();
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
  status, mode, parent_id, started_at, ended_at, outputs_hash, error, owner_pid, heartbeat_at,
  parent_scope)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO UPDATE SET status = excluded.status, ended_at = excluded.ended_at,
  outputs_hash = excluded.outputs_hash, error = excluded.error, owner_pid = excluded.owner_pid,
  heartbeat_at = excluded.heartbeat_at`;
const LOG_TAIL =
  "SELECT id, last_seq FROM run_log WHERE id BETWEEN ? AND ? ORDER BY id DESC LIMIT 1";
const INSERT_LOG =
  "INSERT INTO run_log (id, first_seq, last_seq, events, attempts) VALUES (?, ?, ?, ?, ?)";
const SELECT_EVENTS = `SELECT events FROM run_log
  WHERE id BETWEEN ? AND ? AND last_seq > ? AND events IS NOT NULL ORDER BY id`;
const SELECT_ATTEMPTS =
  "SELECT attempts FROM run_log WHERE id BETWEEN ? AND ? AND attempts IS NOT NULL ORDER BY id";
const INSERT_MODEL_CALL =
  "INSERT INTO model_calls (run_id, step_id, scope, attempt, data) VALUES (?, ?, ?, ?, ?)";
const RUN_NO = "SELECT no FROM runs WHERE id = ?";
const UPSERT_CACHE = `INSERT OR REPLACE INTO cache (key, output_hash, run_id, step_id, created_at,
  expires_at) VALUES (?, ?, ?, ?, ?, ?)`;
const INSERT_FINDING = "INSERT INTO findings (run_id, kind, message, data) VALUES (?, ?, ?, ?)";
const INSERT_PROCESS =
  "INSERT OR IGNORE INTO processes (run_id, step_id, attempt, pid, start) VALUES (?, ?, ?, ?, ?)";

const WRITES = [
  INSERT_BLOB,
  UPSERT_RUN,
  RUN_NO,
  LOG_TAIL,
  INSERT_LOG,
  INSERT_MODEL_CALL,
  UPSERT_CACHE,
  INSERT_FINDING,
  INSERT_PROCESS,
];
