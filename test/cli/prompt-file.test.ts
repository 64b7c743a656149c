// Prompt files through the built CLI (docs/replay.md "Prompt files"): `keel diff` says which
// prompt file changed between two runs, `keel replay` of the older run renders its recorded
// prompt text though the file changed, and `keel replay --current` names the file's changed line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { keel, workspace } from "../helpers/cli";

const FLOW = `keel: 1
name: prompts
providers:
  p: { type: scripted, default: ok }
steps:
  draft:
    type: llm
    prompt_file: ./prompts/draft.md
    with: { ticket: my printer is on fire }
`;
const PROMPT =
  "---\ninputs: { ticket: string }\n---\n## system\nBe brief.\n\n## user\n${{ ticket }}\n";

test("keel diff names the prompt file that changed; replay uses the recorded text, --current the file", () => {
  const dir = workspace({ "flow.keel.yaml": FLOW, "prompts/draft.md": PROMPT });
  assert.equal(keel(["run", "flow.keel.yaml"], dir).code, 0);
  writeFileSync(join(dir, "prompts/draft.md"), PROMPT.replace("Be brief.", "Be kind."));
  assert.equal(keel(["run", "flow.keel.yaml"], dir).code, 0);
  const runs = JSON.parse(keel(["runs", "--json"], dir).stdout) as { id: string }[];
  const [newer, older] = runs.map((r) => r.id);
  const diff = keel(["diff", older!, newer!], dir);
  assert.equal(diff.code, 1, diff.stderr);
  assert.match(
    diff.stdout,
    /draft .*prompt file \.\/prompts\/draft\.md changed \([0-9a-f]{8} → [0-9a-f]{8}\)/,
  );

  const recorded = JSON.parse(keel(["replay", older!, "--json"], dir).stdout) as {
    divergence: unknown;
  };
  assert.equal(recorded.divergence, null);
  const current = JSON.parse(keel(["replay", older!, "--current", "--json"], dir).stdout) as {
    divergence: { step: string; field: string; message: string };
  };
  assert.equal(current.divergence.field, "prompt file");
  assert.match(current.divergence.message, /it first differs at \.\/prompts\/draft\.md:5/);
});

test("keel export of a run with a prompt file keeps the file's text as read; keel test and an imported replay pass, an edited file fails keel test", () => {
  const dir = workspace({ "flow.keel.yaml": FLOW, "prompts/draft.md": PROMPT });
  assert.equal(keel(["run", "flow.keel.yaml"], dir).code, 0);
  const exported = keel(["export", "latest"], dir);
  assert.equal(exported.code, 0, exported.stderr);
  const golden = JSON.parse(exported.stdout) as {
    run: { id: string };
    values: Record<string, string>;
  };
  assert.ok(Object.values(golden.values).includes(PROMPT), "the prompt text is in the file");
  writeFileSync(join(dir, "flow.keel-run.json"), exported.stdout);
  const passed = keel(["test"], dir);
  assert.equal(passed.code, 0, passed.stdout + passed.stderr);

  const fresh = workspace({ "flow.keel.yaml": FLOW, "prompts/draft.md": PROMPT });
  writeFileSync(join(fresh, "flow.keel-run.json"), exported.stdout);
  assert.equal(keel(["import", "flow.keel-run.json"], fresh).code, 0);
  writeFileSync(join(fresh, "prompts/draft.md"), PROMPT.replace("Be brief.", "Be kind."));
  const replay = JSON.parse(keel(["replay", golden.run.id, "--json"], fresh).stdout) as {
    divergence: unknown;
  };
  assert.equal(replay.divergence, null);
  const failed = keel(["test"], fresh);
  assert.equal(failed.code, 1, failed.stdout);
  assert.match(failed.stdout, /prompts\/draft\.md/);
});
