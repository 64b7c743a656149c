// The tool contract (docs/format.md, "Tools"): what a tool prints is recorded with its attempt
// (redacted), its context names the workflow's folder, the run, the step and the attempt, and it
// can fail with a kind that `retry.on` and `on_error` see.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { EventRecord } from "@keel/core/record/records";
import { load, runText, stepOf, writeWorkflow } from "./harness";

const SECRET = "tok-0123456789abcdef";

const TOOL = `
const fs = require("node:fs");
const path = require("node:path");
exports.talk = async (args, ctx) => {
  console.log("starting", args.n);
  console.error("a warning with", args.token);
  ctx.log("via ctx.log");
  process.stdout.write("raw write\\n");
  return { workflowDir: ctx.workflowDir, runId: ctx.runId, step: ctx.step, attempt: ctx.attempt };
};
// Fails with the kind it is given until the counter file says it failed \`times\` times.
exports.flaky = async (args, ctx) => {
  const file = path.join(ctx.workflowDir, "count-" + ctx.step);
  const n = fs.existsSync(file) ? Number(fs.readFileSync(file, "utf8")) : 0;
  fs.writeFileSync(file, String(n + 1));
  console.log("attempt", ctx.attempt);
  if (n < args.times) {
    const e = new Error("slow down");
    if (args.kind) e.kind = args.kind;
    throw e;
  }
  return "done";
};
exports.waits = (args, ctx) =>
  new Promise(() => {
    ctx.signal.addEventListener("abort", () => {
      fs.writeFileSync(path.join(ctx.workflowDir, "aborted"), String(ctx.signal.reason.message));
    });
  });
exports.big = () => ({ n: 1n });
`;

test("what a tool prints is recorded with its attempt, in order and redacted, and its context names the run", async () => {
  const events: EventRecord[] = [];
  const run = await runText(
    `keel: 1
name: t
steps:
  speak:
    type: tool
    uses: ./t.js#talk
    with: { n: 3, token: "\${{ secrets.TOKEN }}" }
`,
    { files: { "t.js": TOOL }, secrets: { TOKEN: SECRET }, onEvent: (e) => events.push(e) },
  );
  assert.equal(run.result.status, "succeeded", JSON.stringify(run.result.steps));
  const [attempt] = await run.store.attempts(run.result.runId);
  const output = JSON.parse((await run.store.blob(attempt!.outputHash!))!) as unknown;
  assert.deepEqual(output, {
    workflowDir: run.loaded.dir,
    runId: run.result.runId,
    step: "speak",
    attempt: 1,
  });
  assert.equal(
    attempt?.meta?.log,
    "starting 3\na warning with «secret:TOKEN»\nvia ctx.log\nraw write\n",
  );
  const succeeded = events.find((e) => e.type === "step_succeeded");
  assert.equal(succeeded?.data?.log, attempt?.meta?.log, "keel run --events shows it too");
  assert.ok(!JSON.stringify(events).includes(SECRET));
});

test("a tool fails with the kind it gives: retry.on retries it, and each attempt keeps its output", async () => {
  const run = await runText(
    `keel: 1
name: t
steps:
  limited:
    type: tool
    uses: ./t.js#flaky
    with: { times: 1, kind: rate_limit }
    retry: { max_attempts: 2, initial: 10ms, on: [rate_limit] }
  plain:
    type: tool
    uses: ./t.js#flaky
    with: { times: 1 }
    retry: { max_attempts: 2, initial: 10ms, on: [tool_error] }
  unretried:
    type: tool
    uses: ./t.js#flaky
    with: { times: 1, kind: server_error }
    retry: { max_attempts: 2, initial: 10ms, on: [rate_limit] }
    on_error: continue
`,
    { files: { "t.js": TOOL } },
  );
  const attempts = await run.store.attempts(run.result.runId);
  const of = (id: string) => attempts.filter((a) => a.stepId === id);
  assert.deepEqual(
    of("limited").map((a) => [a.status, a.errorKind, a.meta?.log]),
    [
      ["failed", "rate_limit", "attempt 1\n"],
      ["succeeded", null, "attempt 2\n"],
    ],
  );
  assert.deepEqual(
    of("plain").map((a) => [a.status, a.errorKind]),
    [
      ["failed", "tool_error"],
      ["succeeded", null],
    ],
  );
  // A kind retry.on does not name ends the step; on_error continues with the tool's kind.
  assert.equal(of("unretried").length, 1);
  const step = stepOf(run, "unretried");
  assert.equal(step.status, "failed");
  assert.equal(step.error?.kind, "server_error");
  assert.equal(run.result.status, "succeeded");
});

test("a kind Keel does not know is a tool_error that says so", async () => {
  const run = await runText(
    `keel: 1
name: t
steps:
  odd: { type: tool, uses: ./t.js#flaky, with: { times: 1, kind: ratelimit } }
`,
    { files: { "t.js": TOOL } },
  );
  const step = stepOf(run, "odd");
  assert.equal(step.error?.kind, "tool_error");
  assert.match(step.error?.message ?? "", /slow down \(the error's kind 'ratelimit' is none of/);
});

test("a tool's signal fires at its timeout, and a value that is not JSON is a tool_error", async () => {
  const path = writeWorkflow(
    `keel: 1
name: t
steps:
  wait: { type: tool, uses: ./t.js#waits, timeout: 200ms, on_error: continue }
  big: { type: tool, uses: ./t.js#big, on_error: continue }
`,
    { "t.js": TOOL },
  );
  const run = await runText("", { path });
  assert.equal(stepOf(run, "wait").error?.kind, "timeout");
  const marker = join(dirname(path), "aborted");
  for (let i = 0; i < 500 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(readFileSync(marker, "utf8"), "no answer within 200ms");
  assert.equal(stepOf(run, "big").error?.kind, "tool_error");
  assert.match(stepOf(run, "big").error?.message ?? "", /return value is not JSON/);
});

test("retry.on accepts tool_error", () => {
  const path = writeWorkflow(
    `keel: 1
name: t
steps:
  a: { type: tool, uses: ./t.js#talk, retry: { on: [tool_error] } }
`,
    { "t.js": TOOL },
  );
  assert.doesNotThrow(() => load(path));
});
