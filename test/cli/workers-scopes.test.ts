// Maps, child workflows and loops on a team's workers (docs/team.md, issue #18): on two
// `keel worker` processes and a throw-away PostgreSQL, a `for_each` map (items spread over both
// workers, at most `concurrency` at once, a failing item retried per item and kept by
// `on_item_error: continue`), a pure map over its output, a workflow step, a map of a workflow
// step and a `repeat` loop with `until` give the outputs, items, child runs and record of a local
// run of the same file (keel diff's own comparison). A map stops at its first failed item, and a
// list the map rules refuse fails the step before any item starts, with the local messages. A
// workflow step's time limit cancels its child run and fails the step as a timeout, and a cancel
// of the run ends its child run under way.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { openPgStore, type PgStore } from "@keel/core/store/pg-store";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { readRecordedRun } from "@keel/core/replay/record";
import { diffRuns } from "@keel/core/replay/diff";
import type { EventRecord } from "@keel/core/record/records";
import type { RunStore } from "@keel/core/store/run-store";
import { keel } from "../helpers/cli";
import { keelAsync } from "../helpers/otlp";
import { postgresMissing } from "../helpers/postgres";
import { killWorkers, startTeam, type Team } from "../helpers/workers";

const MAP = `keel: 1
name: map on workers
steps:
  docs:
    type: transform
    expr: '[{"id": "a", "n": 1}, {"id": "b", "n": 2}, {"id": "bad", "n": 3}, {"id": "c", "n": 4}, {"id": "d", "n": 5}]'
  squared:
    type: tool
    uses: ./item.js#square
    for_each: steps.docs.output
    key: item.id
    concurrency: 2
    with: { id: "\${{ item.id }}", n: "\${{ item.n }}", index: "\${{ index }}" }
    on_item_error: continue
    retry: { max_attempts: 2, initial: 10ms, on: [tool_error] }
  doubled:
    type: transform
    for_each: steps.squared.output
    expr: 'item = null ? 0 : item.sq * 2'
  total:
    type: transform
    expr: '$sum(steps.doubled.output)'
outputs:
  squared: steps.squared.output
  doubled: steps.doubled.output
  keys: steps.squared.items.key
  statuses: steps.squared.items.status
  total: steps.total.output
`;
const NEST = `keel: 1
name: nest
steps:
  # A time limit its child keeps: the timer is cancelled once the child ends.
  one: { type: workflow, uses: ./child.keel.yaml, with: { n: 5 }, timeout: 30s }
  many:
    type: workflow
    uses: ./child.keel.yaml
    for_each: '[1, 2, 3]'
    with: { n: "\${{ item }}" }
  loop:
    type: workflow
    uses: ./inc.keel.yaml
    with: { n: 0 }
    repeat: { max: 5, until: output.n >= 3, with: { n: "\${{ previous.output.n }}" } }
outputs:
  one: steps.one.output.v
  many: steps.many.output.v
  loop: steps.loop.output.n
  iterations: $count(steps.loop.iterations)
`;
const CHILD = `keel: 1
name: child
inputs:
  n: { type: number }
steps:
  work: { type: tool, uses: ./item.js#tenfold, with: { n: "\${{ inputs.n }}" } }
outputs:
  v: steps.work.output
`;
const INC = `keel: 1
name: inc
inputs:
  n: { type: number }
steps:
  next: { type: tool, uses: ./item.js#inc, with: { n: "\${{ inputs.n }}" } }
outputs:
  n: steps.next.output
`;
const STOP = `keel: 1
name: stop at a failure
steps:
  squared:
    type: tool
    uses: ./item.js#square
    for_each: '[{"id": "a", "n": 1}, {"id": "bad", "n": 2}, {"id": "c", "n": 3}, {"id": "d", "n": 4}]'
    key: item.id
    concurrency: 1
    with: { id: "\${{ item.id }}", n: "\${{ item.n }}" }
`;
const DUPLICATE = `keel: 1
name: duplicate keys
steps:
  twice:
    type: tool
    uses: ./item.js#square
    for_each: '[{"id": "a", "n": 1}, {"id": "a", "n": 2}]'
    key: item.id
    with: { id: "\${{ item.id }}", n: "\${{ item.n }}" }
`;
const TIMED = `keel: 1
name: timed
steps:
  wait: { type: workflow, uses: ./nap.keel.yaml, timeout: 1s, on_error: continue }
  after: { type: transform, expr: steps.wait.status }
outputs:
  status: steps.after.output
`;
const NAP = `keel: 1
name: nap
steps:
  nap: { type: tool, uses: ./item.js#nap }
`;
const SLOW_PARENT = `keel: 1
name: slow parent
steps:
  wait: { type: workflow, uses: ./slow.keel.yaml }
`;
const SLOW = `keel: 1
name: slow
steps:
  hold: { type: tool, uses: ./item.js#hold }
`;
// Each execution appends a line to the file the environment names, as it starts.
const ITEM = `const { appendFileSync } = require("node:fs");
const note = (line) => appendFileSync(process.env.KEEL_TEST_EFFECTS, line + "\\n");
exports.square = async (args) => {
  note("start " + args.id);
  await new Promise((r) => setTimeout(r, 150));
  note("end " + args.id);
  if (args.id === "bad") throw new Error("bad item " + args.id);
  return { id: args.id, sq: args.n * args.n, index: args.index };
};
exports.tenfold = async (args) => {
  note("tenfold " + args.n);
  return args.n * 10;
};
// Holds until the test writes \`release\` beside the effects file.
exports.hold = async () => {
  note("hold");
  const release = require("node:path").join(require("node:path").dirname(process.env.KEEL_TEST_EFFECTS), "release");
  while (!require("node:fs").existsSync(release)) await new Promise((r) => setTimeout(r, 20));
  return "released";
};
exports.nap = async () => {
  note("nap");
  await new Promise((r) => setTimeout(r, 4000));
  return "rested";
};
exports.inc = async (args) => {
  note("inc " + args.n);
  return args.n + 1;
};
`;

