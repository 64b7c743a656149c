// The conformance suite against every RunStore, plus what only the SQLite store has to show.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
