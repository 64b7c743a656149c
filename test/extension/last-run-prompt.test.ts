// The last run as hover reads it (extension/runs/last-run.ts lastRun): an llm step whose prompt
// came from a prompt file carries the prompt its last attempt rendered (`promptPreview`), read
// from the run store; a step with an inline prompt carries none.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { defaultStorePath } from "@keel/core/node/store-path";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { lastRun } from "../../extension/runs/last-run";
import { runText, writeWorkflow } from "../core/runner/harness";

const FLOW = `keel: 1
name: prompts
providers:
  p: { type: scripted, default: ok }
steps:
  draft:
    type: llm
    prompt_file: ./draft.md
    with: { ticket: my printer }
  inline:
    type: llm
    prompt: hello
  each:
    type: llm
    for_each: '["a", "b"]'
    prompt_file: ./draft.md
    with: { ticket: "\${{ item }}" }
`;

const PROMPT =
  "---\ninputs: { ticket: string }\n---\n## system\nBe brief.\n\n## user\nTicket: ${{ ticket }}\n";

test("lastRun gives an llm step's last rendered prompt when it came from a prompt file", async () => {
  const path = writeWorkflow(FLOW, { "draft.md": PROMPT });
  mkdirSync(join(dirname(path), ".keel"));
  const store = openSqliteStore(defaultStorePath(dirname(path)));
  try {
    const run = await runText(FLOW, { path, store });
    assert.equal(run.result.status, "succeeded");
  } finally {
    await store.close();
  }
  const last = await lastRun(path);
  assert.equal(last?.steps.draft?.promptPreview, "system: Be brief.\n\nuser: Ticket: my printer");
  assert.equal(last?.steps.inline?.promptPreview, undefined);
  // A map's items each render their own prompt: the last one recorded stands for them.
  assert.match(last?.steps.each?.promptPreview ?? "", /^system: Be brief\.\n\nuser: Ticket: [ab]$/);
});
