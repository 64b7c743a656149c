// keel run checks every input against its type and schema before anything runs: exit 2, naming
// the input and the rule, and nothing is recorded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { keel, workspace } from "../helpers/cli";

const FLOW = `keel: 1
name: inputs
inputs:
  tone: { type: string, default: calm, schema: { enum: [calm, formal] } }
  count: { type: number, default: 3, schema: { minimum: 1, maximum: 10 } }
steps:
  mark: { type: shell, command: [sh, -c, 'echo ran >> ran.txt'] }
  say: { type: transform, expr: 'inputs.tone & " x" & $string(inputs.count)', needs: mark }
outputs:
  said: steps.say.output
`;

test("a value from --input or --inputs that breaks its schema stops keel run before anything runs", () => {
  const dir = workspace({ "flow.keel.yaml": FLOW });
  const bad = keel(["run", "flow.keel.yaml", "--input", "tone=loud"], dir);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(
    bad.stderr,
    /input 'tone' is the string "loud", which breaks its schema: must be one of "calm", "formal" \(`enum`\)/,
  );
  writeFileSync(join(dir, "in.json"), JSON.stringify({ count: 11 }));
  const file = keel(["run", "flow.keel.yaml", "--inputs", "in.json"], dir);
  assert.equal(file.code, 2, file.stderr);
  assert.match(
    file.stderr,
    /input 'count' is the number 11, which breaks its schema: must be <= 10 \(`maximum`\)/,
  );
  assert.ok(!existsSync(join(dir, "ran.txt")), "no step ran");
  assert.equal(
    JSON.parse(keel(["runs", "--json"], dir).stdout || "[]").length,
    0,
    "no run was recorded",
  );

  const good = keel(["run", "flow.keel.yaml", "--input", "tone=formal", "--json"], dir);
  assert.equal(good.code, 0, good.stderr);
  assert.deepEqual(JSON.parse(good.stdout).outputs, { said: "formal x3" });
});

test("a default that breaks its own schema is an error for keel validate and keel run alike", () => {
  const dir = workspace({ "flow.keel.yaml": FLOW.replace("default: 3", "default: 30") });
  const validated = keel(["validate", "flow.keel.yaml"], dir);
  assert.equal(validated.code, 1, validated.stdout + validated.stderr);
  assert.match(validated.stdout + validated.stderr, /KEEL111/);
  assert.match(
    validated.stdout + validated.stderr,
    /the default of input 'count' is the number 30/,
  );
  const run = keel(["run", "flow.keel.yaml"], dir);
  assert.equal(run.code, 2);
  assert.ok(!existsSync(join(dir, "ran.txt")), "no step ran");
});
