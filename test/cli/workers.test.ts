// A team's workers on PostgreSQL (docs/team.md, issue #10), on a throw-away cluster this file
// starts.
// Failover: three `keel worker` processes start at the same moment on an empty database; 30 runs
// of a fan-out workflow (a scripted llm step, 10 tool steps that append each execution to a file,
// a join, an assert, and a transform with a time limit, whose answer is a DBOS checkpoint) are
// submitted; one worker is killed with SIGKILL while it has tool attempts in flight. Then every
// run succeeds within a bounded time, each run's log is 1..n without a gap or a repeat, each step
// has exactly one success, each tool step executed once except those in flight on the killed
// worker (at most twice), the outputs equal a local run's (keel diff), and every run replays with
// zero effects from PostgreSQL and after `keel pull` into SQLite, and its golden export passes
// `keel test`.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { openDbosExecutor, type DbosExecutor } from "@keel/workers";
import { foldToEnd } from "@keel/core/record/fold";
import { readRecordedRun } from "@keel/core/replay/record";
import { replayRun } from "@keel/core/replay/replay";
import { toGolden } from "@keel/core/replay/golden";
import { diffRuns } from "@keel/core/replay/diff";
import { loadWorkflow } from "@keel/core/runner/load";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { MemoryStore } from "@keel/core/store/memory-store";
import { runWorkflow } from "@keel/core/runner/run";
import { createNodeEffects } from "@keel/core/runner/node-effects";
import { newRunId } from "@keel/core/store/ids";
import type { RunStore } from "@keel/core/store/run-store";
import { keel, workspace } from "../helpers/cli";
import { killWorkers, startWorkerProcess } from "../helpers/workers";
import { postgresMissing, startPostgres, type ThrowawayPostgres } from "../helpers/postgres";

const TOOLS = Array.from({ length: 10 }, (_, i) => `t${i}`);
const FLOW = `keel: 1
name: fan out
inputs:
  n: { type: number }
providers:
  planner: { type: scripted, model: plan-1, default: '{"parts": 10}' }
steps:
  plan:
    type: llm
    provider: planner
    prompt: "Plan batch \${{ inputs.n }}"
    output: { format: json }
  seed:
    type: transform
    expr: inputs.n * 2
    timeout: 5s
${TOOLS.map(
  (t) => `  ${t}:
    type: tool
    uses: ./work.js#work
    with: { n: "\${{ inputs.n }}", step: ${t}, parts: "\${{ steps.plan.output.parts }}" }
`,
).join("")}  join:
    type: transform
    expr: '$sum([${TOOLS.map((t) => `steps.${t}.output.value`).join(", ")}])'
  check:
    type: assert
    that: steps.join.output = 10 * (inputs.n + 1) and steps.seed.output = inputs.n * 2
outputs:
  total: steps.join.output
`;
// Each execution appends one line, O_APPEND, to the file the environment names, as it starts:
// an attempt killed in flight has left its line, so a step that ran again shows twice.
const WORK = `const { appendFileSync } = require("node:fs");
exports.work = async (args) => {
  appendFileSync(process.env.KEEL_TEST_EFFECTS, args.n + " " + args.step + " " + process.pid + "\\n");
  await new Promise((r) => setTimeout(r, 300));
  return { value: args.n + 1 };
};
`;

