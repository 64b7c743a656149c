// An agent killed with SIGKILL between and during its turns: `keel resume` finishes it without
// asking the model again for a turn that had ended, nor running a tool call again that had ended.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "@keel/core/store/sqlite-store";

const bin = join(process.cwd(), "bin/keel.js");
const TURNS = 6;

const responses = Array.from(
  { length: TURNS - 1 },
  (_, i) => `      - turn: ${i + 1}
        delay: 250ms
        tool_calls: [{ name: note, arguments: { n: ${i + 1} } }, { name: note, arguments: { n: ${i + 1}.5 } }]`,
).join("\n");

const FLOW = `keel: 1
name: agent-kill
providers:
  model:
    type: scripted
    responses:
${responses}
      - turn: ${TURNS}
        delay: 250ms
        reply: done
steps:
  research:
    type: agent
    prompt: go
    max_turns: ${TURNS}
    tools:
      note:
        uses: ./note.mjs#note
        parameters: { type: object, properties: { n: { type: number } } }
outputs:
  turns: $count(steps.research.turns)
`;

// Each call appends to calls.log: the test's own record of what really ran.
const NOTE = `import { appendFileSync } from "node:fs";
export async function note(args, ctx) {
  appendFileSync(ctx.workflowDir + "/calls.log", args.n + "\\n");
  await new Promise((r) => setTimeout(r, 40));
  return { noted: args.n };
}
`;

async function runAndKill(dir: string, afterMs: number): Promise<void> {
  const child = spawn(process.execPath, [bin, "run", "flow.keel.yaml", "--store", "runs.sqlite"], {
    cwd: dir,
    stdio: "ignore",
  });
  const exited = new Promise((r) => child.once("exit", r));
  await Promise.race([exited, new Promise((r) => setTimeout(r, afterMs))]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await exited;
}

test("an agent killed at random points resumes without repeating a finished turn or tool call", async () => {
  let resumed = 0;
  for (let round = 0; round < 6; round++) {
    const dir = mkdtempSync(join(tmpdir(), "keel-agent-kill-"));
    mkdirSync(join(dir, ".git"));
    writeFileSync(join(dir, "flow.keel.yaml"), FLOW);
    writeFileSync(join(dir, "note.mjs"), NOTE);
    await runAndKill(dir, 700 + round * 250);
    if (!existsSync(join(dir, "runs.sqlite"))) continue;
    let store = openSqliteStore(join(dir, "runs.sqlite"));
    const [run] = await store.listRuns();
    if (!run || run.status !== "running") {
      await store.close();
      continue;
    }
    const before = await store.events(run.id);
    const ended = new Set(
      before.filter((e) => e.type === "step_succeeded" && e.scope).map((e) => e.scope!),
    );
    await store.close();
    const r = spawnSync(process.execPath, [bin, "resume", run.id, "--store", "runs.sqlite"], {
      cwd: dir,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    resumed++;
    store = openSqliteStore(join(dir, "runs.sqlite"));
    const after = await store.events(run.id);
    const attempts = await store.attempts(run.id);
    await store.close();
    // Nothing that had ended started again.
    const restarted = after
      .slice(before.length)
      .filter((e) => e.type === "step_started" && e.scope && ended.has(e.scope));
    assert.deepEqual(restarted, [], `round ${round}`);
    // Each call ran once, unless it was in flight at the kill (then at least once: at-least-once).
    const calls = readFileSync(join(dir, "calls.log"), "utf8").trim().split("\n");
    const expected = Array.from({ length: TURNS - 1 }, (_, i) => [`${i + 1}`, `${i + 1}.5`]).flat();
    for (const n of expected) assert.ok(calls.includes(n), `call ${n} never ran`);
    const twice = expected.filter((n) => calls.filter((c) => c === n).length > 1);
    assert.ok(twice.length <= 1, `more than the call in flight ran twice: ${twice.join(", ")}`);
    const succeeded = attempts.filter((a) => a.stepId === "research" && a.status === "succeeded");
    const scopes = succeeded.map((a) => a.scope);
    assert.equal(new Set(scopes).size, scopes.length, "a scope succeeded twice");
    assert.equal(scopes.filter((s) => /^#\d+$/.test(s!)).length, TURNS);
    assert.equal(after.at(-1)!.type, "run_finished");
  }
  assert.ok(resumed >= 2, `only ${resumed} rounds were killed mid-run`);
});
