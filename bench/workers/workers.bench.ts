// `npm run bench:workers` (issue #10): a team's workers on PostgreSQL against the local executor,
// on a throw-away PostgreSQL (test/helpers/postgres.ts), with the built CLI (`npm run build`).
// - 200 small runs (a scripted llm step, two transforms, an assert: 4 steps), each with its own
//   input so none is a cache hit: the local executor (core/executor/local.ts) in one process into
//   SQLite, the same into the PostgreSQL store, then 1, 2 and 3 `keel worker` processes (8 runs at
//   once each) on a fresh database, the runs submitted with the DBOS executor. The same Executor
//   calls drive both. Printed: wall time from the first submit to the last run's end, runs per
//   second, and wall time per step.
// - Failover: 2 workers, 24 runs whose tool step takes 1 s; one worker is killed with SIGKILL once
//   it has at least 4 step attempts in progress; printed: the time from its death to the first and
//   the last of those attempts ended on the other worker, and to the end of their runs.
// Figures on a shared machine vary with its load: run it twice and read the spread.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { openDbosExecutor, type DbosExecutor } from "@keel/workers";
import { loadWorkflow, type LoadedWorkflow } from "@keel/core/runner/load";
import { LocalExecutor } from "@keel/core/executor/local";
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

/** Runs the 200 runs with the local executor, `concurrency` at a time; wall ms. */
async function local(
  store: RunStore,
  loaded: LoadedWorkflow,
  concurrency: number,
): Promise<number> {
  const executor = new LocalExecutor({ store });
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < RUNS) {
      const n = next++;
      const handle = await executor.start({
        runId: newRunId(),
        workflowPath: loaded.path,
        source: loaded.source,
        inputs: { n },
        env: {},
      });
      const run = await handle.ended();
      if (run.status !== "succeeded") throw new Error(`local run ${n} ${run.status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const ms = performance.now() - started;
  await executor.close();
  return ms;
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
  url: string,
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
  await waitEnded(url, executor.store, ids);
  return { ms: performance.now() - started, ids };
}

async function waitEnded(url: string, store: RunStore, ids: readonly string[]): Promise<void> {
  // One cheap query per look (how many have not ended), so that the bench's own polling weighs
  // little on the PostgreSQL server the workers use; then each run's end is checked once.
  const db = new pg.Client(url);
  await db.connect();
  try {
    for (;;) {
      const left = await db.query(
        "SELECT count(*)::int AS n FROM keel.runs WHERE id = ANY($1) AND status = 'running'",
        [ids],
      );
      const known = await db.query("SELECT count(*)::int AS n FROM keel.runs WHERE id = ANY($1)", [
        ids,
      ]);
      if (left.rows[0].n === 0 && known.rows[0].n === ids.length) break;
      await sleep(25);
    }
  } finally {
    await db.end();
  }
  for (const id of ids) {
    const run = (await store.getRun(id))!;
    if (run.status !== "succeeded") throw new Error(`run ${run.id} ${run.status}: ${run.error}`);
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
          const { ms } = await onWorkers(url, executor, small, RUNS, (n) => ({ n }));
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
        // Kill f0 once it executes several step attempts (DBOS knows which worker has which).
        const db = new pg.Client(url);
        await db.connect();
        const attempts = async (where: string, values: unknown[]) =>
          (
            await db.query(
              `SELECT workflow_uuid AS id, status FROM dbos.workflow_status
               WHERE name = 'keel_attempt' AND ${where}`,
              values,
            )
          ).rows as { id: string; status: string }[];
        let theirs: string[] = [];
        while (theirs.length < 4) {
          theirs = (await attempts("executor_id = 'f0' AND status = 'PENDING'", [])).map(
            (r) => r.id,
          );
          if (theirs.length < 4) await sleep(10);
        }
        pool[0]!.child.kill("SIGKILL");
        const killed = performance.now();
        let first = 0;
        for (;;) {
          const done = (await attempts("workflow_uuid = ANY($1)", [theirs])).filter(
            (r) => r.status === "SUCCESS",
          ).length;
          if (done > 0 && !first) first = performance.now() - killed;
          if (done === theirs.length) break;
          await sleep(10);
        }
        const last = performance.now() - killed;
        await waitEnded(url, executor.store, [...new Set(theirs.map((id) => id.split(":")[0]!))]);
        const runsEnded = performance.now() - killed;
        await db.end();
        await waitEnded(url, executor.store, ids);
        console.log(
          `\nfailover: 2 workers, 24 runs with a 1 s tool step; the killed worker was executing ${theirs.length} attempts:` +
            ` the first of them ended on the other worker ${fmt(first, 0)} ms after the kill, the last ${fmt(last, 0)} ms,` +
            ` and their runs ${fmt(runsEnded, 0)} ms after it`,
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