const missing = postgresMissing();
let team: Team | undefined;
let dir = "";
let url = "";

before(async () => {
  if (missing) return;
  team = await startTeam(
    {
      "map.keel.yaml": MAP,
      "nest.keel.yaml": NEST,
      "child.keel.yaml": CHILD,
      "inc.keel.yaml": INC,
      "duplicate.keel.yaml": DUPLICATE,
      "stop.keel.yaml": STOP,
      "item.js": ITEM,
      "slow-parent.keel.yaml": SLOW_PARENT,
      "slow.keel.yaml": SLOW,
      "timed.keel.yaml": TIMED,
      "nap.keel.yaml": NAP,
    },
    ["m1", "m2"],
  );
  ({ url, dir } = team);
});
after(() => {
  killWorkers();
  team?.server.stop();
});

/** Runs `file` on the workers and locally; both results, and both records. */
async function bothWays(file: string) {
  const remote = await keelAsync(["run", file, "--on", url, "--json"], dir);
  const local = keel(["run", file, "--json"], dir, {
    KEEL_TEST_EFFECTS: join(dir, "local-effects.log"),
  });
  const r = JSON.parse(remote.stdout || "{}") as {
    runId: string;
    status: string;
    outputs: unknown;
  };
  const l = JSON.parse(local.stdout || "{}") as { runId: string; status: string; outputs: unknown };
  return { remote, local, r, l };
}

/** keel diff's comparison of a run on the workers with a local one: null when they agree. */
async function divergence(remoteId: string, localId: string): Promise<unknown> {
  const pg = await openPgStore(url, { readOnly: true });
  const sqlite = openSqliteStore(join(dir, ".keel", "runs.sqlite"));
  try {
    const theirs = (await readRecordedRun(pg, remoteId))!;
    const mine = (await readRecordedRun(sqlite, localId))!;
    return diffRuns(mine, theirs).firstDivergence;
  } finally {
    await sqlite.close();
    await pg.close();
  }
}