const missing = postgresMissing();
let server: ThrowawayPostgres | undefined;
before(async () => {
  if (!missing) server = await startPostgres();
});
after(() => {
  killWorkers();
  server?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Steps of `runId` that had started and not ended, per the record. */
async function inFlight(store: RunStore, runId: string): Promise<string[]> {
  const fold = foldToEnd(await store.events(runId), await store.attempts(runId));
  return [...fold.steps()].filter((s) => s.status === "running").map((s) => s.id);
}

test(
  "failover: 3 workers on an empty database, 30 fan-out runs, one worker killed mid-attempt: every run succeeds once, as a local run does",
  { skip: missing, timeout: 240_000 },
  async () => {
    const url = server!.url;
    const dir = workspace({ "flow.keel.yaml": FLOW, "work.js": WORK });
    const effects = join(dir, "effects.log");
    writeFileSync(effects, "");

    // Three workers at the same moment on an empty database: Keel's and DBOS's migrations once.
    const pool = ["w1", "w2", "w3"].map((id) => startWorkerProcess(url, id, dir, effects));
    await Promise.all(pool.map((w) => w.ready));
    const victim = pool[1]!;

    let executor: DbosExecutor | undefined;
    try {
      // The workers (the built CLI) take runs of their own Keel version only.
      const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
      executor = await openDbosExecutor(url, { keelVersion: version });
      const loaded = loadWorkflow(join(dir, "flow.keel.yaml"));
      assert.ok(loaded.ok);
      const ids: string[] = [];
      for (let n = 0; n < 30; n++) {
        const runId = newRunId();
        ids.push(runId);
        await executor.start({
          runId,
          workflowPath: loaded.loaded.path,
          source: loaded.loaded.source,
          inputs: { n },
          env: {},
        });
      }
      // Submitting a run again starts it once.
      await executor.start({
        runId: ids[0]!,
        workflowPath: loaded.loaded.path,
        source: loaded.loaded.source,
        inputs: { n: 0 },
        env: {},
      });

      // Kill w2 while it has a tool attempt in flight that has begun its effect: its line, with
      // w2's pid, is in the effects file, and the record has no end for that step yet.
      const store = executor.store;
      const deadline = Date.now() + 60_000;
      let killedAt = 0;
      const victimPid = victim.child.pid!;
      while (!killedAt) {
        assert.ok(
          Date.now() < deadline,
          `w2 never had a tool attempt in flight:\n${pool.map((w) => w.log()).join("\n")}`,
        );
        for (const line of readFileSync(effects, "utf8").split("\n")) {
          const [n, step, pid] = line.split(" ");
          if (Number(pid) !== victimPid) continue;
          if ((await inFlight(store, ids[Number(n)]!)).includes(step!)) {
            victim.child.kill("SIGKILL");
            killedAt = Date.now();
            break;
          }
        }
        if (!killedAt) await sleep(20);
      }

      // The runs whose workflow w2 was executing: another worker executes each again from DBOS's
      // checkpoints, and must take the same decisions (checked below: one record, no repeat).
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      const orphans = (
        await db.query(
          `SELECT workflow_uuid FROM dbos.workflow_status
           WHERE executor_id = 'w2' AND name = 'keel_run' AND status = 'PENDING'`,
        )
      ).rows.map((r) => r.workflow_uuid as string);
      assert.ok(orphans.length >= 1, "w2 was executing no run's workflow when it was killed");

      // Every run ends, within a bounded time.
      for (;;) {
        const runs = (await store.listRuns({ limit: 100 })).filter((r) => ids.includes(r.id));
        if (runs.length === 30 && runs.every((r) => r.status !== "running")) break;
        assert.ok(Date.now() - killedAt < 60_000, "runs still unfinished 60 s after the kill");
        await sleep(100);
      }
      const recoveryMs = Date.now() - killedAt;
      process.stdout.write(`# all 30 runs ended ${recoveryMs} ms after the kill\n`);

      const lines = readFileSync(effects, "utf8").trim().split("\n");
      const executions = new Map<string, string[]>();
      for (const line of lines) {
        const [n, step, pid] = line.split(" ");
        executions.set(`${n} ${step}`, [...(executions.get(`${n} ${step}`) ?? []), pid!]);
      }
      let twice = 0;
      for (const [n, runId] of ids.entries()) {
        const run = (await store.getRun(runId))!;
        assert.equal(run.status, "succeeded", `run ${n}: ${run.error}`);
        const events = await store.events(runId);
        assert.deepEqual(
          events.map((e) => e.seq),
          events.map((_, i) => i + 1),
          `run ${n}: the log has a gap or a repeat`,
        );
        for (const step of ["plan", "seed", ...TOOLS, "join", "check"]) {
          const successes = events.filter(
            (e) => e.stepId === step && ["step_succeeded", "step_cached"].includes(e.type),
          );
          assert.equal(
            successes.length,
            1,
            `run ${n}, step ${step}: ${successes.length} successes`,
          );
        }
        // Once each, except an attempt in flight on w2 when it was killed: that one executed
        // again on another worker, so twice, and one of the two was w2's.
        for (const t of TOOLS) {
          const pids = executions.get(`${n} ${t}`) ?? [];
          if (pids.length === 2) {
            twice++;
            assert.equal(
              pids.filter((p) => Number(p) === victimPid).length,
              1,
              `run ${n}, ${t}: executed twice, not once on w2 and once elsewhere (${pids})`,
            );
          } else assert.equal(pids.length, 1, `run ${n}, ${t}: executed ${pids.length}×`);
        }
      }
      assert.ok(twice >= 1, "the attempt killed in flight ran again (at least once)");
      const taken = (
        await db.query(
          `SELECT executor_id, status FROM dbos.workflow_status WHERE workflow_uuid = ANY($1)`,
          [orphans],
        )
      ).rows as { executor_id: string; status: string }[];
      await db.end();
      assert.equal(taken.length, orphans.length);
      for (const t of taken) {
        assert.deepEqual([t.status, ["w1", "w3"].includes(t.executor_id)], ["SUCCESS", true]);
      }
      // One run's steps spread over the pool: some run has tool steps executed by two workers.
      const spread = ids.filter((_, n) => {
        const pids = new Set(TOOLS.map((t) => executions.get(`${n} ${t}`)?.at(-1)));
        return pids.size > 1;
      }).length;
      assert.ok(spread >= 1, "no run had its steps executed by more than one worker");
      process.stdout.write(
        `# ${twice} tool steps executed twice; ${orphans.length} runs' workflows taken over from w2; ${spread} of 30 runs spread over several workers\n`,
      );
      assert.match(
        pool[0]!.log() + pool[2]!.log(),
        /worker 'w2' is gone: \d+ of its runs and attempts are back/,
      );

      // The same runs locally: equal outputs, no divergence (keel diff, after keel pull).
      const local = join(dir, ".keel", "runs.sqlite");
      const localEffects = join(dir, "local-effects.log");
      const localIds: string[] = [];
      for (const n of [0, 7, 29]) {
        const r = keel(["run", "flow.keel.yaml", "--input", `n=${n}`, "--json"], dir, {
          KEEL_TEST_EFFECTS: localEffects,
        });
        assert.equal(r.code, 0, r.stderr);
        localIds.push(JSON.parse(r.stdout).runId);
      }
      for (const runId of ids) {
        const pulled = keel(["pull", runId, "--store", url], dir);
        assert.equal(pulled.code, 0, pulled.stderr);
      }
      for (const [i, n] of [0, 7, 29].entries()) {
        const d = keel(["diff", localIds[i]!, ids[n]!, "--json"], dir);
        assert.equal(d.code, 0, `run ${n} differs from a local run: ${d.stdout}`);
        assert.equal(JSON.parse(d.stdout).firstDivergence, null);
      }
      // And every one of the 30, with the local executor in this process (diff's own code).
      process.env.KEEL_TEST_EFFECTS = localEffects;
      const memory = new MemoryStore();
      const localRuns = await Promise.all(
        ids.map((_, n) =>
          runWorkflow({
            workflowPath: loaded.loaded.path,
            source: loaded.loaded.source,
            workflow: loaded.loaded.workflow,
            graph: loaded.loaded.graph,
            inputs: { n },
            store: memory,
            effects: createNodeEffects({ providers: loaded.loaded.workflow.providers ?? {}, dir }),
          }),
        ),
      );
      for (const [n, runId] of ids.entries()) {
        const mine = (await readRecordedRun(memory, localRuns[n]!.runId))!;
        const theirs = (await readRecordedRun(store, runId))!;
        assert.equal(
          diffRuns(mine, theirs).firstDivergence,
          null,
          `run ${n} differs from a local run`,
        );
        assert.deepEqual(localRuns[n]!.outputs, { total: 10 * (n + 1) });
      }

      // Every run replays with zero effects, from PostgreSQL and from the pulled copy, and its
      // golden export passes keel test.
      const before = readFileSync(effects, "utf8");
      const sqlite = openSqliteStore(local);
      try {
        for (const [n, runId] of ids.entries()) {
          for (const [where, s] of [
            ["postgres", store],
            ["sqlite", sqlite],
          ] as const) {
            const record = (await readRecordedRun(s, runId))!;
            const report = await replayRun(record, loaded.loaded);
            assert.equal(report.divergence, null, `run ${n} from ${where} diverges`);
            assert.equal(report.effectsExecuted, 0);
          }
          const record = (await readRecordedRun(sqlite, runId))!;
          if (n === 3) {
            const localRecord = (await readRecordedRun(sqlite, localIds[0]!))!;
            // n differs: the diff finds it, so the comparison above is not vacuous.
            assert.notEqual(diffRuns(localRecord, record).firstDivergence, null);
          }
          writeFileSync(
            join(dir, `flow.run${n}.keel-run.json`),
            JSON.stringify(toGolden(record, "flow.keel.yaml"), null, 2),
          );
        }
      } finally {
        await sqlite.close();
      }
      assert.equal(readFileSync(effects, "utf8"), before, "replay executed a tool");
      const tested = keel(["test"], dir);
      assert.equal(tested.code, 0, tested.stdout + tested.stderr);
      assert.match(tested.stdout, /30 passed, 0 failed/);
    } finally {
      await executor?.close();
      // A graceful stop: SIGTERM ends a worker with exit code 0.
      const stops = [pool[0]!, pool[2]!].map(
        (w) => new Promise<number | null>((resolve) => w.child.once("exit", resolve)),
      );
      pool[0]!.child.kill("SIGTERM");
      pool[2]!.child.kill("SIGTERM");
      assert.deepEqual(await Promise.all(stops), [0, 0]);
    }
  },
);

test(
  "keel run --on follows a run like a local one, --detach only submits, a worker's --otel exports it, and a secret the workers lack fails the run with a reason",
  { skip: missing, timeout: 120_000 },
  async () => {
    const { keelAsync, startReceiver } = await import("../helpers/otlp");
    const receiver = await startReceiver();
    const url = server!.urlOf("postgres");
    const dir = workspace({
      "greet.keel.yaml": `keel: 1
name: greet
inputs:
  who: { type: string, default: ada }
providers:
  m: { type: scripted, model: m-1, default: "hello" }
steps:
  hi: { type: llm, provider: m, prompt: "Greet \${{ inputs.who }}" }
  shout: { type: transform, expr: '$uppercase(steps.hi.output)' }
outputs:
  text: steps.shout.output
`,
      "secret.keel.yaml": `keel: 1
name: secret
providers:
  m: { type: scripted, default: "ok" }
steps:
  hi: { type: llm, provider: m, prompt: "Token \${{ secrets.TEAM_TOKEN }}" }
`,
    });
    const w = startWorkerProcess(url, "solo", dir, join(dir, "effects.log"), [
      "--otel",
      receiver.endpoint,
    ]);
    try {
      await w.ready;
      const followed = await keelAsync(
        ["run", "greet.keel.yaml", "--on", url, "--json", "--input", "who=bo"],
        dir,
      );
      assert.equal(followed.code, 0, followed.stderr);
      const result = JSON.parse(followed.stdout);
      assert.equal(result.status, "succeeded");
      assert.deepEqual(result.outputs, { text: "HELLO" });
      assert.deepEqual(
        result.steps.map((s: { id: string; status: string }) => `${s.id}:${s.status}`),
        ["hi:succeeded", "shout:succeeded"],
      );

      const detached = await keelAsync(
        ["run", "greet.keel.yaml", "--on", url, "--detach", "--json"],
        dir,
      );
      assert.equal(detached.code, 0, detached.stderr);
      const { runId } = JSON.parse(detached.stdout) as { runId: string };
      for (let i = 0; ; i++) {
        const shown = keel(["show", runId, "--store", url, "--json"], dir);
        if (shown.code === 0 && JSON.parse(shown.stdout).run.status === "succeeded") break;
        assert.ok(i < 200, `run ${runId} did not end: ${shown.stderr}`);
        await sleep(100);
      }
      // The worker's --otel: it exported the runs it executed.
      for (let i = 0; receiver.spans.length === 0 && i < 50; i++) await sleep(100);
      assert.ok(receiver.spans.some((s) => s.name === "invoke_workflow greet"));

      const failed = await keelAsync(["run", "secret.keel.yaml", "--on", url], dir);
      assert.equal(failed.code, 1);
      // The attempt fails on the worker that lacks the secret, saying which and what is missing.
      assert.match(failed.stderr, /hi .*config: worker solo: .*KEEL_SECRET_TEAM_TOKEN/);
    } finally {
      await receiver.close();
      const stopped = new Promise((resolve) => w.child.once("exit", resolve));
      w.child.kill("SIGTERM");
      assert.equal(await stopped, 0);
    }
  },
);

test(
  "SIGTERM: a worker whose run outlasts --grace exits 0 and hands the run back; another worker finishes it",
  { skip: missing, timeout: 120_000 },
  async () => {
    const url = server!.urlOf("postgres");
    const dir = workspace({
      "slow.keel.yaml": `keel: 1
name: slow
steps:
  wait: { type: tool, uses: ./wait.js#wait, with: { ms: 1500 } }
  done: { type: transform, expr: 'steps.wait.output.ok' }
`,
      "wait.js": `const { appendFileSync } = require("node:fs");
exports.wait = async (args) => {
  await new Promise((r) => setTimeout(r, args.ms));
  appendFileSync(process.env.KEEL_TEST_EFFECTS, "wait\\n");
  return { ok: true };
};
`,
    });
    const effects = join(dir, "effects.log");
    writeFileSync(effects, "");
    const pair = ["g1", "g2"].map((id) =>
      startWorkerProcess(url, id, dir, effects, ["--grace", "100ms"]),
    );
    await Promise.all(pair.map((w) => w.ready));
    const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    const executor = await openDbosExecutor(url, { keelVersion: version });
    try {
      const loaded = loadWorkflow(join(dir, "slow.keel.yaml"));
      assert.ok(loaded.ok);
      const handle = await executor.start({
        runId: newRunId(),
        workflowPath: loaded.loaded.path,
        source: loaded.loaded.source,
        inputs: {},
        env: {},
      });
      // The worker executing the step's attempt, per DBOS (the attempt workflow's executor).
      const attemptId = `${handle.runId}:wait:1`;
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      const executorOf = async () =>
        (
          await db.query("SELECT executor_id FROM dbos.workflow_status WHERE workflow_uuid = $1", [
            attemptId,
          ])
        ).rows[0]?.executor_id as string | undefined;
      let owner: string | undefined;
      try {
        for (let i = 0; !owner; i++) {
          assert.ok(i < 600, "the step's attempt never started");
          const run = await executor.store.getRun(handle.runId);
          if (run && (await inFlight(executor.store, run.id)).includes("wait")) {
            owner = await executorOf();
          }
          if (!owner) await sleep(20);
        }
        const stopping = pair[["g1", "g2"].indexOf(owner)]!;
        const exited = new Promise<number | null>((r) => stopping.child.once("exit", r));
        stopping.child.kill("SIGTERM");
        assert.equal(await exited, 0);
        assert.match(stopping.log(), /still in progress are handed back/);
        const ended = await handle.ended();
        assert.equal(ended.status, "succeeded");
        // The attempt was handed to the other worker, which executed it to its end.
        assert.equal(await executorOf(), owner === "g1" ? "g2" : "g1");
      } finally {
        await db.end();
      }
      const runs = readFileSync(effects, "utf8").trim().split("\n").length;
      assert.ok(runs >= 1 && runs <= 2, `the step executed ${runs} times`);
    } finally {
      await executor.close();
      for (const w of pair) w.child.kill("SIGTERM");
    }
  },
);
