// A store as Keel wrote it at schema version 3, before scopes (docs/dev/scopes.md): its rows as
// plain SQL that SQLite and PostgreSQL both run, and what the store must read back once migration
// 4 has run. The rows are laid out as version 3 laid them out: an event tuple of six fields, an
// attempt tuple of thirteen, a model call keyed without a scope, a run without parent_scope.
import assert from "node:assert/strict";
import type { AttemptRecord, EventRecord, RunRecord } from "@keel/core/record/records";
import { COMMITS_PER_RUN } from "@keel/core/store/migrations";
import { attemptTuple, runRow } from "@keel/core/store/rows";
import type { RunStore } from "@keel/core/store/run-store";
import { attempt, event, run } from "./conformance";

const RUNS: RunRecord[] = [
  run("01A", { status: "succeeded", endedAt: "2026-11-23T10:00:09.000Z" }),
  run("01B", { parentId: "01A", workflowPath: "/w/child.keel.yaml", workflowName: "child" }),
];
const EVENTS: EventRecord[] = [
  event("01A", 1, { type: "run_started", stepId: null, attempt: null, data: { inputs: {} } }),
  event("01A", 2, { attempt: null }),
  event("01A", 3, { type: "step_succeeded", data: { output: "=1" } }),
];
const ATTEMPTS: AttemptRecord[] = [
  attempt("01A", "a", 1, { cacheKey: "k" }),
  attempt("01A", "b", 1, { status: "failed", outputHash: null, errorKind: "timeout", meta: null }),
];

const sql = (v: unknown): string =>
  v === null ? "NULL" : typeof v === "number" ? String(v) : `'${String(v).replaceAll("'", "''")}'`;

const v3Event = (e: EventRecord) => [e.seq, e.type, e.stepId, e.attempt, e.at, e.data];
/** Version 3's attempt tuple: today's for an attempt without a scope, thirteen fields. */
function v3Attempt(a: AttemptRecord): unknown[] {
  const t = attemptTuple(a);
  assert.equal(t.length, 13);
  return t;
}

/** The version-3 rows of two runs (a parent and its child), one segment and one model call. */
export const VERSION_3_ROWS = [
  ...RUNS.map(
    (r) => `INSERT INTO runs (id, workflow_path, workflow_name, source_hash, inputs_hash, status,
      mode, parent_id, started_at, ended_at, outputs_hash, error, owner_pid, heartbeat_at)
      VALUES (${runRow(r).slice(0, 14).map(sql).join(", ")});`,
  ),
  `INSERT INTO run_log (id, first_seq, last_seq, events, attempts)
    SELECT no * ${COMMITS_PER_RUN} + 1, 1, 3, ${sql(JSON.stringify(EVENTS.map(v3Event)))},
      ${sql(JSON.stringify(ATTEMPTS.map(v3Attempt)))}
    FROM runs WHERE id = '01A';`,
  `INSERT INTO model_calls (run_id, step_id, attempt, data)
    VALUES ('01A', 'a', 1, ${sql(JSON.stringify(v3Attempt(ATTEMPTS[0]!)))});`,
].join("\n");

/**
 * A store opened on VERSION_3_ROWS: its runs have no parent unit, its events and attempts no
 * scope, its model call is found, and it takes items' model calls with the same attempt numbers
 * (which version 3's key refused) and goes on with the old run's log.
 */
export async function assertVersion3Read(store: RunStore): Promise<void> {
  for (const r of RUNS) assert.deepEqual(await store.getRun(r.id), r);
  assert.equal((await store.getRun("01B"))?.parentScope, null);
  assert.deepEqual(await store.events("01A"), EVENTS);
  assert.deepEqual(await store.attempts("01A"), ATTEMPTS);
  assert.deepEqual(await store.previousModelCall("/w/flow.keel.yaml", "a", "01Z"), ATTEMPTS[0]);

  const items = ["[x]", "[y]"].map((scope) => attempt("01C", "a", 1, { scope, meta: { scope } }));
  await store.commit({ runs: [run("01C", { parentScope: "m#1" })], attempts: items });
  assert.deepEqual(await store.attempts("01C"), items);
  assert.equal((await store.getRun("01C"))?.parentScope, "m#1");
  assert.deepEqual(await store.previousModelCall("/w/flow.keel.yaml", "a", "01Z"), items[0]);
  await store.commit({ events: [event("01A", 4, { type: "run_finished", stepId: null })] });
  assert.equal((await store.events("01A", 3)).length, 1);
}
