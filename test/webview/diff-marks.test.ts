// Diff mode's words for one step (webview/diff/marks.ts `differences`, the inspector's list): a
// map step's items and a loop's iterations say how many differ and which, from the core's diff
// of two real runs, as keel diff says it (docs/replay.md, "Diff").
import { test } from "node:test";
import assert from "node:assert/strict";
import { diffRuns } from "@keel/core/replay/diff";
import { readRecordedRun } from "@keel/core/replay/record";
import { DiffMessage } from "@keel/core/protocol/webview";
import { MemoryStore } from "@keel/core/store/memory-store";
import { differences } from "../../webview/diff/marks";
import { runText } from "../core/runner/harness";

const MAP = (docs: string) => `keel: 1
name: m
providers:
  p: { type: scripted, default: "same" }
defaults: { cache: false }
steps:
  summarize:
    type: llm
    for_each: '${docs}'
    key: item.id
    prompt: "Summarize \${{ item.t }}"
`;

test("the inspector lists the items that differ, were added and were removed", async () => {
  const store = new MemoryStore();
  const a = await runText(
    MAP(`[{"id": "a", "t": "one"}, {"id": "b", "t": "two"}, {"id": "c", "t": "three"}]`),
    { store },
  );
  const b = await runText(
    MAP(`[{"id": "a", "t": "one"}, {"id": "b", "t": "TWO"}, {"id": "d", "t": "four"}]`),
    { store },
  );
  const diff = diffRuns(
    (await readRecordedRun(store, a.result.runId))!,
    (await readRecordedRun(store, b.result.runId))!,
  );
  const message = DiffMessage.parse({ type: "diff", ...diff });
  const row = message.steps.find((s) => s.step === "summarize")!;
  assert.deepEqual(differences(row), [
    "1 of 2 items differs (b)",
    "1 item added (d)",
    "1 item removed (c)",
  ]);
});
