// `keel replay` as a user runs it: the built CLI against a workspace's store.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { keel, workspace } from "../helpers/cli";

const FLOW = `keel: 1
name: cli replay
providers:
  p: { type: scripted, default: "a fine summary" }
steps:
  note:
    type: shell
    command: [sh, -c, 'echo ran >> log.txt; echo "{\\"n\\": 1}"']
    output: { format: json }
  summarize:
    type: llm
    provider: p
    prompt: "Summarise \${{ steps.note.output.stdout.n }} thing."
outputs:
  summary: steps.summarize.output
`;

test("keel replay reproduces the last run with nothing executed, and --current pins an edit to its step and line", () => {
  const dir = workspace({ "flow.keel.yaml": FLOW });
  assert.equal(keel(["run", "flow.keel.yaml"], dir).code, 0);
  const log = readFileSync(join(dir, "log.txt"), "utf8");
  assert.equal(log, "ran\n");

  const same = keel(["replay", "latest", "--json"], dir);
  assert.equal(same.code, 0, same.stderr);
  const report = JSON.parse(same.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(report), [
    "runId",
    "replayOf",
    "status",
    "divergence",
    "effectsExecuted",
    "outputs",
  ]);
  assert.equal(report.divergence, null);
  assert.equal(report.effectsExecuted, 0);
  assert.equal(report.status, "succeeded");
  assert.notEqual(report.runId, report.replayOf);
  assert.equal(readFileSync(join(dir, "log.txt"), "utf8"), log, "the shell step did not run");

  writeFileSync(join(dir, "flow.keel.yaml"), FLOW.replace("thing.", "things."));
  // Without --current the recorded source is replayed: still no divergence.
  assert.equal(keel(["replay", "latest"], dir).code, 0);
  const text = keel(["replay", "latest", "--current"], dir);
  assert.equal(text.code, 1, text.stderr);
  assert.match(text.stdout, /divergence/);
  assert.match(
    text.stdout,
    /flow\.keel\.yaml:13 {2}step summarize \(prompt, messages\[0\]\.content\)/,
  );
  assert.match(text.stdout, /- Summarise 1 thing\./);
  assert.match(text.stdout, /\+ Summarise 1 things\./);
  const json = JSON.parse(keel(["replay", "latest", "--current", "--json"], dir).stdout) as {
    divergence: { step: string; field: string; expected: string; actual: string };
  };
  assert.equal(json.divergence.step, "summarize");
  assert.equal(json.divergence.field, "prompt");
  assert.equal(json.divergence.expected, "Summarise 1 thing.");
  assert.equal(json.divergence.actual, "Summarise 1 things.");
  assert.equal(readFileSync(join(dir, "log.txt"), "utf8"), log);
});

test("keel replay of an unknown run is bad usage", () => {
  const dir = workspace({ "flow.keel.yaml": FLOW });
  const r = keel(["replay", "nope"], dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no run 'nope'/);
});

test("keel diff puts the first divergence first and exits 1 when the runs differ", () => {
  const dir = workspace({ "flow.keel.yaml": FLOW });
  assert.equal(keel(["run", "flow.keel.yaml"], dir).code, 0);
  writeFileSync(join(dir, "flow.keel.yaml"), FLOW.replace("thing.", "things."));
  assert.equal(keel(["run", "flow.keel.yaml"], dir).code, 0);
  const runs = JSON.parse(keel(["runs", "--json"], dir).stdout) as { id: string }[];
  const [newer, older] = runs.map((r) => r.id);
  const r = keel(["diff", older!, newer!, "--json"], dir);
  assert.equal(r.code, 1, r.stderr);
  const diff = JSON.parse(r.stdout) as {
    firstDivergence: string;
    steps: { step: string; inputEqual: boolean }[];
  };
  assert.equal(diff.firstDivergence, "summarize");
  assert.deepEqual(diff.steps[0], { ...diff.steps[0], step: "summarize", inputEqual: false });
  const text = keel(["diff", older!, older!], dir);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /no step differs/);
});
