// Crash safety: `keel run` is killed with SIGKILL at random points, again and again. Each time the
// store must be intact, every step a later step started after must be recorded as done (commit
// before effect), and `keel resume` must finish the run without running a recorded step again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDefaultDriver } from "@keel/core/store/sql-driver";
import { openSqliteStore } from "@keel/core/store/sqlite-store";

const bin = join(process.cwd(), "bin/keel.js");
const ROUNDS = Number(process.env.KEEL_CRASH_ROUNDS ?? 50);

// Each shell step logs its start and end to calls.log: the test's own record of what really ran.
const step = (id: string, needs: string[]) =>
  `  ${id}:
    type: shell
    command: [node, -e, "const fs=require('fs');fs.appendFileSync('calls.log','start ${id}\\\\n');setTimeout(()=>{fs.appendFileSync('calls.log','end ${id}\\\\n');console.log(JSON.stringify({id:'${id}'}))}, 20 + Math.floor(Math.random()*40))"]
    output: { format: json }
${needs.length ? `    needs: [${needs.join(", ")}]\n` : ""}`;

const DEPS: Record<string, string[]> = {
  a: [],
  b: ["a"],
  c: ["a"],
  d: ["b", "c"],
  e: ["d"],
  f: ["d"],
  g: ["e", "f"],
  h: ["g"],
};

const FLOW =
  "keel: 1\nname: crash\nsteps:\n" +
  Object.entries(DEPS)
    .map(([id, needs]) => step(id, needs))
    .join("") +
  "  sum: { type: transform, expr: '$count([steps.h.output])', needs: [h] }\n";

function starts(dir: string): string[] {
  const file = join(dir, "calls.log");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("start "))
    .map((l) => l.slice(6));
}

async function runAndKill(dir: string, afterMs: number): Promise<void> {
  const child = spawn(process.execPath, [bin, "run", "flow.keel.yaml", "--store", "runs.sqlite"], {
    cwd: dir,
    stdio: "ignore",
  });
  // Listen before the kill: a run that ends first has already emitted 'exit'.
  const exited = new Promise((r) => child.once("exit", r));
  await Promise.race([exited, new Promise((r) => setTimeout(r, afterMs))]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await exited;
}

test(`a run killed with SIGKILL at ${ROUNDS} random points loses nothing it finished, and resumes`, async (t) => {
  let resumed = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const dir = mkdtempSync(join(tmpdir(), "keel-crash-"));
    mkdirSync(join(dir, ".git"));
    writeFileSync(join(dir, "flow.keel.yaml"), FLOW);
    await runAndKill(dir, 150 + Math.floor(Math.random() * 900));
    if (!existsSync(join(dir, "runs.sqlite"))) continue;

    // Killed while the new file was switched to WAL (its first transaction is a rollback
    // journal's), the file has a hot journal: SQLite rolls it back on the first read-write open,
    // which every keel command does, and refuses a read-only one (SQLITE_READONLY_ROLLBACK).
    const hot = existsSync(join(dir, "runs.sqlite-journal"));
    const raw = openDefaultDriver(join(dir, "runs.sqlite"), { readOnly: !hot });
    assert.equal(Object.values(raw.prepare("PRAGMA integrity_check").get()!)[0], "ok");
    raw.close();

    const store = openSqliteStore(join(dir, "runs.sqlite"));
    const [run] = await store.listRuns();
    if (!run) {
      await store.close();
      continue;
    }
    const events = await store.events(run.id);
    const done = new Set(events.filter((e) => e.type === "step_succeeded").map((e) => e.stepId!));
    await store.close();
    const startedBefore = starts(dir);
    // Commit before effect: a step that started had every dependency recorded as done.
    for (const id of startedBefore) {
      for (const dep of DEPS[id] ?? [])
        assert.ok(done.has(dep), `round ${round}: ${id} started before ${dep} was recorded`);
    }
    if (run.status !== "running") continue; // the run finished before the kill

    const r = spawnSync(
      process.execPath,
      [bin, "resume", run.id, "--store", "runs.sqlite", "--json"],
      { cwd: dir, encoding: "utf8" },
    );
    assert.equal(r.status, 0, `round ${round}: ${r.stderr}`);
    assert.equal(JSON.parse(r.stdout).status, "succeeded");
    resumed++;
    const startedAfter = starts(dir).slice(startedBefore.length);
    for (const id of startedAfter)
      assert.ok(!done.has(id), `round ${round}: ${id} was recorded as done and ran again`);
    const check = openSqliteStore(join(dir, "runs.sqlite"));
    const final = await check.events(run.id);
    assert.deepEqual(
      final.map((e) => e.seq),
      final.map((_, i) => i + 1),
      `round ${round}: gapless log`,
    );
    assert.equal(final.filter((e) => e.type === "step_succeeded").length, 9);
    assert.equal((await check.getRun(run.id))?.status, "succeeded");
    await check.close();
  }
  t.diagnostic(`${resumed} of ${ROUNDS} kills hit a run in progress and were resumed`);
  assert.ok(resumed >= ROUNDS / 5, `only ${resumed} of ${ROUNDS} kills hit a run in progress`);
});
