// JavaScript tools' workers (core/runner/tool-workers.ts): a worker serves the calls of one run in
// turn, so a thread starts once, not per call; a call that ended badly (aborted, crashed) never
// leaves its worker to the next call; what a call prints is its own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ToolWorkers } from "@keel/core/runner/tool-workers";
import type { AttemptScope } from "@keel/core/runner/effects";

const dir = mkdtempSync(join(tmpdir(), "keel-tool-workers-"));
const module = join(dir, "tools.mjs");
writeFileSync(
  module,
  `import { threadId } from "node:worker_threads";
let calls = 0;
export function count(args) { calls++; console.log("call " + calls + " " + args.tag); return { calls, thread: threadId }; }
export function hang() { return new Promise(() => {}); }
export function crash() { process.exit(3); }
export function fail() { throw new Error("no"); }
`,
);

const call = (exportName: string, args: unknown = {}) => ({ module, exportName, args, dir });
const never = new AbortController().signal;

function logged(): AttemptScope & { text: () => string } {
  let text = "";
  return { runId: "r", stepId: "s", attempt: 1, output: (t) => (text += t), text: () => text };
}

test("calls in turn share one worker; each call's output is its own", async (t) => {
  const tools = new ToolWorkers();
  t.after(() => tools.close());
  const a = logged();
  const b = logged();
  const first = (await tools.call(call("count", { tag: "a" }), never, a)) as {
    calls: number;
    thread: number;
  };
  const second = (await tools.call(call("count", { tag: "b" }), never, b)) as {
    calls: number;
    thread: number;
  };
  assert.equal(second.thread, first.thread);
  assert.deepEqual([first.calls, second.calls], [1, 2]);
  assert.equal(a.text(), "call 1 a\n");
  assert.equal(b.text(), "call 2 b\n");
  // A tool's error leaves its worker usable.
  await assert.rejects(tools.call(call("fail"), never), /no/);
  const third = (await tools.call(call("count", { tag: "c" }), never)) as { thread: number };
  assert.equal(third.thread, first.thread);
});

test("calls at once run in workers of their own", async (t) => {
  const tools = new ToolWorkers();
  t.after(() => tools.close());
  const results = (await Promise.all(
    [1, 2, 3].map((i) => tools.call(call("count", { tag: String(i) }), never)),
  )) as { thread: number }[];
  assert.equal(new Set(results.map((r) => r.thread)).size, 3);
});

test("an aborted call's worker is ended: the next call starts afresh", async (t) => {
  const tools = new ToolWorkers();
  t.after(() => tools.close());
  const before = (await tools.call(call("count", { tag: "x" }), never)) as { thread: number };
  const abort = new AbortController();
  const hung = tools.call(call("hang"), abort.signal);
  setTimeout(() => abort.abort(new Error("timed out")), 50);
  await assert.rejects(hung, /timed out/);
  const after = (await tools.call(call("count", { tag: "y" }), never)) as {
    calls: number;
    thread: number;
  };
  assert.notEqual(after.thread, before.thread);
  assert.equal(after.calls, 1);
});

test("a worker that exits in a call fails that call only", async (t) => {
  const tools = new ToolWorkers();
  t.after(() => tools.close());
  await assert.rejects(tools.call(call("crash"), never), /the tool's worker exited with 3/);
  const next = (await tools.call(call("count", { tag: "z" }), never)) as { calls: number };
  assert.equal(next.calls, 1);
});

test("a call asked after its signal fired never runs", async (t) => {
  const tools = new ToolWorkers();
  t.after(() => tools.close());
  const abort = new AbortController();
  abort.abort(new Error("the run was cancelled"));
  await assert.rejects(tools.call(call("count", { tag: "late" }), abort.signal), /cancelled/);
  const next = (await tools.call(call("count", { tag: "first" }), never)) as { calls: number };
  assert.equal(next.calls, 1);
});
