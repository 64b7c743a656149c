// `keel resume` ends the commands a run whose process was killed left running, before it runs
// anything again: a killed `keel run` cannot enforce its steps' timeouts, so its commands would
// otherwise run on beside the copies the resume starts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { bin, keel, workspace } from "../helpers/cli";
import { processStart, endProcessGroups } from "@keel/core/node/processes";
import { openSqliteStore } from "@keel/core/store/sqlite-store";

// Each line of the marker is the pid of the shell that wrote it (the leader of its group); the
// loop starts a child of its own (sleep), which is in the group too.
const FLOW = `keel: 1
name: orphans
steps:
  tick:
    type: shell
    command: [sh, -c, "for i in $(seq 1 600); do echo $$ >> marker; sleep 0.1; done"]
    timeout: 1s
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Running (a killed orphan stays a zombie where nothing reaps it: that counts as gone). */
function alive(pid: number): boolean {
  return processStart(pid) !== undefined;
}

/** How many process groups the store holds for its newest run (0 before the first commit). */
async function recordedGroups(dir: string): Promise<number> {
  if (!existsSync(join(dir, ".keel", "runs.sqlite"))) return 0;
  const store = openSqliteStore(join(dir, ".keel", "runs.sqlite"));
  try {
    const [newest] = await store.listRuns();
    return newest ? (await store.processes(newest.id)).length : 0;
  } finally {
    await store.close();
  }
}

function linesBy(dir: string, pid: number): number {
  const file = join(dir, "marker");
  if (!existsSync(file)) return 0;
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l === String(pid)).length;
}

test("after kill -9 of keel run, keel resume kills the command it left running before running the step again", async (t) => {
  const dir = workspace({ "flow.keel.yaml": FLOW });
  const run = spawn(process.execPath, [bin, "run", "flow.keel.yaml"], {
    cwd: dir,
    stdio: "ignore",
  });
  const exited = new Promise((r) => run.once("exit", r));
  // Wait for the command to be writing and its group to be committed (one event-loop turn after
  // the spawn: a kill inside that turn is the known gap of docs/runner.md), then kill the CLI.
  for (let i = 0; i < 200 && !existsSync(join(dir, "marker")); i++) await sleep(25);
  assert.ok(existsSync(join(dir, "marker")), "the command started");
  for (let i = 0; i < 200 && !(await recordedGroups(dir)); i++) await sleep(25);
  run.kill("SIGKILL");
  await exited;
  const orphan = Number(readFileSync(join(dir, "marker"), "utf8").split("\n")[0]);
  t.after(() => {
    // Leave nothing behind if the test fails.
    try {
      process.kill(-orphan, "SIGKILL");
    } catch {
      // already gone
    }
  });
  // The command outlives its 1 s timeout: nothing enforces it any more.
  await sleep(1500);
  const before = linesBy(dir, orphan);
  await sleep(300);
  assert.ok(linesBy(dir, orphan) > before, "the orphan still writes past its timeout");
  assert.ok(alive(orphan));

  // The run records the group's leader with its start time.
  const store = openSqliteStore(join(dir, ".keel", "runs.sqlite"));
  const [recorded] = await store.listRuns();
  const processes = await store.processes(recorded!.id);
  await store.close();
  assert.deepEqual(
    processes.map((p) => [p.stepId, p.attempt, p.pid]),
    [["tick", 1, orphan]],
  );
  assert.equal(processes[0]!.start, processStart(orphan));

  const resumed = keel(["resume", "latest"], dir);
  assert.match(
    resumed.stderr,
    new RegExp(`ended process group ${orphan} of step 'tick' \\(attempt 1\\)`),
  );
  // The orphan is gone, and its lines stopped; the resumed copy ran (and timed out) on its own.
  assert.equal(alive(orphan), false);
  const after = linesBy(dir, orphan);
  await sleep(300);
  assert.equal(linesBy(dir, orphan), after);
  const pids = new Set(readFileSync(join(dir, "marker"), "utf8").trim().split("\n"));
  assert.equal(pids.size, 2, "the step ran again, in a new process");
  assert.equal(resumed.code, 1, resumed.stderr);
  assert.match(resumed.stdout + resumed.stderr, /timeout/);
});

test("a recorded group whose pid now belongs to an unrelated process is left alone", async () => {
  // An unrelated process group, alive, with the pid a record names but another start time.
  const other = spawn("sleep", ["30"], { detached: true, stdio: "ignore" });
  try {
    const pid = other.pid!;
    const start = processStart(pid)!;
    assert.ok(start);
    const stale = { runId: "r", stepId: "s", attempt: 1, pid, start: start.replace(/\d+$/, "1") };
    assert.deepEqual(await endProcessGroups([stale], 100), []);
    assert.equal(alive(pid), true);
    // The same record with the right start time is ended.
    const exited = new Promise((r) => other.once("exit", (_code, signal) => r(signal)));
    const ended = await endProcessGroups([{ ...stale, start }]);
    assert.deepEqual(
      ended.map((g) => g.record.pid),
      [pid],
    );
    assert.equal(await exited, "SIGKILL");
  } finally {
    other.kill("SIGKILL");
  }
});
