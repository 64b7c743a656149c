// `npm run bench:workers` (issue #10): a team's workers on PostgreSQL against the local executor,
// on a throw-away PostgreSQL (test/helpers/postgres.ts), with the built CLI (`npm run build`).
// - 200 small runs (a scripted llm step, two transforms, an assert: 4 steps), each with its own
//   input so none is a cache hit: the local executor in one process into SQLite, the same into
//   the PostgreSQL store, then 1, 2 and 3 `keel worker` processes (8 runs at once each) on a fresh
//   database, the runs submitted with the DBOS executor. Printed: wall time from the first submit
//   to the last run's end, runs per second, and wall time per step.
// - Failover: 2 workers, 24 runs whose tool step takes 1 s; one worker is killed with SIGKILL once
//   it has runs in progress; printed: the time from its death to the end of the last of its runs,
//   and to the first of them resumed elsewhere.
// Figures on a shared machine vary with its load: run it twice and read the spread.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { openDbosExecutor, type DbosExecutor } from "@keel/workers";
import { loadWorkflow, type LoadedWorkflow } from "@keel/core/runner/load";
import { runWorkflow } from "@keel/core/runner/run";
import { createNodeEffects } from "@keel/core/runner/node-effects";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { openPgStore } from "@keel/core/store/pg-store";
import { newRunId } from "@keel/core/store/ids";
import type { RunStore } from "@keel/core/store/run-store";
import { startPostgres } from "../../test/helpers/postgres";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "bin/keel.js");
const RUNS = 200;
const STEPS = 4;
const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  version: string;
};

const SMALL = `keel: 1
name: small
inputs:
  n: { type: number }
providers:
  m: { type: scripted, model: m-1, default: '{"score": 3}' }
steps:
  ask: { type: llm, provider: m, prompt: "Score item \${{ inputs.n }}", output: { format: json } }
  double: { type: transform, expr: 'steps.ask.output.score * 2' }
  label: { type: transform, expr: '"item " & $string(inputs.n) & ": " & $string(steps.double.output)' }
  check: { type: assert, that: steps.double.output = 6 }
`;
const SLOW = `keel: 1
name: slow
inputs:
  n: { type: number }
steps:
  wait: { type: tool, uses: ./wait.js#wait, with: { n: "\${{ inputs.n }}" } }
  done: { type: transform, expr: 'steps.wait.output.n' }
`;
const WAIT = `exports.wait = async (args) => { await new Promise((r) => setTimeout(r, 1000)); return { n: args.n }; };\n`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number, digits = 1) => n.toFixed(digits);

function load(path: string): LoadedWorkflow {
  const r = loadWorkflow(path);
  if (!r.ok) throw new Error(`invalid bench workflow ${path}`);
  return r.loaded;
}

