// The plain-Node floor: what the least an executor with the same durability rule can cost. A
// hand-written topological executor (Kahn's algorithm over index arrays) that awaits each step as
// an async function, with one INSERT per step start and one per step end into an events table,
// group-committed in one transaction per event-loop turn (setImmediate), in better-sqlite3 with
// WAL and synchronous=NORMAL like Keel's store. The effect variant commits everything recorded so
// far before each step's effect, as Keel must (docs/runner.md, "What is recorded"), so it pays one
// commit per step.
import { join } from "node:path";
import Database from "better-sqlite3";
import { stepValue, type Dag } from "./shapes";

type Row = [seq: number, type: "start" | "end", step: string, at: number, value: number | null];

interface FloorDb {
  readonly db: Database.Database;
  readonly commitRows: (rows: readonly Row[]) => void;
  /** The last sequence number written: every run's rows follow the previous run's. */
  seq: number;
}

const opened = new Map<string, FloorDb>();

/** One database per process, like Keel's store: every run appends its own rows to it. */
function floorDb(dir: string): FloorDb {
  let f = opened.get(dir);
  if (f) return f;
  const db = new Database(join(dir, "floor.sqlite"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(
    "CREATE TABLE events (seq INTEGER PRIMARY KEY, type TEXT NOT NULL, step TEXT NOT NULL," +
      " at INTEGER NOT NULL, value TEXT)",
  );
  const insert = db.prepare("INSERT INTO events VALUES (?, ?, ?, ?, ?)");
  const commitRows = db.transaction((rows: readonly Row[]) => {
    for (const r of rows) insert.run(r[0], r[1], r[2], r[3], r[4] === null ? null : String(r[4]));
  });
  f = { db, commitRows, seq: 0 };
  opened.set(dir, f);
  return f;
}

export function closeFloor(dir: string): void {
  opened.get(dir)?.db.close();
  opened.delete(dir);
}

export async function runFloorOnce(dag: Dag, dir: string, effect: boolean): Promise<number> {
  const f = floorDb(dir);
  const { db, commitRows } = f;
  const firstSeq = f.seq + 1;
  const start = performance.now();
  let buffer: Row[] = [];
  let scheduled = false;
  let seq = f.seq;
  const flush = () => {
    scheduled = false;
    if (buffer.length === 0) return;
    const rows = buffer;
    buffer = [];
    commitRows(rows);
  };
  const record = (type: Row[1], step: number, value: number | null) => {
    buffer.push([++seq, type, dag.ids[step]!, Date.now(), value]);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };

  const n = dag.n;
  const dependents: number[][] = Array.from({ length: n }, () => []);
  const remaining = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    remaining[i] = dag.deps[i]!.length;
    for (const d of dag.deps[i]!) dependents[d]!.push(i);
  }
  const values = new Float64Array(n);
  const ready: number[] = [];
  for (let i = 0; i < n; i++) if (remaining[i] === 0) ready.push(i);
  // Steps are async functions, as in any executor that can also run effects.
  const execute = async (i: number): Promise<number> =>
    stepValue(
      dag,
      i,
      dag.deps[i]!.map((d) => values[d]!),
    );
  for (let head = 0; head < ready.length; head++) {
    const i = ready[head]!;
    record("start", i, null);
    if (effect) {
      flush();
      await Promise.resolve();
    }
    const v = await execute(i);
    values[i] = v;
    record("end", i, v);
    for (const next of dependents[i]!) {
      const left = remaining[next]! - 1;
      remaining[next] = left;
      if (left === 0) ready.push(next);
    }
  }
  // The run is over when its last records are committed, as Keel's run awaits `durable()`.
  flush();
  const ms = performance.now() - start;

  f.seq = seq;
  const ends = db
    .prepare("SELECT count(*) AS c FROM events WHERE type = 'end' AND seq >= ?")
    .get(firstSeq) as { c: number };
  if (ends.c !== n) throw new Error(`floor: ${ends.c} end events, not ${n}`);
  if (values[dag.last] !== dag.expected)
    throw new Error(`floor: final value ${values[dag.last]}, not ${dag.expected}`);
  return ms;
}
