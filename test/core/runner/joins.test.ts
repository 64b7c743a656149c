// Joins after exclusive branches: a step that reads several conditional steps runs on the one
// that ran; a failure upstream still blocks it; outputs left null by skipped steps are a finding.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runText } from "./harness";

const statuses = (run: Awaited<ReturnType<typeof runText>>) =>
  Object.fromEntries(run.result.steps.map((s) => [s.id, s.status]));

// `short` and `long` are exclusive branches on an input; `join` reads whichever ran. `fast` is a
// join the quick path runs (fast expression subset); `general` uses a JSONata function, so the
// general path decides it.
const BRANCHES = `keel: 1
name: branches
inputs:
  kind: { type: string, default: short }
steps:
  short: { type: transform, expr: '"S"', if: inputs.kind = "short" }
  long: { type: transform, expr: '"L"', if: inputs.kind = "long" }
  fast: { type: transform, expr: 'steps.short.status = "succeeded" ? steps.short.output : steps.long.output' }
  general: { type: transform, expr: '$string(steps.short.output ? steps.short.output : steps.long.output)' }
  after: { type: transform, expr: 'steps.general.output & "!"' }
outputs:
  fast: steps.fast.output
  result: steps.after.output
`;

test("a join after exclusive branches runs on the branch that ran, on both scheduler paths", async () => {
  for (const [kind, letter, skipped] of [
    ["short", "S", "long"],
    ["long", "L", "short"],
  ] as const) {
    const run = await runText(BRANCHES, { inputs: { kind } });
    assert.equal(run.result.status, "succeeded", run.result.error ?? "");
    assert.equal(statuses(run)[skipped], "skipped");
    assert.deepEqual(run.result.outputs, { fast: letter, result: `${letter}!` });
    assert.deepEqual(run.result.findings, []);
  }
});

test("an input that selects no branch skips the join, and the null outputs are a finding, not a bare success", async () => {
  const run = await runText(BRANCHES, { inputs: { kind: "neither" } });
  assert.equal(run.result.status, "succeeded");
  assert.deepEqual(statuses(run), {
    short: "skipped",
    long: "skipped",
    fast: "skipped",
    general: "skipped",
    after: "skipped",
  });
  assert.deepEqual(run.result.outputs, { fast: null, result: null });
  assert.deepEqual(
    run.result.findings.map((f) => f.kind),
    ["skipped_output", "skipped_output"],
  );
  assert.match(
    run.result.findings[1]!.message,
    /output 'result' is null because step 'after' was skipped/,
  );
  // The finding is recorded with the run.
  const stored = await run.store.findings(run.result.runId);
  assert.deepEqual(
    stored.map((f) => [f.kind, f.data.output]),
    [
      ["skipped_output", "fast"],
      ["skipped_output", "result"],
    ],
  );
});

test("a single conditional dependency that was skipped still skips its dependent", async () => {
  const run = await runText(
    "keel: 1\nname: t\ninputs:\n  go: { type: boolean, default: false }\nsteps:\n" +
      `  maybe: { type: transform, expr: '"ran"', if: inputs.go }
  next: { type: transform, expr: '$string(steps.maybe.output)' }
  quick: { type: transform, expr: steps.maybe.output }
`,
  );
  assert.deepEqual(statuses(run), { maybe: "skipped", next: "skipped", quick: "skipped" });
});

test("a failed dependency still blocks a join, also through a step skipped after it", async () => {
  const run = await runText(
    `keel: 1
name: t
inputs:
  kind: { type: string, default: short }
steps:
  short: { type: assert, that: "1 = 2", if: inputs.kind = "short" }
  shaped: { type: transform, expr: '"shaped"', needs: short }
  long: { type: transform, expr: '"L"', if: inputs.kind = "long" }
  other: { type: transform, expr: '"O"' }
  join: { type: transform, expr: 'steps.shaped.output ? steps.shaped.output : steps.other.output', needs: [long] }
  direct: { type: transform, expr: '$string(steps.short.output) & steps.other.output' }
`,
  );
  assert.equal(run.result.status, "failed");
  assert.deepEqual(statuses(run), {
    short: "failed",
    shaped: "skipped",
    long: "skipped",
    other: "succeeded",
    join: "skipped",
    direct: "skipped",
  });
});

test("a dependency failed with on_error: continue counts as ran for a join", async () => {
  const run = await runText(
    `keel: 1
name: t
steps:
  a: { type: assert, that: "1 = 2", on_error: continue }
  b: { type: transform, expr: '"B"', if: "false" }
  join: { type: transform, expr: '$string(steps.b.output) & "/" & steps.a.status' }
`,
  );
  assert.equal(run.result.status, "succeeded");
  assert.equal(statuses(run).join, "succeeded");
});
