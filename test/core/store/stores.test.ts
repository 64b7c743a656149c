// The conformance suite against every RunStore, plus what only the SQLite store has to show.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { MemoryStore } from "@keel/core/store/memory-store";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import {
  openBetterSqlite,
  openDefaultDriver,
  openNodeSqlite,
  type SqlDriver,
} from "@keel/core/store/sql-driver";
import { MIGRATIONS } from "@keel/core/store/migrations";
import { newRunId } from "@keel/core/store/ids";
import { describeRunStore, run } from "./conformance";
import { VERSION_3_ROWS, assertVersion3Read } from "./version-3";

const tempFile = () => join(mkdtempSync(join(tmpdir(), "keel-store-")), ".keel", "runs.sqlite");

/** The SQLite drivers that load on this runtime (better-sqlite3's binary is built for one ABI). */
const drivers: [string, (path: string, o: { readOnly?: boolean }) => SqlDriver][] = [];
for (const [name, open] of [
  ["better-sqlite3", openBetterSqlite],
  ["node:sqlite", openNodeSqlite],
] as const) {
  try {
    open(":memory:", {}).close();
    drivers.push([name, open]);
  } catch {
    // not available on this runtime
  }
}

test("at least one SQLite driver loads on this runtime", () => {
  assert.ok(drivers.length > 0);
});

describeRunStore("memory", async () => new MemoryStore());
for (const [name, open] of drivers) {
  describeRunStore(`sqlite (${name})`, async () => openSqliteStore(tempFile(), { open }));
}

const pragma = (db: SqlDriver, name: string) =>
  Object.values(db.prepare(`PRAGMA ${name}`).get()!)[0];

test("sqlite: the file is in WAL mode, migrated to the newest version, and keeps what was committed", async () => {
  const file = tempFile();
  const store = openSqliteStore(file);
  await store.commit({ runs: [run("01A")] });
  await store.close();
  const raw = openDefaultDriver(file, { readOnly: true });
  assert.equal(pragma(raw, "journal_mode"), "wal");
  assert.equal(pragma(raw, "user_version"), MIGRATIONS.length);
  assert.equal(pragma(raw, "integrity_check"), "ok");
  raw.close();
  const again = openSqliteStore(file);
  assert.equal((await again.getRun("01A"))?.workflowName, "flow");
  assert.equal(again.readOnly, false);
  await again.close();
});

test("sqlite: a store from a newer Keel opens read-only and is never migrated down", async () => {
  const file = tempFile();
  const first = openSqliteStore(file);
  await first.commit({ runs: [run("01A")] });
  await first.close();
  const raw = openDefaultDriver(file);
  raw.exec(`PRAGMA user_version = ${MIGRATIONS.length + 1}`);
  raw.close();
  const store = openSqliteStore(file);
  assert.equal(store.readOnly, true);
  assert.equal((await store.getRun("01A"))?.id, "01A");
  await assert.rejects(store.commit({ runs: [run("01B")] }), /newer Keel/);
  await store.close();
  const check = openDefaultDriver(file, { readOnly: true });
  assert.equal(pragma(check, "user_version"), MIGRATIONS.length + 1);
  check.close();
});

test("run ids sort by creation time, also within one millisecond", () => {
  const ids = [
    newRunId(1_700_000_000_000),
    newRunId(1_700_000_000_000),
    newRunId(1_700_000_000_001),
  ];
  const more = Array.from({ length: 1000 }, () => newRunId());
  for (const list of [ids, more]) {
    assert.deepEqual([...list].sort(), list);
    assert.equal(new Set(list).size, list.length);
  }
  assert.match(ids[0]!, /^[0-9A-HJKMNP-TV-Z]{26}$/);
});

