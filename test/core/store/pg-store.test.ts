// The conformance suite against the PostgreSQL store, on a throw-away cluster this file starts
// (test/helpers/postgres.ts), plus what only the PostgreSQL store has to show: one logical schema
// with SQLite, migrations once under a lock, read-only opening, many writers of one run, secrets.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { openPgStore, NoPgStoreError } from "@keel/core/store/pg-store";
import { PG_MIGRATIONS } from "@keel/core/store/pg-migrations";
import { MIGRATIONS } from "@keel/core/store/migrations";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { openDefaultDriver } from "@keel/core/store/sql-driver";
import { postgresMissing, startPostgres, type ThrowawayPostgres } from "../../helpers/postgres";
import { runText } from "../runner/harness";
import { attempt, describeRunStore, event, run } from "./conformance";
import { VERSION_3_ROWS, assertVersion3Read } from "./version-3";

const missing = postgresMissing();
let server: ThrowawayPostgres | undefined;
let schemas = 0;
/** A schema no test has used: a fresh, empty store. */
const freshSchema = () => `keel_t${++schemas}`;
const url = () => server!.url;

before(async () => {
  if (!missing) server = await startPostgres();
});
after(() => server?.stop());

/** Runs `sql` on the test cluster and returns its rows. */
async function query(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new pg.Client(url());
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

if (missing) {
  test("postgres: the PostgreSQL store", { skip: missing }, () => {});
} else {
  describeRunStore("postgres", () => openPgStore(url(), { schema: freshSchema() }));

  test("postgres: the same logical schema as SQLite: tables, columns and version", async () => {
    assert.equal(PG_MIGRATIONS.length, MIGRATIONS.length);
    const schema = freshSchema();
    await (await openPgStore(url(), { schema })).close();
    const pgColumns = await query(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = $1 AND table_name <> 'schema_version' AND column_name <> 'rowid'
       ORDER BY table_name, ordinal_position`,
      [schema],
    );
    const file = join(mkdtempSync(join(tmpdir(), "keel-store-")), "runs.sqlite");
    await openSqliteStore(file).close();
    const db = openDefaultDriver(file, { readOnly: true });
    const sqliteColumns: Record<string, unknown>[] = [];
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all();
    for (const { name } of tables) {
      for (const c of db.prepare(`PRAGMA table_info(${String(name)})`).all()) {
        sqliteColumns.push({ table_name: name, column_name: c.name });
      }
    }
    db.close();
    assert.ok(pgColumns.length > 30);
    assert.deepEqual(
      pgColumns.map((c) => `${String(c.table_name)}.${String(c.column_name)}`),
      sqliteColumns.map((c) => `${String(c.table_name)}.${String(c.column_name)}`),
    );
    const [version] = await query(`SELECT version FROM ${schema}.schema_version`);
    assert.equal(version!.version, MIGRATIONS.length);
  });

  test("postgres: stores opened at once on an empty database migrate it once, without a race", async () => {
    const schema = freshSchema();
    const stores = await Promise.all(
      Array.from({ length: 6 }, () => openPgStore(url(), { schema, maxConnections: 1 })),
    );
    await stores[0]!.commit({ runs: [run("01A")], events: [event("01A", 1)] });
    for (const s of stores) assert.equal((await s.events("01A")).length, 1);
    await Promise.all(stores.map((s) => s.close()));
    const [version] = await query(`SELECT version FROM ${schema}.schema_version`);
    assert.equal(version!.version, MIGRATIONS.length);
  });

  test("postgres: a store from a newer Keel opens read-only; read-only opening changes nothing", async () => {
    const schema = freshSchema();
    await assert.rejects(openPgStore(url(), { schema, readOnly: true }), NoPgStoreError);
    assert.equal(
      (await query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema])).length,
      0,
    );
    const first = await openPgStore(url(), { schema });
    await first.commit({ runs: [run("01A")] });
    await first.close();
    const reader = await openPgStore(url(), { schema, readOnly: true });
    assert.equal(reader.readOnly, true);
    assert.equal((await reader.getRun("01A"))?.id, "01A");
    await assert.rejects(reader.commit({ runs: [run("01B")] }), /read-only/);
    await reader.close();
    await query(`UPDATE ${schema}.schema_version SET version = $1`, [MIGRATIONS.length + 1]);
    const newer = await openPgStore(url(), { schema });
    assert.equal(newer.readOnly, true);
    await assert.rejects(newer.commit({ runs: [run("01B")] }), /read-only/);
    await newer.close();
    const [version] = await query(`SELECT version FROM ${schema}.schema_version`);
    assert.equal(version!.version, MIGRATIONS.length + 1);
  });

  test("postgres: writers racing to append to one run: one wins each sequence number, none is lost or repeated", async () => {
    const schema = freshSchema();
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => openPgStore(url(), { schema, maxConnections: 1 })),
    );
    await stores[0]!.commit({ runs: [run("01A")] });
    // Each writer appends 10 events, each time as the next one it knows of; a refused commit reads
    // the log's end again and tries once more.
    const written: number[] = [];
    await Promise.all(
      stores.map(async (s, w) => {
        for (let i = 0; i < 10; i++) {
          for (;;) {
            const next = (await s.events("01A")).length + 1;
            try {
              await s.commit({ events: [event("01A", next, { stepId: `w${w}` })] });
              written.push(next);
              break;
            } catch (e) {
              assert.match(String(e), /duplicate key|does not follow/);
            }
          }
        }
      }),
    );
    const seqs = (await stores[0]!.events("01A")).map((e) => e.seq);
    assert.deepEqual(
      seqs,
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    assert.deepEqual(
      written.sort((a, b) => a - b),
      seqs,
    );
    await Promise.all(stores.map((s) => s.close()));
  });

  test("postgres: appends of many writers to one run (a distributed run) wait for each other: numbered in order, none lost; an ended run takes none", async () => {
    const schema = freshSchema();
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => openPgStore(url(), { schema, maxConnections: 2 })),
    );
    await stores[0]!.append({ runs: [run("01A")] });
    // Each writer appends batches of 3 events numbered as it likes (0): the store numbers them.
    await Promise.all(
      stores.map(async (s, w) => {
        for (let i = 0; i < 8; i++) {
          const batch = [0, 1, 2].map((k) =>
            event("01A", 0, { stepId: `w${w}`, attempt: i * 3 + k }),
          );
          await s.append({ events: batch });
        }
      }),
    );
    const events = await stores[0]!.events("01A");
    assert.deepEqual(
      events.map((e) => e.seq),
      Array.from({ length: 96 }, (_, i) => i + 1),
    );
    // Each writer's batches stay whole and in its own order.
    for (let w = 0; w < 4; w++) {
      const mine = events.filter((e) => e.stepId === `w${w}`).map((e) => e.attempt);
      assert.deepEqual(
        mine,
        Array.from({ length: 24 }, (_, i) => i),
      );
      for (let b = 0; b < 8; b++) {
        const first = events.findIndex((e) => e.stepId === `w${w}` && e.attempt === b * 3);
        assert.deepEqual(
          events.slice(first, first + 3).map((e) => e.stepId),
          [`w${w}`, `w${w}`, `w${w}`],
        );
      }
    }
    // Once the run has ended, appends are refused whole.
    await stores[1]!.append({ runs: [run("01A", { status: "cancelled" })] });
    await assert.rejects(
      stores[2]!.append({ events: [event("01A", 0)] }),
      /run 01A has ended \(cancelled\)/,
    );
    assert.equal((await stores[3]!.events("01A")).length, 96);
    await Promise.all(stores.map((s) => s.close()));
  });

  test("postgres: a version-1 store moves to segments with its events, attempts and model calls unchanged", async () => {
    const schema = freshSchema();
    await query(`CREATE SCHEMA ${schema}`);
    const client = new pg.Client({ connectionString: url(), options: `-c search_path=${schema}` });
    await client.connect();
    await client.query(PG_MIGRATIONS[0]!);
    await client.query(
      "CREATE TABLE schema_version (one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one), version INTEGER NOT NULL)",
    );
    await client.query("INSERT INTO schema_version (version) VALUES (1)");
    await client.query(`INSERT INTO runs VALUES ('01A', '/w/flow.keel.yaml', 'flow', 'src', 'in',
      'succeeded', 'run', NULL, '2026-11-23T10:00:00.000Z', '2026-11-23T10:00:09.000Z', NULL, NULL,
      NULL, NULL)`);
    const at = (s: number) => `2026-11-23T10:00:0${s}.000Z`;
    for (const row of [
      ["01A", 1, "run_started", null, null, at(0), '{"inputs":{}}'],
      ["01A", 2, "step_started", "a", null, at(1), null],
      ["01A", 3, "step_succeeded", "a", 1, at(2), '{"k":[1,"two"]}'],
    ]) {
      await client.query("INSERT INTO events VALUES ($1, $2, $3, $4, $5, $6, $7)", row);
    }
    const insertAttempt =
      "INSERT INTO attempts VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
    await client.query(insertAttempt, [
      ...["01A", "b", 1, "failed", "live", "i", null, "timeout", "slow"],
      ...[at(3), at(4), null, null, null],
    ]);
    await client.query(insertAttempt, [
      ...["01A", "a", 1, "succeeded", "live", "i", "o", null, null],
      ...[at(1), at(2), "k", null, '{"model":"m-1"}'],
    ]);
    await client.end();

    const store = await openPgStore(url(), { schema });
    assert.deepEqual(
      (await store.events("01A")).map((e) => [e.seq, e.type, e.stepId, e.attempt, e.data]),
      [
        [1, "run_started", null, null, { inputs: {} }],
        [2, "step_started", "a", null, null],
        [3, "step_succeeded", "a", 1, { k: [1, "two"] }],
      ],
    );
    assert.deepEqual(
      (await store.attempts("01A")).map((a) => [
        a.stepId,
        a.status,
        a.errorKind,
        a.cacheKey,
        a.meta,
      ]),
      [
        ["a", "succeeded", null, "k", { model: "m-1" }],
        ["b", "failed", "timeout", null, null],
      ],
    );
    const prev = await store.previousModelCall("/w/flow.keel.yaml", "a", "01B");
    assert.deepEqual([prev?.runId, prev?.outputHash, prev?.meta], ["01A", "o", { model: "m-1" }]);
    // The log goes on where the old one ended, and new runs get numbers after the old ones.
    await store.commit({ events: [event("01A", 4, { type: "run_finished", stepId: null })] });
    await store.commit({ runs: [run("01B")], attempts: [attempt("01B", "a", 1)] });
    assert.equal((await store.events("01A", 3)).length, 1);
    assert.equal((await store.attempts("01B")).length, 1);
    await store.close();
  });

  test("postgres: a version-3 store migrates to scopes: no scope on its events, attempts and runs, its model calls kept", async () => {
    const schema = freshSchema();
    await query(`CREATE SCHEMA ${schema}`);
    const client = new pg.Client({ connectionString: url(), options: `-c search_path=${schema}` });
    await client.connect();
    for (const m of PG_MIGRATIONS.slice(0, 3)) await client.query(m);
    await client.query(
      "CREATE TABLE schema_version (one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one), version INTEGER NOT NULL)",
    );
    await client.query("INSERT INTO schema_version (version) VALUES (3)");
    await client.query(VERSION_3_ROWS);
    await client.end();
    const store = await openPgStore(url(), { schema });
    await assertVersion3Read(store);
    await store.close();
    const [version] = await query(`SELECT version FROM ${schema}.schema_version`);
    assert.equal(version!.version, MIGRATIONS.length);
  });

  test("postgres: a secret's value never reaches the database, in any encoding", async () => {
    const secret = "s3cr3t-V@lue/with+chars";
    const schema = freshSchema();
    const store = await openPgStore(url(), { schema });
    const result = await runText(
      `keel: 1
name: t
steps:
  use:
    type: shell
    command: [node, -e, "const v = process.argv[1]; console.log(JSON.stringify({plain: v, b64: Buffer.from(v).toString('base64'), url: encodeURIComponent(v)}))", "\${{ secrets.TOKEN }}"]
    output: { format: json }
  echo: { type: transform, expr: '{"copy": steps.use.output.stdout.plain, "json": $string(steps.use.output)}' }
  fail: { type: assert, that: 'false', message: "token was \${{ secrets.TOKEN }}", on_error: continue }
`,
      { store, secrets: { TOKEN: secret } },
    );
    assert.equal(result.result.status, "succeeded");
    const events = await store.events(result.result.runId);
    assert.equal(
      events.find((e) => e.type === "step_failed")!.data!.message,
      "assertion failed: token was «secret:TOKEN»",
    );
    await store.close();
    const tables = await query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
      [schema],
    );
    assert.ok(tables.length >= 7);
    for (const { table_name } of tables) {
      const [dump] = await query(
        `SELECT coalesce(string_agg(t::text, E'\\n'), '') AS text FROM ${schema}.${String(table_name)} t`,
      );
      const text = String(dump!.text);
      for (const form of [
        secret,
        Buffer.from(secret).toString("base64"),
        encodeURIComponent(secret),
        JSON.stringify(secret).slice(1, -1),
      ]) {
        assert.equal(text.includes(form), false, `${String(table_name)} contains ${form}`);
      }
    }
  });
}