/** Runs `count` runs in this process, `concurrency` at a time; wall ms. */
async function local(
  store: RunStore,
  loaded: LoadedWorkflow,
  concurrency: number,
): Promise<number> {
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < RUNS) {
      const n = next++;
      const r = await runWorkflow({
        workflowPath: loaded.path,
        source: loaded.source,
        workflow: loaded.workflow,
        graph: loaded.graph,
        inputs: { n },
        store,
        effects: createNodeEffects({ providers: loaded.workflow.providers ?? {}, dir: loaded.dir }),
      });
      if (r.status !== "succeeded") throw new Error(`local run ${n} ${r.status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return performance.now() - started;
}

interface WorkerProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
}

function startWorker(url: string, id: string, cwd: string): WorkerProcess {
  const child = spawn(
    process.execPath,
    [BIN, "worker", "--store", url, "--id", id, "--concurrency", "8", "--grace", "2s"],
    {
      cwd,
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let text = "";
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (c: Buffer) => {
      text += c.toString("utf8");
      if (text.includes(": ready on ")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`worker ${id} exited (${code}): ${text}`)));
  });
  ready.catch(() => {});
  return { child, ready };
}

async function stopAll(workers: readonly WorkerProcess[]): Promise<void> {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
          w.child.once("exit", () => resolve());
          w.child.kill("SIGTERM");
        }),
    ),
  );
}

async function createDatabase(url: string, name: string): Promise<string> {
  const client = new pg.Client(url);
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  return url.replace(/\/postgres$/, `/${name}`);
}

/** Submits the runs and waits for all of them to end; wall ms from the first submit. */
async function onWorkers(
  executor: DbosExecutor,
  loaded: LoadedWorkflow,
  count: number,
  inputs: (n: number) => Record<string, unknown>,
): Promise<{ ms: number; ids: string[] }> {
  const started = performance.now();
  const ids = Array.from({ length: count }, () => newRunId());
  for (let i = 0; i < count; i += 20) {
    await Promise.all(
      ids.slice(i, i + 20).map((runId, j) =>
        executor.start({
          runId,
          workflowPath: loaded.path,
          source: loaded.source,
          inputs: inputs(i + j),
          env: {},
        }),
      ),
    );
  }
  await waitEnded(executor.store, ids);
  return { ms: performance.now() - started, ids };
}

async function waitEnded(store: RunStore, ids: readonly string[]): Promise<void> {
  const pending = new Set(ids);
  while (pending.size > 0) {
    for (const run of await store.listRuns({ limit: 1000 })) {
      if (pending.has(run.id) && run.status !== "running") {
        if (run.status !== "succeeded")
          throw new Error(`run ${run.id} ${run.status}: ${run.error}`);
        pending.delete(run.id);
      }
    }
    if (pending.size > 0) await sleep(25);
  }
}

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, [join(ROOT, "esbuild.mjs")], { stdio: "inherit" });
  if (build.status !== 0) throw new Error("build failed");
  const dir = mkdtempSync(join(tmpdir(), "keel-bench-workers-"));
  mkdirSync(join(dir, ".git"));
  writeFileSync(join(dir, "small.keel.yaml"), SMALL);
  writeFileSync(join(dir, "slow.keel.yaml"), SLOW);
  writeFileSync(join(dir, "wait.js"), WAIT);
  const small = load(join(dir, "small.keel.yaml"));
  const slow = load(join(dir, "slow.keel.yaml"));
  const server = await startPostgres();
  const rows: [string, number][] = [];
  try {
    const sqlite = openSqliteStore(join(dir, ".keel", "runs.sqlite"));
    rows.push(["local executor, SQLite store (8 runs at once)", await local(sqlite, small, 8)]);
    await sqlite.close();
    const pgStore = await openPgStore(await createDatabase(server.url, "bench_local"));
    rows.push([
      "local executor, PostgreSQL store (8 runs at once)",
      await local(pgStore, small, 8),
    ]);
    await pgStore.close();

    for (const count of [1, 2, 3]) {
      const url = await createDatabase(server.url, `bench_w${count}`);
      const pool = Array.from({ length: count }, (_, i) => startWorker(url, `b${count}-${i}`, dir));
      try {
        await Promise.all(pool.map((w) => w.ready));
        const executor = await openDbosExecutor(url, { keelVersion: version, pollMs: 50 });
        try {
          const { ms } = await onWorkers(executor, small, RUNS, (n) => ({ n }));
          rows.push([`${count} worker${count > 1 ? "s" : ""} (8 runs at once each)`, ms]);
        } finally {
          await executor.close();
        }
      } finally {
        await stopAll(pool);
      }
    }

    console.log(
      `\n${RUNS} runs of ${STEPS} steps (scripted llm, 2 transforms, assert), each with its own input:\n`,
    );
    console.log("| executor | wall | runs/s | wall per step |");
    console.log("| --- | --- | --- | --- |");
    for (const [name, ms] of rows) {
      console.log(
        `| ${name} | ${fmt(ms / 1000, 2)} s | ${fmt((RUNS * 1000) / ms)} | ${fmt((ms * 1000) / (RUNS * STEPS), 0)} µs |`,
      );
    }

    // Failover: the time from a worker's death to its runs' completion.
    const url = await createDatabase(server.url, "bench_failover");
    const pool = [startWorker(url, "f0", dir), startWorker(url, "f1", dir)];
    try {
      await Promise.all(pool.map((w) => w.ready));
      const executor = await openDbosExecutor(url, { keelVersion: version, pollMs: 50 });
      try {
        const ids = Array.from({ length: 24 }, () => newRunId());
        await Promise.all(
          ids.map((runId, n) =>
            executor.start({
              runId,
              workflowPath: slow.path,
              source: slow.source,
              inputs: { n },
              env: {},
            }),
          ),
        );
        const victim = pool[0]!.child;
        let theirs: string[] = [];
        // Kill it once it has several runs in progress (up to 8 at once each).
        while (theirs.length < 4) {
          theirs = (await executor.store.listRuns({ limit: 100 }))
            .filter((r) => r.status === "running" && r.ownerPid === victim.pid)
            .map((r) => r.id);
          if (theirs.length < 4) await sleep(10);
        }
        victim.kill("SIGKILL");
        const killed = performance.now();
        let firstResumed = 0;
        const pending = new Set(theirs);
        while (pending.size > 0) {
          for (const id of [...pending]) {
            const run = await executor.store.getRun(id);
            if (
              !firstResumed &&
              (await executor.store.events(id)).some((e) => e.type === "run_resumed")
            ) {
              firstResumed = performance.now() - killed;
            }
            if (run && run.status !== "running") pending.delete(id);
          }
          if (pending.size > 0) await sleep(20);
        }
        const done = performance.now() - killed;
        await waitEnded(executor.store, ids);
        console.log(
          `\nfailover: 2 workers, 24 runs with a 1 s tool step; the killed worker had ${theirs.length} runs in progress:` +
            ` first of them resumed elsewhere ${fmt(firstResumed, 0)} ms after the kill, the last ended ${fmt(done, 0)} ms after it`,
        );
      } finally {
        await executor.close();
      }
    } finally {
      await stopAll(pool);
    }
  } finally {
    server.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