test("sqlite: a version-1 store moves to segments with its events, attempts and model calls unchanged", async () => {
  const file = tempFile();
  mkdirSync(dirname(file), { recursive: true });
  const raw = openDefaultDriver(file, {});
  raw.exec(MIGRATIONS[0]!);
  raw.exec("PRAGMA user_version = 1");
  raw.exec(`INSERT INTO runs VALUES ('01A', '/w/flow.keel.yaml', 'flow', 'src', 'in', 'succeeded',
    'run', NULL, '2026-11-23T10:00:00.000Z', '2026-11-23T10:00:09.000Z', NULL, NULL, NULL, NULL)`);
  const insertEvent = raw.prepare("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)");
  insertEvent.run("01A", 1, "run_started", null, null, "2026-11-23T10:00:00.000Z", '{"inputs":{}}');
  insertEvent.run("01A", 2, "step_started", "a", null, "2026-11-23T10:00:01.000Z", null);
  insertEvent.run(
    "01A",
    3,
    "step_succeeded",
    "a",
    1,
    "2026-11-23T10:00:02.000Z",
    '{"k":[1,"two"]}',
  );
  const insertAttempt = raw.prepare(
    "INSERT INTO attempts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const at = (s: number) => `2026-11-23T10:00:0${s}.000Z`;
  insertAttempt.run(
    "01A",
    "b",
    1,
    "failed",
    "live",
    "i",
    null,
    "timeout",
    "slow",
    at(3),
    at(4),
    null,
    null,
    null,
  );
  insertAttempt.run(
    "01A",
    "a",
    1,
    "succeeded",
    "live",
    "i",
    "o",
    null,
    null,
    at(1),
    at(2),
    "k",
    null,
    '{"model":"m-1"}',
  );
  raw.close();

  const store = openSqliteStore(file);
  assert.deepEqual(
    (await store.events("01A")).map((e) => [e.seq, e.type, e.stepId, e.attempt, e.data]),
    [
      [1, "run_started", null, null, { inputs: {} }],
      [2, "step_started", "a", null, null],
      [3, "step_succeeded", "a", 1, { k: [1, "two"] }],
    ],
  );
  const attempts = await store.attempts("01A");
  assert.deepEqual(
    attempts.map((a) => [a.stepId, a.status, a.errorKind, a.cacheKey, a.meta]),
    [
      ["a", "succeeded", null, "k", { model: "m-1" }],
      ["b", "failed", "timeout", null, null],
    ],
  );
  const prev = await store.previousModelCall("/w/flow.keel.yaml", "a", "01B");
  assert.deepEqual([prev?.runId, prev?.outputHash, prev?.meta], ["01A", "o", { model: "m-1" }]);
  // The log goes on where the old one ended.
  await store.commit({
    events: [
      {
        runId: "01A",
        seq: 4,
        type: "run_finished",
        scope: null,
        stepId: null,
        attempt: null,
        at: at(9),
        data: null,
      },
    ],
  });
  assert.equal((await store.events("01A", 3)).length, 1);
  await store.close();
});

test("sqlite: a version-3 store migrates to scopes: no scope on its events, attempts and runs, its model calls kept", async () => {
  const file = tempFile();
  mkdirSync(dirname(file), { recursive: true });
  const raw = openDefaultDriver(file, {});
  for (const m of MIGRATIONS.slice(0, 3)) raw.exec(m);
  raw.exec("PRAGMA user_version = 3");
  raw.exec(VERSION_3_ROWS);
  raw.close();
  const store = openSqliteStore(file);
  await assertVersion3Read(store);
  await store.close();
  const check = openDefaultDriver(file, { readOnly: true });
  assert.equal(pragma(check, "user_version"), MIGRATIONS.length);
  check.close();
});

test("sqlite: two connections appending to one run: the one that is behind is refused, nothing is lost", async () => {
  const file = tempFile();
  const a = openSqliteStore(file);
  const b = openSqliteStore(file);
  const ev = (seq: number) => ({
    runId: "01A",
    seq,
    type: "step_started" as const,
    stepId: `s${seq}`,
    scope: null,
    attempt: null,
    at: "2026-11-23T10:00:00.000Z",
    data: null,
  });
  await a.commit({ runs: [run("01A")], events: [ev(1)] });
  await b.commit({ events: [ev(2)] });
  await assert.rejects(a.commit({ events: [ev(2)] }));
  assert.deepEqual(
    (await a.events("01A")).map((e) => e.stepId),
    ["s1", "s2"],
  );
  await b.commit({ events: [ev(3)] });
  assert.deepEqual(
    (await b.events("01A", 1)).map((e) => e.seq),
    [2, 3],
  );
  await a.close();
  await b.close();
});

test("verify notices the store file overwritten in place at its own size, after many verifies that read nothing", async () => {
  const file = tempFile();
  mkdirSync(dirname(file), { recursive: true });
  const store = openSqliteStore(file);
  try {
    await store.commit({ runs: [run(newRunId())] });
    // Commits go to the -wal file: the store file itself is unchanged between them.
    for (let i = 0; i < 5; i++) store.verify!("a step");
    const { openSync, writeSync, closeSync, statSync } = await import("node:fs");
    const size = statSync(file).size;
    const fd = openSync(file, "r+");
    writeSync(fd, Buffer.from("not SQLite at all"), 0, 16, 0);
    closeSync(fd);
    assert.equal(statSync(file).size, size);
    assert.throws(() => store.verify!("a step"), /was overwritten/);
  } finally {
    await store.close().catch(() => undefined);
  }
});
