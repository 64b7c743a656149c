// A reader that stops early (`keel runs | head -1`, `keel validate … | head`) closes the pipe while
// keel is still writing: keel drops the rest quietly and exits with the command's own code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { newRunId } from "@keel/core/store/ids";
import { bin, keel, workspace } from "../helpers/cli";

interface Closed {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `keel args…` and closes the read end of its stdout (or stderr) as soon as the first bytes
 * arrive there, as `head -1` does.
 */
function closingEarly(args: string[], cwd: string, close: "stdout" | "stderr"): Promise<Closed> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: "", FORCE_COLOR: "" },
    });
    const kept = close === "stdout" ? child.stderr : child.stdout;
    const closed = close === "stdout" ? child.stdout : child.stderr;
    let first = "";
    let other = "";
    kept.on("data", (d: Buffer) => (other += d.toString()));
    closed.once("data", (d: Buffer) => {
      first = d.toString();
      closed.destroy();
    });
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({
        code,
        signal,
        stdout: close === "stdout" ? first : other,
        stderr: close === "stderr" ? first : other,
      }),
    );
  });
}

function quiet(r: Closed, stream: "stdout" | "stderr"): void {
  assert.equal(r.signal, null);
  const text = stream === "stdout" ? r.stderr : r.stdout;
  assert.doesNotMatch(text, /EPIPE|internal error|\n\s+at /, text);
}

const BROKEN = (n: number) =>
  "keel: 1\nname: broken\nsteps:\n" +
  Array.from(
    { length: n },
    (_, i) => `  s${i}: { type: transform, expr: 'steps.nope${i}.output' }\n`,
  ).join("");

test("keel validate | head: the rest of the report is dropped, exit 1 for the errors, no EPIPE", async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 40; i++) files[`f${i}.keel.yaml`] = BROKEN(50);
  const dir = workspace(files);
  const r = await closingEarly(["validate", "."], dir, "stdout");
  quiet(r, "stdout");
  assert.match(r.stdout, /f\d+\.keel\.yaml/);
  assert.equal(r.code, 1);
});

test("keel runs | head -1 over a long list, and keel show / export of a large run, exit 0", async () => {
  const dir = workspace({ "flow.keel.yaml": BROKEN(0) });
  const store = openSqliteStore(join(dir, ".keel", "runs.sqlite"));
  const name = "a-workflow-with-a-long-name-".repeat(8);
  const big = JSON.stringify({ text: "x".repeat(400_000) });
  let t = Date.parse("2026-01-01T00:00:00Z");
  const runs = Array.from({ length: 600 }, () => {
    t += 1000;
    return {
      id: newRunId(t),
      workflowPath: join(dir, "flow.keel.yaml"),
      workflowName: name,
      sourceHash: "0".repeat(64),
      inputsHash: "={}",
      status: "succeeded" as const,
      mode: "run" as const,
      parentId: null,
      startedAt: new Date(t).toISOString(),
      endedAt: new Date(t + 5).toISOString(),
      outputsHash: "1".repeat(64),
      error: null,
      ownerPid: null,
      heartbeatAt: null,
      parentScope: null,
    };
  });
  await store.commit({
    runs,
    blobs: [
      { hash: "0".repeat(64), text: "keel: 1\nname: big\nsteps: {}\n" },
      { hash: "1".repeat(64), text: big },
    ],
  });
  await store.close();

  const list = await closingEarly(["runs", "--limit", "1000"], dir, "stdout");
  quiet(list, "stdout");
  assert.equal(list.code, 0);
  assert.match(list.stdout, new RegExp(`^${runs.at(-1)!.id}  succeeded`));
  for (const args of [
    ["show", "latest"],
    ["show", "latest", "--json"],
    ["export", "latest"],
  ]) {
    const r = await closingEarly(args, dir, "stdout");
    quiet(r, "stdout");
    assert.equal(r.code, 0, args.join(" "));
  }
  // And the whole of it when nobody closes anything.
  const all = keel(["show", "latest", "--json"], dir);
  assert.equal(all.code, 0, all.stderr);
  assert.equal(
    (JSON.parse(all.stdout) as { outputs: { text: string } }).outputs.text.length,
    400_000,
  );
});

test("keel run with its stderr closed early: the diagnostics are dropped, exit 2, nothing thrown", async () => {
  const dir = workspace({ "flow.keel.yaml": BROKEN(3000) });
  const r = await closingEarly(["run", "flow.keel.yaml"], dir, "stderr");
  quiet(r, "stderr");
  assert.match(r.stderr, /flow\.keel\.yaml:\d+:\d+ error/);
  assert.equal(r.code, 2);
});
