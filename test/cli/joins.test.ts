// keel run on exclusive branches: the join runs on the branch that ran, and an input that selects
// no branch ends in a success that says what it did not produce, never a bare "succeeded".
import { test } from "node:test";
import assert from "node:assert/strict";
import { keel, workspace } from "../helpers/cli";

const FLOW = `keel: 1
name: branches
inputs:
  kind: { type: string, default: short }
providers:
  p: { type: scripted, default: "a reply" }
steps:
  short: { type: llm, provider: p, prompt: "Say it briefly.", if: inputs.kind = "short" }
  long: { type: llm, provider: p, prompt: "Say it at length.", if: inputs.kind = "long" }
  summary:
    type: transform
    expr: 'steps.short.status = "succeeded" ? steps.short.output : steps.long.output'
outputs:
  summary: steps.summary.output
`;

test("keel run joins exclusive branches, and says so when no branch ran", () => {
  const dir = workspace({ "flow.keel.yaml": FLOW });
  const long = keel(["run", "flow.keel.yaml", "--input", "kind=long", "--json"], dir);
  assert.equal(long.code, 0, long.stderr);
  const result = JSON.parse(long.stdout) as {
    outputs: Record<string, unknown>;
    findings: unknown[];
    steps: { id: string; status: string }[];
  };
  assert.deepEqual(result.outputs, { summary: "a reply" });
  assert.deepEqual(result.findings, []);
  assert.deepEqual(
    result.steps.map((s) => [s.id, s.status]),
    [
      ["short", "skipped"],
      ["long", "succeeded"],
      ["summary", "succeeded"],
    ],
  );

  const none = keel(["run", "flow.keel.yaml", "--input", "kind=medium", "--json"], dir);
  assert.equal(none.code, 0, none.stderr);
  const empty = JSON.parse(none.stdout) as {
    status: string;
    outputs: Record<string, unknown>;
    findings: { kind: string; message: string }[];
  };
  assert.equal(empty.status, "succeeded");
  assert.deepEqual(empty.outputs, { summary: null });
  assert.deepEqual(empty.findings, [
    {
      kind: "skipped_output",
      message:
        "output 'summary' is null because step 'summary' was skipped: a condition (`if:`) was false, or no step it depends on ran; check the conditions and the inputs",
    },
  ]);
  const text = keel(["run", "flow.keel.yaml", "--input", "kind=medium"], dir);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /succeeded with 1 finding in /);
  assert.doesNotMatch(text.stdout, /succeeded in /);
  assert.match(text.stdout, /skipped_output: output 'summary' is null/);
});
