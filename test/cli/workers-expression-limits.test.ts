// Expressions that never end, on a team's workers (`keel worker` processes and a throw-away
// PostgreSQL): a transform or assert with a time limit fails as a timeout there too, its answer
// checkpointed by DBOS (`keel.expression`), and so do a tool's templates (evaluated inside the
// attempt's `keel.effect`); an attempt taken over after that checkpoint evaluates its templates
// again for its record; and `keel cancel` stops expressions without a time limit, so the workers'
// workflows end instead of spinning for ever. docs/team.md, docs/dev/production-mode.md
// ("Expressions on the workers").
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { openPgStore } from "@keel/core/store/pg-store";
import { foldToEnd } from "@keel/core/record/fold";
import { inlineValue } from "@keel/core/record/refs";
import { bin, keel, workspace, type CliResult } from "../helpers/cli";
import { postgresMissing, startPostgres, type ThrowawayPostgres } from "../helpers/postgres";
import { killWorkers, startWorkerProcess, type StartedWorker } from "../helpers/workers";

// A tail call: it never deepens, so only a time limit or a cancel ends it.
const LOOP = "($f := function($x) { $f($x) }; $f(1))";

const missing = postgresMissing();
let server: ThrowawayPostgres | undefined;
/** The workers alive: each started with a long grace (60 s). */
const live: StartedWorker[] = [];
let dir = "";
let url = "";

before(async () => {
  if (missing) return;
  server = await startPostgres();
  url = server.url;
  dir = workspace({
    "spin.keel.yaml": `keel: 1
name: spin
defaults: { timeout: 3s }
steps:
  quick: { type: transform, expr: '{"n": $sum([1, 2, 3])}', timeout: 5s }
  spin: { type: transform, expr: '${LOOP}', timeout: 2s }
  check: { type: assert, that: '${LOOP} = 1' }
  kept: { type: transform, expr: '${LOOP}', timeout: 2s, cache: true }
  call:
    type: tool
    uses: ./echo.js#echo
    with: { x: '\${{ ${LOOP} }}' }
    timeout: 2s
outputs:
  quick: steps.quick.output
`,
    // A tool's templates, a cached transform and a snapshot's version (evaluated by their
    // attempts' workflows) and a transform (by the run's).
    "forever.keel.yaml": `keel: 1
name: forever
steps:
  call: { type: tool, uses: ./echo.js#echo, with: { x: '\${{ ${LOOP} }}' } }
  cached: { type: transform, expr: '${LOOP}', cache: true }
  snap: { type: tool, uses: ./echo.js#echo, snapshot: { source: s, version: '${LOOP}' } }
  spin: { type: transform, expr: '${LOOP}' }
`,
    // An if (evaluated by the run's workflow before the step starts).
    "gate.keel.yaml": `keel: 1
name: gate
steps:
  gated: { type: transform, if: '${LOOP} = 1', expr: '1' }
`,
    "echo.js": `exports.echo = async (args) => args;\n`,
    // A tool whose record takes seconds after its effect: its snapshot's version is slow.
    "crash.keel.yaml": `keel: 1
name: crash
inputs:
  n: { type: number, default: 4 }
steps:
  work:
    type: tool
    uses: ./mark.js#mark
    with: { n: '\${{ inputs.n + 1 }}' }
    snapshot: { source: slow, version: '$sum($map([1..800000], function($v) { $v * 2 })) + output.n' }
  after: { type: transform, expr: steps.work.output.n }
outputs:
  n: steps.after.output
`,
    "mark.js": `const { appendFileSync } = require("node:fs");
exports.mark = async (args) => {
  appendFileSync(process.env.KEEL_TEST_EFFECTS, "start " + process.pid + "\\n");
  appendFileSync(process.env.KEEL_TEST_EFFECTS, "end " + process.pid + "\\n");
  return args;
};
`,
  });
  writeFileSync(join(dir, "effects.log"), "");
  await startWorker("x1");
});

