// A team's workers keep the local runner's semantics (issue #10): on two `keel worker` processes
// and a throw-away PostgreSQL, a workflow whose model calls go to an OpenAI-compatible server on
// 127.0.0.1 (with faults) retries by Keel's policy, falls back to another provider, holds a
// provider's `concurrency` across the whole pool, skips, continues past a failure, answers from
// the cache on a second run, records what a local run records (keel diff), and replays with zero
// calls. And `keel cancel` stops a detached run: its record ends cancelled and takes nothing more.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { openPgStore } from "@keel/core/store/pg-store";
import { readRecordedRun } from "@keel/core/replay/record";
import { replayRun } from "@keel/core/replay/replay";
import { loadWorkflow } from "@keel/core/runner/load";
import { foldToEnd } from "@keel/core/record/fold";
import type { EventRecord } from "@keel/core/record/records";
import { keel, workspace } from "../helpers/cli";
import { keelAsync } from "../helpers/otlp";
import { postgresMissing, startPostgres, type ThrowawayPostgres } from "../helpers/postgres";
import { startProviderServer, type ProviderServer } from "../helpers/provider-server";
import type { RecordedRequest } from "../helpers/provider-server";
import { killWorkers, startWorkerProcess, type StartedWorker } from "../helpers/workers";

const PARTS = [0, 1, 2, 3, 4, 5];
const WORKERS = ["s1", "s2"];
const flow = (url: string) => `keel: 1
name: semantics
inputs:
  extra: { type: boolean, default: false }
providers:
  main:
    type: openai
    model: main-model
    base_url: ${url}
    api_key: \${{ secrets.PROVIDER_KEY }}
    concurrency: 2
    retry: { max_attempts: 3, initial: 20ms, on: [rate_limit, server_error] }
    fallback: backup
  backup:
    type: openai
    model: backup-model
    base_url: ${url}
    api_key: \${{ secrets.PROVIDER_KEY }}
steps:
${PARTS.map((i) => `  p${i}: { type: llm, provider: main, prompt: "part ${i}" }\n`).join("")}  flaky: { type: llm, provider: main, prompt: "flaky" }
  broken: { type: llm, provider: main, prompt: "broken" }
  gate: { type: transform, if: inputs.extra, expr: '"never"' }
  other: { type: transform, if: inputs.extra = false, expr: '"other"' }
  picked: { type: transform, expr: 'steps.gate.status = "succeeded" ? steps.gate.output : steps.other.output' }
  shaky: { type: tool, uses: ./fail.js#fail, on_error: continue }
  report: { type: transform, expr: steps.shaky.status }
  join:
    type: transform
    expr: '$join([${PARTS.map((i) => `steps.p${i}.output`).join(", ")}, steps.flaky.output, steps.broken.output], ",")'
outputs:
  all: steps.join.output
  shaky: steps.report.output
  picked: steps.picked.output
`;
const FAIL = `exports.fail = async (args, ctx) => {
  console.log("shaky", ctx.runId, ctx.step, ctx.attempt);
  throw new Error("shaky tool failed");
};\n`;

const missing = postgresMissing();
let server: ThrowawayPostgres | undefined;
let provider: ProviderServer | undefined;
const pool: StartedWorker[] = [];
let dir = "";
let url = "";
const env = { KEEL_SECRET_PROVIDER_KEY: "sk-team-secret" };

// The server's behaviour per prompt: parts are slow (to see the concurrency), `flaky` fails twice
// (500, then 429) before it answers, `broken` fails on the main model and answers on the backup.
let inFlight = 0;
let mostInFlight = 0;
let flakyCalls = 0;
function behaviour(r: RecordedRequest) {
  const text = JSON.stringify(r.messages);
  const main = r.model === "main-model";
  const delayMs = text.includes("part ") ? 300 : 0;
  if (main) {
    inFlight++;
    mostInFlight = Math.max(mostInFlight, inFlight);
    setTimeout(() => inFlight--, delayMs + 5);
  }
  const part = /part (\d)/.exec(text);
  if (part) return { reply: `P${part[1]}`, delayMs };
  if (text.includes("flaky")) {
    flakyCalls++;
    if (flakyCalls === 1) return { status: 500 };
    if (flakyCalls === 2) return { status: 429, retryAfterMs: 10 };
    return { reply: "F" };
  }
  if (text.includes("broken")) return main ? { status: 500 } : { reply: "B" };
  return { reply: "?" };
}
function resetServer() {
  provider!.reset();
  provider!.setDefault(behaviour);
  flakyCalls = 0;
  mostInFlight = 0;
}

