// Expressions run under the step's time limit and the run's cancel, with bounded depth
// (docs/runner.md, "Limits on expressions"): a transform that never ends fails as a timeout,
// one that recurses without end fails with jsonata's D1011, a cancel stops it, and in each case
// the run is recorded as failed or cancelled. jsonata's error codes reach the step's message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runText, stepOf } from "./harness";

const HEAD = "keel: 1\nname: t\nsteps:\n";
const LOOP = "($f := function($x) { $f($x) }; $f(1))";

test("a transform that never ends fails as a timeout at its step's time limit", async () => {
  const started = Date.now();
  const run = await runText(
    HEAD +
      `  spin: { type: transform, expr: '${LOOP}', timeout: 1s }
  after: { type: transform, expr: steps.spin.output }
`,
  );
  const elapsed = Date.now() - started;
  assert.equal(stepOf(run, "spin").error?.kind, "timeout");
  assert.match(stepOf(run, "spin").error!.message, /the expression did not end within 1s/);
  assert.equal(stepOf(run, "after").status, "skipped");
  assert.equal(run.result.status, "failed");
  assert.equal((await run.store.getRun(run.result.runId))?.status, "failed");
  assert.ok(elapsed < 5_000, `stopped after ${elapsed} ms`);
});

test("$map over ten million items stops at the step's time limit", async () => {
  const started = Date.now();
  const run = await runText(
    HEAD +
      `  big: { type: transform, expr: '$count($map([1..10000000], function($v) { $v * 2 }))', timeout: 1s }\n`,
  );
  assert.equal(stepOf(run, "big").error?.kind, "timeout");
  assert.ok(Date.now() - started < 6_000, `stopped after ${Date.now() - started} ms`);
});

test(
  "a cancel stops a run's outputs that never end, and the run is recorded cancelled",
  { timeout: 10_000 },
  async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    const run = await runText(
      HEAD + `  one: { type: transform, expr: "1" }\noutputs:\n  spin: '${LOOP}'\n`,
      { signal: controller.signal },
    );
    assert.equal(run.result.status, "cancelled");
    assert.match(run.result.error ?? "", /cancelled while its outputs were evaluated/);
    assert.equal((await run.store.getRun(run.result.runId))?.status, "cancelled");
    assert.ok(Date.now() - started < 3_000, `stopped after ${Date.now() - started} ms`);
  },
);

test("recursion without end fails with D1011 before memory runs out", async () => {
  const run = await runText(
    HEAD + `  deep: { type: transform, expr: '($f := function($x) { 1 + $f($x) }; $f(1))' }\n`,
  );
  const error = stepOf(run, "deep").error!;
  assert.equal(error.kind, "expression");
  assert.match(error.message, /D1011: Stack overflow/);
  assert.equal(run.result.status, "failed");
});

test("a cancel stops a transform that never ends, even without a time limit", async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 300);
  const started = Date.now();
  const run = await runText(HEAD + `  spin: { type: transform, expr: '${LOOP}' }\n`, {
    signal: controller.signal,
  });
  assert.equal(run.result.status, "cancelled");
  assert.equal(stepOf(run, "spin").status, "cancelled");
  assert.equal((await run.store.getRun(run.result.runId))?.status, "cancelled");
  assert.ok(Date.now() - started < 3_000, `stopped after ${Date.now() - started} ms`);
});

test("the time limit and a cancel stop a step's templates and its `if` too", async () => {
  const timed = await runText(
    HEAD + `  echo: { type: shell, command: [echo, "\${{ ${LOOP} }}"], timeout: 500ms }\n`,
  );
  assert.equal(stepOf(timed, "echo").error?.kind, "timeout");
  assert.match(stepOf(timed, "echo").error!.message, /templates were not evaluated within 500ms/);

  const controller = new AbortController();
  setTimeout(() => controller.abort(), 300);
  const cancelled = await runText(
    HEAD + `  gate: { type: transform, expr: '1', if: '${LOOP} = 1' }\n`,
    { signal: controller.signal },
  );
  assert.equal(cancelled.result.status, "cancelled");
  assert.equal(stepOf(cancelled, "gate").status, "cancelled");
});

test("jsonata's error code is in the message of a failing step", async () => {
  const run = await runText(
    HEAD +
      `  cast: { type: transform, expr: '$number("a")' }
  check: { type: assert, that: '$sum(["a"]) > 1' }
`,
  );
  assert.match(stepOf(run, "cast").error!.message, /D3030: Unable to cast value to a number/);
  assert.match(stepOf(run, "check").error!.message, /T0412/);
});