const unitEvents = (events: EventRecord[], step: string, scope: string) =>
  events
    .filter((e) => e.stepId === step && e.scope === scope)
    .map((e) => `${e.type}${e.attempt ? `#${e.attempt}` : ""}`);

async function withStore<T>(f: (store: PgStore) => Promise<T>): Promise<T> {
  const store = await openPgStore(url, { readOnly: true });
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}

test(
  "a map on the workers: each item an attempt of its own, retried per item, a failed item kept by on_item_error: continue, outputs and record as a local run's",
  { skip: missing, timeout: 120_000 },
  async () => {
    const { remote, local, r, l } = await bothWays("map.keel.yaml");
    assert.equal(remote.code, 0, remote.stderr + remote.stdout);
    assert.equal(local.code, 0, local.stderr + local.stdout);
    const expected = {
      squared: [
        { id: "a", sq: 1, index: 0 },
        { id: "b", sq: 4, index: 1 },
        null,
        { id: "c", sq: 16, index: 3 },
        { id: "d", sq: 25, index: 4 },
      ],
      doubled: [2, 8, 0, 32, 50],
      keys: ["a", "b", "bad", "c", "d"],
      statuses: ["succeeded", "succeeded", "failed", "succeeded", "succeeded"],
      total: 92,
    };
    assert.deepEqual(r.outputs, expected);
    assert.deepEqual(l.outputs, expected);
    await withStore(async (store) => {
      const events = await store.events(r.runId);
      // The failing item's own attempts, numbered within it, then its end; the others once each.
      assert.deepEqual(unitEvents(events, "squared", "[bad]"), [
        "step_started",
        "attempt_failed#1",
        "attempt_failed#2",
        "step_failed#2",
      ]);
      assert.deepEqual(unitEvents(events, "squared", "[c]"), ["step_started", "step_succeeded#1"]);
      const expanded = events.find((e) => e.stepId === "squared" && e.type === "expanded")!;
      assert.deepEqual(expanded.data?.keys, ["a", "b", "bad", "c", "d"]);
      assert.equal(expanded.data?.concurrency, 2);
      const attempts = (await store.attempts(r.runId)).filter((a) => a.stepId === "squared");
      assert.deepEqual(attempts.map((a) => `${a.scope}:${a.attempt}:${a.status}`).sort(), [
        "[a]:1:succeeded",
        "[b]:1:succeeded",
        "[bad]:1:failed",
        "[bad]:2:failed",
        "[c]:1:succeeded",
        "[d]:1:succeeded",
      ]);
    });
    // An item's task names the map's dependencies by reference: the list (`docs`, with "bad" in it)
    // is not copied into DBOS's tables once per item.
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const task = await db.query("SELECT inputs FROM dbos.workflow_input WHERE workflow_uuid = $1", [
      `${r.runId}:squared[a]:1`,
    ]);
    await db.end();
    assert.match(String(task.rows[0]?.inputs), /"item":\{"id":"a","n":1\}/);
    assert.doesNotMatch(String(task.rows[0]?.inputs), /bad/);
    // Every item was an attempt of its own: executed on the workers, once each but the retried one.
    const lines = readFileSync(join(dir, "effects.log"), "utf8").trim().split("\n");
    for (const id of ["a", "b", "c", "d"])
      assert.equal(lines.filter((x) => x === `start ${id}`).length, 1, id);
    assert.equal(lines.filter((x) => x === "start bad").length, 2);
    // At most `concurrency` items at once, across both workers, and that many at some point.
    let now = 0;
    let most = 0;
    for (const x of lines) {
      if (x.startsWith("start ")) most = Math.max(most, ++now);
      else if (x.startsWith("end ")) now--;
    }
    assert.equal(most, 2, `${most} items at once`);
    assert.equal(await divergence(r.runId, l.runId), null);
  },
);

test(
  "a workflow step, a map of a workflow step and a repeat loop with until run their child runs on the workers, recorded as locally",
  { skip: missing, timeout: 120_000 },
  async () => {
    const { remote, local, r, l } = await bothWays("nest.keel.yaml");
    assert.equal(remote.code, 0, remote.stderr + remote.stdout);
    assert.equal(local.code, 0, local.stderr + local.stdout);
    const expected = { one: 50, many: [10, 20, 30], loop: 3, iterations: 3 };
    assert.deepEqual(r.outputs, expected);
    assert.deepEqual(l.outputs, expected);
    await withStore(async (store: RunStore) => {
      const events = await store.events(r.runId);
      const started = events.filter((e) => e.type === "child_started");
      const finished = events.filter((e) => e.type === "child_finished");
      assert.deepEqual(started.map((e) => `${e.stepId}${e.scope ?? ""}`).sort(), [
        "loop#1",
        "loop#2",
        "loop#3",
        "many[0]",
        "many[1]",
        "many[2]",
        "one",
      ]);
      assert.deepEqual(
        finished.map((e) => e.data?.status),
        finished.map(() => "succeeded"),
      );
      // Each child is a run of its own in the same store, naming its parent and the unit.
      for (const e of started) {
        const child = (await store.getRun(String(e.data?.childRun)))!;
        assert.equal(child.status, "succeeded");
        assert.equal(child.parentId, r.runId);
        assert.equal(child.parentScope, `${e.stepId}${e.scope ?? ""}`);
        assert.equal(child.workflowName, e.stepId === "loop" ? "inc" : "child");
        assert.ok(finished.some((f) => f.data?.childRun === e.data?.childRun));
      }
      // The loop's iterations, one after another, and the loop's own end with their count.
      const loop = events.filter((e) => e.stepId === "loop");
      assert.deepEqual(
        loop.filter((e) => e.type === "step_started").map((e) => e.scope),
        [null, "#1", "#2", "#3"],
      );
      assert.equal(
        loop.find((e) => e.type === "step_succeeded" && e.scope === null)?.data?.iterations,
        3,
      );
      // `one`'s time limit was a timer beside its child run, cancelled once the child ended.
      const one = String(started.find((e) => e.stepId === "one")!.data?.childRun);
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      const timer = await db.query(
        "SELECT status FROM dbos.workflow_status WHERE workflow_uuid = $1",
        [`${one}:timeout`],
      );
      await db.end();
      assert.deepEqual(timer.rows, [{ status: "CANCELLED" }]);
    });
    assert.equal(await divergence(r.runId, l.runId), null);
  },
);

test(
  "a map stops at its first failed item on the workers, as locally: the items not started are cancelled, the step names the failure",
  { skip: missing, timeout: 60_000 },
  async () => {
    const { remote, local, r, l } = await bothWays("stop.keel.yaml");
    assert.equal(remote.code, 1, remote.stderr + remote.stdout);
    assert.equal(local.code, 1, local.stderr + local.stdout);
    await withStore(async (store) => {
      const events = await store.events(r.runId);
      const failed = events.find((e) => e.type === "step_failed" && e.scope === null)!;
      assert.equal(failed.data?.kind, "item_failures");
      assert.match(
        String(failed.data?.message),
        /^1 item of 4 failed; first squared\[bad\] \(item 2\): bad item bad/,
      );
      assert.deepEqual(unitEvents(events, "squared", "[c]"), ["step_cancelled"]);
      assert.deepEqual(unitEvents(events, "squared", "[d]"), ["step_cancelled"]);
    });
    assert.equal(await divergence(r.runId, l.runId), null);
  },
);

test(
  "a map whose keys repeat fails on the workers before any item starts, with the local run's message",
  { skip: missing, timeout: 60_000 },
  async () => {
    const { remote, local, r, l } = await bothWays("duplicate.keel.yaml");
    assert.equal(remote.code, 1, remote.stderr + remote.stdout);
    assert.equal(local.code, 1, local.stderr + local.stdout);
    assert.equal(r.status, "failed");
    await withStore(async (store) => {
      const events = await store.events(r.runId);
      const failed = events.find((e) => e.type === "step_failed")!;
      assert.match(String(failed.data?.message), /items 0 and 1 have the same key 'a'/);
      assert.equal(events.filter((e) => e.scope !== null).length, 0, "an item started");
    });
    assert.equal(await divergence(r.runId, l.runId), null);
  },
);

test(
  "a workflow step's time limit bounds its child run on the workers: the child is cancelled and the step fails as a timeout, as locally",
  { skip: missing, timeout: 60_000 },
  async () => {
    const { remote, local, r, l } = await bothWays("timed.keel.yaml");
    assert.equal(remote.code, 0, remote.stderr + remote.stdout);
    assert.equal(local.code, 0, local.stderr + local.stdout);
    assert.deepEqual(r.outputs, { status: "failed" });
    assert.deepEqual(l.outputs, { status: "failed" });
    const facts = async (store: RunStore, runId: string) => {
      const events = await store.events(runId);
      const failed = events.find((e) => e.stepId === "wait" && e.type === "step_failed")!;
      const started = events.find((e) => e.type === "child_started")!;
      const run = (await store.getRun(String(started.data?.childRun)))!;
      const wait = events
        .filter((e) => e.stepId === "wait")
        .map((e) => `${e.type}${e.attempt ? `#${e.attempt}` : ""}`);
      return {
        wait,
        failed: [failed.data?.kind, failed.data?.message],
        child: [run.status, run.parentScope],
      };
    };
    const sqlite = openSqliteStore(join(dir, ".keel", "runs.sqlite"));
    try {
      const mine = await facts(sqlite, l.runId);
      assert.deepEqual(mine.failed, ["timeout", "no answer within 1s"]);
      assert.deepEqual(mine.child, ["cancelled", "wait"]);
      await withStore(async (store) => {
        const theirs = await facts(store, r.runId);
        assert.deepEqual([theirs.failed, theirs.child], [mine.failed, mine.child]);
        // The workers record the child's end too (a local run at its time limit leaves it out).
        assert.deepEqual(theirs.wait, [
          "step_started",
          "child_started#1",
          "child_finished#1",
          "attempt_failed#1",
          "step_failed#1",
        ]);
      });
    } finally {
      await sqlite.close();
    }
  },
);

test(
  "keel cancel of a run on the workers ends its child run under way cancelled too",
  { skip: missing, timeout: 60_000 },
  async () => {
    const submitted = await keelAsync(
      ["run", "slow-parent.keel.yaml", "--on", url, "--detach", "--json"],
      dir,
    );
    assert.equal(submitted.code, 0, submitted.stderr);
    const { runId } = JSON.parse(submitted.stdout) as { runId: string };
    await withStore(async (store) => {
      let child: string | undefined;
      for (let i = 0; !child; i++) {
        assert.ok(i < 300, "the child run never started its step");
        const started = (await store.events(runId)).find((e) => e.type === "child_started");
        const id = started?.data?.childRun as string | undefined;
        if (id && (await store.events(id)).some((e) => e.type === "step_started")) child = id;
        else await new Promise((r) => setTimeout(r, 50));
      }
      const cancelled = keel(["cancel", runId, "--store", url], dir);
      assert.equal(cancelled.code, 0, cancelled.stderr);
      writeFileSync(join(dir, "release"), "");
      assert.equal((await store.getRun(runId))!.status, "cancelled");
      const run = (await store.getRun(child))!;
      assert.deepEqual([run.status, run.parentId, run.parentScope], ["cancelled", runId, "wait"]);
      const events = await store.events(child);
      assert.deepEqual(
        events.slice(-2).map((e) => `${e.type}:${e.stepId}`),
        ["step_cancelled:hold", "run_finished:null"],
      );
    });
  },
);
