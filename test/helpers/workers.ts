// `keel worker` processes for the tests of a team's workers: started from the built CLI in a
// workspace, ready once they say so, killed at the end of the file whatever happened; a team of
// them on a throw-away PostgreSQL, and the steps of the tests that kill one mid-run (submit,
// kill, wait for another to take the run over, check the log).
import { spawn, type ChildProcess } from "node:child_process";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import type { EventRecord } from "@keel/core/record/records";
import type { RunStore } from "@keel/core/store/run-store";
import { bin, workspace } from "./cli";
import { keelAsync } from "./otlp";
import { startPostgres, type ThrowawayPostgres } from "./postgres";

const workers: ChildProcess[] = [];

export interface StartedWorker {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  log(): string;
}

export function startWorkerProcess(
  url: string,
  id: string,
  dir: string,
  effects: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): StartedWorker {
  const child = spawn(
    process.execPath,
    [bin, "worker", "--store", url, "--id", id, "--concurrency", "3", "--grace", "5s", ...extra],
    { cwd: dir, env: { ...process.env, KEEL_TEST_EFFECTS: effects, ...env } },
  );
  workers.push(child);
  let text = "";
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (c: Buffer) => {
      text += c.toString("utf8");
      if (text.includes(": ready on ")) resolve();
    });
    child.stdout!.on("data", () => {});
    child.on("exit", (code) => reject(new Error(`worker ${id} exited (${code}): ${text}`)));
  });
  return { child, ready, log: () => text };
}

/** Kills (SIGKILL) every worker this file started that is still running. */
export function killWorkers(): void {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill("SIGKILL");
}

export interface Team {
  readonly server: ThrowawayPostgres;
  readonly url: string;
  /** The workspace every worker runs in, with an empty `effects.log` the tools write to. */
  readonly dir: string;
  readonly pool: StartedWorker[];
}

/** A throw-away PostgreSQL, a workspace holding `files`, and one ready worker per id in it. */
export async function startTeam(files: Record<string, string>, ids: string[]): Promise<Team> {
  const server = await startPostgres();
  const url = server.url;
  const dir = workspace(files);
  writeFileSync(join(dir, "effects.log"), "");
  const pool = ids.map((id) => startWorkerProcess(url, id, dir, join(dir, "effects.log")));
  try {
    await Promise.all(pool.map((w) => w.ready));
  } catch (e) {
    // The caller never gets the server to stop: stop it here (killWorkers ends the workers).
    server.stop();
    throw e;
  }
  return { server, url, dir, pool };
}

/** Submits `file` of `dir` to the team at `url` without waiting (`--detach`); returns its run id. */
export async function submitDetached(url: string, dir: string, file: string): Promise<string> {
  const submitted = await keelAsync(["run", file, "--on", url, "--detach", "--json"], dir);
  assert.equal(submitted.code, 0, submitted.stderr);
  return (JSON.parse(submitted.stdout) as { runId: string }).runId;
}

/** Kills a worker with SIGKILL and waits until it has exited. */
export async function killWorker(worker: StartedWorker): Promise<void> {
  worker.child.kill("SIGKILL");
  await new Promise((r) => worker.child.once("exit", r));
}

/**
 * Waits (until `deadline`, a Date.now() value) for a run to end and asserts that it succeeded,
 * with `worker`'s log in the message otherwise; then asserts that DBOS records the run's
 * workflow as ended by that worker (the one that took it over from its checkpoints).
 */
export async function awaitTakenOver(
  store: RunStore,
  url: string,
  runId: string,
  [id, worker]: [string, StartedWorker],
  deadline: number,
): Promise<void> {
  for (;;) {
    const run = (await store.getRun(runId))!;
    if (run.status !== "running") {
      assert.equal(run.status, "succeeded", `${run.error}\n${worker.log()}`);
      break;
    }
    assert.ok(Date.now() < deadline, `the run never ended:\n${worker.log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const owner = await db.query(
    "SELECT executor_id, status FROM dbos.workflow_status WHERE workflow_uuid = $1",
    [runId],
  );
  await db.end();
  assert.deepEqual(owner.rows[0], { executor_id: id, status: "SUCCESS" });
}

/** Asserts that a run's log numbers its events 1, 2, 3… with no gap or repeat. */
export function assertGapless(events: readonly EventRecord[]): void {
  assert.deepEqual(
    events.map((e) => e.seq),
    events.map((_, i) => i + 1),
    "the log has a gap or a repeat",
  );
}