before(async () => {
  if (missing) return;
  server = await startPostgres();
  url = server.url;
  provider = await startProviderServer();
  resetServer();
  dir = workspace({
    "semantics.keel.yaml": flow(provider.openaiBaseURL),
    "fail.js": FAIL,
    // `long`: its slow step (a wait without `ms`) runs until the test writes `release-slow`.
    "long.keel.yaml": `keel: 1
name: long
steps:
  first: { type: tool, uses: ./wait.js#wait, with: { ms: 50, tag: first } }
  slow: { type: tool, uses: ./wait.js#wait, with: { tag: slow } }
  after: { type: transform, expr: steps.slow.output }
`,
    "wait.js": `const { appendFileSync, existsSync } = require("node:fs");
const { join, dirname } = require("node:path");
exports.wait = async (args) => {
  const effects = process.env.KEEL_TEST_EFFECTS;
  appendFileSync(effects, "start " + args.tag + "\\n");
  const release = join(dirname(effects), "release-" + args.tag);
  if (args.ms === undefined) while (!existsSync(release)) await new Promise((r) => setTimeout(r, 10));
  else await new Promise((r) => setTimeout(r, args.ms));
  appendFileSync(effects, "end " + args.tag + "\\n");
  return args.tag;
};
`,
  });
  writeFileSync(join(dir, "effects.log"), "");
  for (const id of WORKERS) {
    pool.push(startWorkerProcess(url, id, dir, join(dir, "effects.log"), [], env));
  }
  await Promise.all(pool.map((w) => w.ready));
});
after(async () => {
  killWorkers();
  await provider?.close();
  server?.stop();
});

/** The worker (its --id) that executed a DBOS workflow: a run, or a step's attempt `run:step:n`. */
async function executorOf(workflowId: string): Promise<string> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const row = await db.query(
      "SELECT executor_id FROM dbos.workflow_status WHERE workflow_uuid = $1",
      [workflowId],
    );
    return String(row.rows[0]?.executor_id);
  } finally {
    await db.end();
  }
}

const byStep = (events: EventRecord[], step: string) =>
  events
    .filter((e) => e.stepId === step)
    .map((e) => `${e.type}${e.attempt ? `#${e.attempt}` : ""}`);

test(
  "retries, fallback, a pool-wide provider limit, skip, on_error and the cache work on the workers as they do locally",
  { skip: missing, timeout: 180_000 },
  async () => {
    const ran = await keelAsync(["run", "semantics.keel.yaml", "--on", url, "--json"], dir, env);
    assert.equal(ran.code, 0, ran.stderr + ran.stdout);
    const result = JSON.parse(ran.stdout);
    // \`picked\` joins the exclusive branches gate and other: it runs on the one that ran.
    assert.deepEqual(result.outputs, {
      all: "P0,P1,P2,P3,P4,P5,F,B",
      shaky: "failed",
      picked: "other",
    });
    // The provider's concurrency (2) held across both workers, and was used.
    assert.equal(mostInFlight, 2, `at most 2 calls at once on the main model, saw ${mostInFlight}`);
    const calls = provider!.count();
    assert.equal(calls, 6 + 3 + 3 + 1);

    const store = await openPgStore(url, { readOnly: true });
    try {
      const events = await store.events(result.runId);
      assert.deepEqual(byStep(events, "flaky"), [
        "step_started",
        "attempt_failed#1",
        "attempt_failed#2",
        "step_succeeded#3",
      ]);
      assert.deepEqual(
        events
          .filter((e) => e.stepId === "flaky" && e.type === "attempt_failed")
          .map((e) => [e.data?.kind, e.data?.next]),
        [
          ["server_error", "retry"],
          ["rate_limit", "retry"],
        ],
      );
      assert.deepEqual(
        events
          .filter((e) => e.stepId === "broken" && e.type === "attempt_failed")
          .map((e) => e.data?.next),
        ["retry", "retry", "fallback"],
      );
      const attempts = await store.attempts(result.runId);
      const brokenLast = attempts.filter((a) => a.stepId === "broken").at(-1)!;
      assert.deepEqual(
        [brokenLast.attempt, brokenLast.status, brokenLast.meta?.provider],
        [4, "succeeded", "backup"],
      );
      assert.deepEqual(byStep(events, "gate"), ["step_skipped"]);
      assert.equal(
        events.find((e) => e.stepId === "shaky" && e.type === "step_failed")?.data?.continued,
        true,
      );
      // What the tool printed, on the worker that ran it, is recorded with its attempt.
      const shaky = attempts.find((a) => a.stepId === "shaky")!;
      assert.equal(shaky.meta?.log, `shaky ${result.runId} shaky 1\n`);
      assert.equal(
        events.find((e) => e.stepId === "shaky" && e.type === "attempt_failed")?.data?.log,
        shaky.meta?.log,
      );
      // No secret's value in the record, nor in DBOS's tables.
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        const leaks = await db.query(
          `SELECT count(*)::int AS n FROM dbos.workflow_status WHERE inputs LIKE '%sk-team-secret%' OR output LIKE '%sk-team-secret%'`,
        );
        assert.equal(leaks.rows[0].n, 0);
        const steps = await db.query(
          `SELECT count(*)::int AS n FROM dbos.operation_outputs WHERE output LIKE '%sk-team-secret%'`,
        );
        assert.equal(steps.rows[0].n, 0);
      } finally {
        await db.end();
      }
      assert.ok(!JSON.stringify(events).includes("sk-team-secret"));

      // Replayed from PostgreSQL: no divergence, no call.
      const loaded = loadWorkflow(join(dir, "semantics.keel.yaml"));
      assert.ok(loaded.ok);
      const before = provider!.count();
      const report = await replayRun((await readRecordedRun(store, result.runId))!, loaded.loaded);
      assert.deepEqual([report.divergence, report.effectsExecuted], [null, 0]);
      assert.equal(provider!.count(), before);

      // The same workflow locally, against the same server behaviour: keel diff finds nothing.
      resetServer();
      // (Not spawnSync: the provider server answers from this process.)
      const local = await keelAsync(
        ["run", "semantics.keel.yaml", "--json", "--no-cache"],
        dir,
        env,
      );
      assert.equal(local.code, 0, local.stderr);
      const pulled = keel(["pull", result.runId, "--store", url], dir);
      assert.equal(pulled.code, 0, pulled.stderr);
      const diff = keel(["diff", JSON.parse(local.stdout).runId, result.runId, "--json"], dir);
      assert.equal(diff.code, 0, diff.stdout + diff.stderr);
      assert.equal(JSON.parse(diff.stdout).firstDivergence, null);

      // A second run on the workers: every model call answered from the cache, except the three
      // attempts of `broken` on the main model, which has no cached answer (its answer came from
      // the backup, a cache key of its own); its fallback is then a hit, as in a local run.
      resetServer();
      const again = await keelAsync(
        ["run", "semantics.keel.yaml", "--on", url, "--json"],
        dir,
        env,
      );
      assert.equal(again.code, 0, again.stderr);
      const second = JSON.parse(again.stdout);
      assert.deepEqual(second.outputs, result.outputs);
      assert.deepEqual(
        provider!.requests.map(
          (r) => `${r.model} ${JSON.stringify(r.messages).includes("broken")}`,
        ),
        ["main-model true", "main-model true", "main-model true"],
      );
      const cached = (await store.events(second.runId)).filter((e) => e.type === "step_cached");
      assert.deepEqual(
        cached.map((e) => e.stepId).sort(),
        [...PARTS.map((i) => `p${i}`), "broken", "flaky"].sort(),
      );
    } finally {
      await store.close();
    }
  },
);

