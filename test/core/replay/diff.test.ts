// keel diff's core: two recorded runs compared step by step, the first divergence first.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStore } from "@keel/core/store/memory-store";
import { diffRuns } from "@keel/core/replay/diff";
import { readRecordedRun } from "@keel/core/replay/record";
import { runText } from "../runner/harness";

const FLOW = (model: string, prompt: string) => `keel: 1
name: d
providers:
  p: { type: scripted, model: ${model}, default: "same answer" }
defaults: { cache: false }
steps:
  a: { type: transform, expr: '"x"' }
  ask: { type: llm, provider: p, prompt: "${prompt} \${{ steps.a.output }}" }
  echo: { type: transform, expr: 'steps.ask.output & "!"' }
`;

async function twoRuns(b: string) {
  const store = new MemoryStore();
  const first = await runText(FLOW("m1", "Hello"), { store });
  const second = await runText(b, { store });
  return diffRuns(
    (await readRecordedRun(store, first.result.runId))!,
    (await readRecordedRun(store, second.result.runId))!,
  );
}

test("two runs of the same workflow have no divergence", async () => {
  const diff = await twoRuns(FLOW("m1", "Hello"));
  assert.equal(diff.firstDivergence, null);
  assert.deepEqual(
    diff.steps.map((s) => [s.step, s.inputEqual, s.outputEqual, s.differs]),
    [
      ["a", true, true, false],
      ["ask", true, true, false],
      ["echo", true, true, false],
    ],
  );
  assert.ok(diff.steps.every((s) => s.latencyMs.every((l) => typeof l === "number")));
});

test("a changed prompt and model: the step comes first with its input equal flag and model change", async () => {
  const diff = await twoRuns(FLOW("m2", "Bonjour"));
  assert.equal(diff.firstDivergence, "ask");
  const [first] = diff.steps;
  assert.equal(first!.step, "ask");
  assert.equal(first!.inputEqual, false);
  assert.equal(first!.outputEqual, true);
  assert.deepEqual(first!.model, ["m1", "m2"]);
  assert.equal(diff.steps.find((s) => s.step === "echo")!.differs, false);
});
