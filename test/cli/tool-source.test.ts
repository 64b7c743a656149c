// A tool's module is part of what its attempts ran on: replay and `keel test` report a changed
// module (part `tool source`), and a tool declared `pure: true` is computed again in a replay.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { keel, workspace } from "../helpers/cli";

const flow = (pure: boolean) => `keel: 1
name: tools
steps:
  count:
    type: tool
    uses: ./count.js#count
    with: { text: "a b c" }${pure ? "\n    pure: true" : ""}
  report: { type: transform, expr: '"words: " & $string(steps.count.output)' }
outputs:
  report: steps.report.output
`;
const TOOL = `"use strict";
module.exports = { count: (args) => args.text.split(" ").length };
`;
// The same export, now counting characters: another result for the same arguments.
const CHANGED = `"use strict";
module.exports = { count: (args) => args.text.length };
`;

interface Report {
  divergence: { step: string; field: string; message: string; line: number | null } | null;
  effectsExecuted: number;
  outputs: Record<string, unknown> | null;
}

function replay(dir: string, ...flags: string[]): Report {
  const r = keel(["replay", "latest", "--json", ...flags], dir);
  return JSON.parse(r.stdout) as Report;
}

test("a tool whose module changed fails keel test and keel replay with a tool source divergence", () => {
  const dir = workspace({ "flow.keel.yaml": flow(false), "count.js": TOOL });
  const run = keel(["run", "flow.keel.yaml"], dir);
  assert.equal(run.code, 0, run.stderr);
  const exported = keel(["export", "latest"], dir);
  assert.equal(exported.code, 0, exported.stderr);
  writeFileSync(join(dir, "flow.keel-run.json"), exported.stdout);
  assert.equal(keel(["test"], dir).code, 0, "the unchanged tool passes");
  assert.equal(replay(dir).divergence, null);

  writeFileSync(join(dir, "count.js"), CHANGED);
  const failed = keel(["test"], dir);
  assert.equal(failed.code, 1, failed.stdout + failed.stderr);
  assert.match(failed.stdout, /✖ flow\.keel-run\.json/);
  assert.match(failed.stdout, /the module of tool step 'count' \(\.\/count\.js#count\) changed/);
  const report = replay(dir);
  assert.equal(report.divergence?.step, "count");
  assert.equal(report.divergence?.field, "tool source");
  assert.equal(report.divergence?.line, 6, "the line of `uses:`");
  // Not pure: the record still answers it, so its dependents see what they saw.
  assert.deepEqual(report.outputs, { report: "words: 3" });
  assert.equal(report.effectsExecuted, 0);
});

test("a pure tool is computed again in a replay: a changed module gives its new result", () => {
  const dir = workspace({ "flow.keel.yaml": flow(true), "count.js": TOOL });
  assert.equal(keel(["run", "flow.keel.yaml"], dir).code, 0);
  const same = replay(dir);
  assert.equal(same.divergence, null);
  assert.deepEqual(same.outputs, { report: "words: 3" });
  assert.equal(same.effectsExecuted, 0, "a pure tool is not an effect");

  writeFileSync(join(dir, "count.js"), CHANGED);
  const report = replay(dir);
  assert.equal(report.divergence?.field, "tool source");
  assert.deepEqual(report.outputs, { report: "words: 5" }, "the tool ran again");
  assert.equal(report.effectsExecuted, 0);
  // --record-tools (an untrusted workspace): nothing of the workspace runs.
  const recorded = replay(dir, "--record-tools");
  assert.equal(recorded.divergence?.field, "tool source");
  assert.deepEqual(recorded.outputs, { report: "words: 3" });
  assert.equal(recorded.effectsExecuted, 0);
  // The record keeps the module's hash in every attempt's input.
  const shown = keel(["export", "latest"], dir);
  const golden = JSON.parse(shown.stdout) as {
    attempts: { stepId: string; inputHash: string }[];
    values: Record<string, string>;
  };
  const attempt = golden.attempts.find((a) => a.stepId === "count")!;
  const input = JSON.parse(golden.values[attempt.inputHash] ?? "{}") as { source?: string };
  assert.match(input.source ?? "", /^[0-9a-f]{64}$/);
});
