// A prompt file in the record (docs/replay.md "Prompt files"): its text is stored by hash, replay
// renders the recorded text, `--current` (currentChildren) the file on disk, and a divergence or a
// diff names the prompt file and the line that changed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { readRecordedRun } from "@keel/core/replay/record";
import { replayRun } from "@keel/core/replay/replay";
import { diffRuns } from "@keel/core/replay/diff";
import { loadWorkflowText } from "@keel/core/runner/load";
import { runText, writeWorkflow } from "../runner/harness";

const PROMPT = `---
inputs:
  ticket: { type: string }
---
## system
Be brief.

## user
Ticket: \${{ ticket }}
`;

const flow = (body: string) => `keel: 1
name: prompts
providers:
  p: { type: scripted, default: ok }
steps:
  draft:
    type: llm
    prompt_file: ./draft.md
    with: { ticket: "${body}" }
`;

async function recorded(text: string) {
  const path = writeWorkflow(text, { "draft.md": PROMPT });
  const run = await runText(text, { path });
  assert.equal(run.result.status, "succeeded");
  return { path, run, record: (await readRecordedRun(run.store, run.result.runId))! };
}

function loadedOf(path: string, text: string) {
  const loaded = loadWorkflowText(path, text);
  assert.ok(loaded.ok);
  return loaded.loaded;
}

test("replay renders the prompt file's recorded text though the file changed; --current reads the file and names its changed line", async () => {
  const text = flow("printer on fire");
  const { path, record } = await recorded(text);
  writeFileSync(join(path, "..", "draft.md"), PROMPT.replace("Be brief.", "Be very brief."));

  const asRecorded = await replayRun(record, loadedOf(path, text));
  assert.equal(asRecorded.divergence, null);
  assert.equal(asRecorded.effectsExecuted, 0);

  const current = await replayRun(record, loadedOf(path, text), { currentChildren: true });
  const d = current.divergence!;
  assert.equal(d.step, "draft");
  assert.equal(d.field, "prompt file");
  assert.equal(d.within?.file, "./draft.md");
  assert.equal(d.within?.line, 6);
  // The workflow's line is the step's prompt_file.
  assert.equal(d.line, 8);
  assert.match(
    d.message,
    /the prompt file \.\/draft\.md of step 'draft' changed since the record: it first differs at \.\/draft\.md:6/,
  );
});

test("a replay whose with: inputs render another prompt names the message's line in the unchanged prompt file and the step's with:", async () => {
  const { path, record } = await recorded(flow("printer on fire"));
  const edited = flow("printer is fine");
  const report = await replayRun(record, loadedOf(path, edited));
  const d = report.divergence!;
  assert.equal(d.field, "prompt");
  assert.equal(d.path, "messages[1].content");
  assert.deepEqual(d.within, { file: "./draft.md", step: null, scope: null, line: 9 });
  assert.equal(d.line, 9);
  assert.match(
    d.message,
    /\(\.\/draft\.md:9\): the prompt file is unchanged, its `with:` inputs differ/,
  );
});

test("keel diff says which prompt file changed between two runs", async () => {
  const text = flow("x");
  const path = writeWorkflow(text, { "draft.md": PROMPT });
  const a = await runText(text, { path });
  writeFileSync(join(path, "..", "draft.md"), PROMPT.replace("Be brief.", "Be kind."));
  const b = await runText(text, { path, store: a.store });
  const diff = diffRuns(
    (await readRecordedRun(a.store, a.result.runId))!,
    (await readRecordedRun(a.store, b.result.runId))!,
  );
  const row = diff.steps.find((s) => s.step === "draft")!;
  assert.equal(diff.firstDivergence, "draft");
  assert.equal(row.promptFiles?.length, 1);
  assert.equal(row.promptFiles![0]!.path, "./draft.md");
  assert.notEqual(row.promptFiles![0]!.hash[0], row.promptFiles![0]!.hash[1]);
  // The same file in both runs: no change named.
  const c = await runText(text, { path, store: a.store });
  const same = diffRuns(
    (await readRecordedRun(a.store, b.result.runId))!,
    (await readRecordedRun(a.store, c.result.runId))!,
  );
  assert.equal(same.steps.find((s) => s.step === "draft")!.promptFiles, undefined);
});