/** A worker with a long grace: one whose workflow still evaluated would wait all of it when stopped. */
async function startWorker(id: string): Promise<void> {
  const w = startWorkerProcess(url, id, dir, join(dir, "effects.log"), ["--grace", "60s"]);
  await w.ready;
  live.push(w);
}
after(() => {
  killWorkers();
  server?.stop();
});

/** `keel args…` without blocking this process, killed after `limitMs` (a run that never ends). */
function keelWithin(args: string[], limitMs: number): Promise<CliResult & { ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: "", FORCE_COLOR: "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const kill = setTimeout(() => child.kill("SIGKILL"), limitMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

test(
  "keel run --on: a transform (cached or not), an assert and a tool's templates that never end fail as timeouts at their step's limit",
  { skip: missing, timeout: 120_000 },
  async () => {
    const ran = await keelWithin(["run", "spin.keel.yaml", "--on", url, "--json"], 60_000);
    assert.equal(ran.code, 1, `after ${ran.ms} ms: ${ran.stderr}${ran.stdout}`);
    assert.ok(ran.ms < 30_000, `ended after ${ran.ms} ms`);
    const { runId } = JSON.parse(ran.stdout) as { runId: string };
    const store = await openPgStore(url, { readOnly: true });
    try {
      const events = await store.events(runId);
      const failed = (step: string) =>
        events.find((e) => e.stepId === step && e.type === "step_failed")?.data;
      assert.deepEqual(
        [failed("spin")?.kind, failed("spin")?.message],
        ["timeout", "the expression did not end within 2s"],
      );
      // `defaults.timeout` is the assert's limit.
      assert.deepEqual(
        [failed("check")?.kind, failed("check")?.message],
        ["timeout", "the expression did not end within 3s"],
      );
      // A cached transform is an attempt of its own, with the same limit and message.
      assert.deepEqual(
        [failed("kept")?.kind, failed("kept")?.message],
        ["timeout", "the expression did not end within 2s"],
      );
      // A tool's templates, evaluated by its attempt's workflow, within the step's limit.
      assert.deepEqual(
        [failed("call")?.kind, failed("call")?.message],
        ["timeout", "its templates were not evaluated within 2s"],
      );
      const fold = foldToEnd(events);
      assert.equal(fold.step("quick")?.status, "succeeded");
      assert.equal((await store.getRun(runId))?.status, "failed");
      const attempts = await store.attempts(runId);
      const quick = attempts.find((a) => a.stepId === "quick")!;
      const text = inlineValue(quick.outputHash!) ?? (await store.blob(quick.outputHash!));
      assert.deepEqual(JSON.parse(text!), { n: 6 });
    } finally {
      await store.close();
    }
    // Each answer was checkpointed once, as a DBOS step of the run's workflow: a re-execution
    // after a crash reads it back instead of deciding again.
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const steps = await db.query(
        `SELECT count(*)::int AS n FROM dbos.operation_outputs
         WHERE workflow_uuid = $1 AND function_name = 'keel.expression'`,
        [runId],
      );
      assert.equal(steps.rows[0].n, 3);
    } finally {
      await db.end();
    }
  },
);