test(
  "keel cancel stops a detached run on the workers: unfinished steps cancelled, nothing recorded after",
  { skip: missing, timeout: 120_000 },
  async () => {
    const effects = join(dir, "effects.log");
    const submitted = keel(["run", "long.keel.yaml", "--on", url, "--detach", "--json"], dir);
    assert.equal(submitted.code, 0, submitted.stderr);
    const { runId } = JSON.parse(submitted.stdout) as { runId: string };
    const store = await openPgStore(url, { readOnly: true });
    try {
      for (let i = 0; ; i++) {
        assert.ok(i < 300, "the slow step never started");
        const fold = foldToEnd(await store.events(runId));
        if (
          fold.step("slow")?.status === "running" &&
          readFileSync(effects, "utf8").includes("start slow")
        )
          break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const cancelled = keel(["cancel", runId, "--store", url], dir);
      assert.equal(cancelled.code, 0, cancelled.stderr);
      assert.match(cancelled.stdout, /cancelled run/);
      const run = (await store.getRun(runId))!;
      assert.deepEqual([run.status, run.error], ["cancelled", "the run was cancelled"]);
      const events = await store.events(runId);
      assert.deepEqual(byStep(events, "first").at(-1), "step_succeeded#1");
      assert.deepEqual(byStep(events, "slow"), ["step_started", "step_cancelled#1"]);
      assert.deepEqual(byStep(events, "after"), ["step_cancelled"]);
      assert.equal(events.at(-1)!.type, "run_finished");
      assert.equal(events.at(-1)!.data?.status, "cancelled");
      // The slow tool, released now, finishes its effect on the worker; its record is refused.
      // The worker that ran it then stops gracefully (SIGTERM lets the work in progress end,
      // within --grace 5s): once it has exited, whatever that attempt would record was tried.
      writeFileSync(join(dir, "release-slow"), "");
      const ranSlow = await executorOf(`${runId}:slow:1`);
      const worker = pool[WORKERS.indexOf(ranSlow)]!;
      const exited = new Promise<number | null>((resolve) => worker.child.once("exit", resolve));
      worker.child.kill("SIGTERM");
      assert.equal(await exited, 0, worker.log());
      assert.match(readFileSync(effects, "utf8"), /^end slow$/m);
      assert.deepEqual(await store.events(runId), events);
      assert.equal((await store.getRun(runId))!.status, "cancelled");
      const again = keel(["cancel", runId, "--store", url], dir);
      assert.match(again.stdout, /has already ended: cancelled/);
      // The other worker is still well: a run after the cancel succeeds (its slow step released).
      const next = await keelAsync(["run", "long.keel.yaml", "--on", url, "--json"], dir);
      assert.equal(next.code, 0, next.stderr);
    } finally {
      await store.close();
    }
  },
);
