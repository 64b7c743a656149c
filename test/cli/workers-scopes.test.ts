// Maps and child workflows do not run on the team's workers yet (docs/team.md): keel run --on
// refuses them before anything is submitted, rather than run them as single steps.
import { test } from "node:test";
import assert from "node:assert/strict";
import { keel, workspace } from "../helpers/cli";

test("keel run --on refuses a workflow with a map or a workflow step, naming them, before it reaches the workers", () => {
  const dir = workspace({
    "flow.keel.yaml": `keel: 1
name: digest
providers:
  p: { type: scripted, default: fine }
steps:
  docs:
    type: transform
    expr: '["a", "b"]'
  summarize:
    type: llm
    for_each: steps.docs.output
    prompt: "Summarize \${{ item }}"
  again:
    type: workflow
    uses: ./child.keel.yaml
`,
    "child.keel.yaml": "keel: 1\nname: child\nsteps:\n  x: { type: transform, expr: '1' }\n",
  });
  // Nothing listens there: the refusal comes first.
  const r = keel(["run", "flow.keel.yaml", "--on", "postgres://keel@127.0.0.1:1/none"], dir);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /summarize \(for_each\), again \(a workflow step\): maps, child workflows and loops do not run on workers yet/,
  );
  assert.doesNotMatch(r.stderr, /cannot reach/);
});