test(
  "an attempt taken over after its effect was checkpointed evaluates its templates again and records what it ran on",
  { skip: missing, timeout: 120_000 },
  async () => {
    await startWorker("x2");
    const effects = join(dir, "effects.log");
    const submitted = keel(["run", "crash.keel.yaml", "--on", url, "--detach", "--json"], dir);
    assert.equal(submitted.code, 0, submitted.stderr);
    const { runId } = JSON.parse(submitted.stdout) as { runId: string };
    // The tool's effect ended (its answer is checkpointed right after), on one of the workers.
    let pid = 0;
    for (let i = 0; !pid; i++) {
      assert.ok(i < 600, "the tool never ran");
      pid = Number(/end (\d+)/.exec(readFileSync(effects, "utf8"))?.[1] ?? 0);
      if (!pid) await new Promise((r) => setTimeout(r, 20));
    }
    // Killed while it computes the snapshot's version, before the attempt's record.
    await new Promise((r) => setTimeout(r, 300));
    const victim = live.find((w) => w.child.pid === pid)!;
    assert.ok(victim, `no worker has pid ${pid}`);
    victim.child.kill("SIGKILL");
    live.splice(live.indexOf(victim), 1);
    const store = await openPgStore(url, { readOnly: true });
    try {
      assert.equal(
        foldToEnd(await store.events(runId)).step("work")?.status,
        "running",
        "the attempt was recorded before the worker was killed: nothing was taken over",
      );
      for (let i = 0; (await store.getRun(runId))?.status === "running"; i++) {
        assert.ok(i < 600, "the run never ended after the kill");
        await new Promise((r) => setTimeout(r, 100));
      }
      const run = (await store.getRun(runId))!;
      assert.equal(run.status, "succeeded", run.error ?? "");
      // The effect was not executed again: the other worker read its answer back.
      assert.equal(readFileSync(effects, "utf8").match(/start/g)?.length, 1);
      const events = await store.events(runId);
      assert.equal(
        events.filter((e) => e.stepId === "work" && e.type === "step_succeeded").length,
        1,
      );
      // The resolved input holds the templates' value, evaluated again on the other worker.
      const attempt = (await store.attempts(runId)).find((a) => a.stepId === "work")!;
      assert.ok(attempt.inputHash, "the attempt's resolved input was not recorded");
      const input = JSON.parse(
        inlineValue(attempt.inputHash) ?? (await store.blob(attempt.inputHash))!,
      ) as { args: unknown };
      assert.deepEqual(input.args, { n: 5 });
    } finally {
      await store.close();
    }
  },
);

test(
  "keel cancel stops a transform (cached or not), an if, a tool's templates and a snapshot's version that never end on the workers",
  { skip: missing, timeout: 120_000 },
  async () => {
    const runIds: string[] = [];
    for (const file of ["forever.keel.yaml", "gate.keel.yaml"]) {
      const submitted = keel(["run", file, "--on", url, "--detach", "--json"], dir);
      assert.equal(submitted.code, 0, submitted.stderr);
      runIds.push((JSON.parse(submitted.stdout) as { runId: string }).runId);
    }
    const store = await openPgStore(url, { readOnly: true });
    try {
      // The worker took the runs (what a spinning step records is written when it ends).
      for (const runId of runIds) {
        for (let i = 0; (await store.getRun(runId))?.status !== "running"; i++) {
          assert.ok(i < 300, "no worker took the run");
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      // Spinning for a while, past the time an evaluation runs before it watches for a cancel.
      await new Promise((r) => setTimeout(r, 2000));
      for (const runId of runIds) {
        const cancelled = keel(["cancel", runId, "--store", url], dir);
        assert.equal(cancelled.code, 0, cancelled.stderr);
        assert.equal((await store.getRun(runId))?.status, "cancelled");
      }
    } finally {
      await store.close();
    }
    // The workers' workflows have ended: stopping the workers does not wait for them (their
    // grace is 60 s; a cancel is seen within about a second).
    await new Promise((r) => setTimeout(r, 2000));
    const sent = Date.now();
    const stopped = live.map(async (w) => {
      const exited = new Promise<number | null>((r) => w.child.once("exit", (code) => r(code)));
      w.child.kill("SIGTERM");
      const bound = setTimeout(() => w.child.kill("SIGKILL"), 30_000);
      const code = await exited;
      clearTimeout(bound);
      return { code, ms: Date.now() - sent, log: w.log() };
    });
    for (const { code, ms, log } of await Promise.all(stopped)) {
      assert.ok(ms < 15_000, `a worker stopped ${ms} ms after SIGTERM: ${log}`);
      assert.equal(code, 0, log);
    }
  },
);
