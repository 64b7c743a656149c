// The result cache: hits are recorded as cached with their source run; keys change with the input,
// the provider's model and a tool module's text; effectful types cache only when asked; TTLs expire.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { MemoryStore } from "@keel/core/store/memory-store";
import type { Effects } from "@keel/core/runner/effects";
import { runText, stepOf, writeWorkflow } from "./harness";

const FLOW = `keel: 1
name: t
inputs:
  q: { type: string, default: first }
defaults:
  cache: true
providers:
  p: { type: scripted, default: answer, model: m1 }
steps:
  ask: { type: llm, prompt: "Q: \${{ inputs.q }}" }
  shout: { type: shell, command: [node, -e, "console.log(1)"] }
  shell_cached: { type: shell, command: [node, -e, "console.log(2)"], cache: true }
  tool: { type: tool, uses: ./t.js#run, cache: { ttl: 1h } }
`;

test("a second run answers llm steps from the cache and records the run the result came from", async () => {
  const store = new MemoryStore();
  const path = writeWorkflow(FLOW, { "t.js": "exports.run = () => 1;\n" });
  const first = await runText(FLOW, { store, path });
  const second = await runText(FLOW, { store, path });
  assert.deepEqual(
    second.result.steps.map((s) => [s.id, s.origin]),
    [
      ["ask", "cached"],
      ["shout", "live"],
      ["shell_cached", "cached"],
      ["tool", "cached"],
    ],
  );
  const attempts = await store.attempts(second.result.runId);
  const ask = attempts.find((a) => a.stepId === "ask")!;
  assert.deepEqual([ask.origin, ask.sourceRunId], ["cached", first.result.runId]);
  const event = (await store.events(second.result.runId)).find(
    (e) => e.type === "step_cached" && e.stepId === "ask",
  )!;
  assert.equal(event.data!.sourceRun, first.result.runId);
});

test("a different input, model or tool module text misses; --no-cache does not read the cache", async () => {
  const store = new MemoryStore();
  const path = writeWorkflow(FLOW, { "t.js": "exports.run = () => 1;\n" });
  await runText(FLOW, { store, path });
  const otherInput = await runText(FLOW, { store, path, inputs: { q: "second" } });
  assert.equal(stepOf(otherInput, "ask").origin, "live");
  writeFileSync(path, FLOW.replace("model: m1", "model: m2"));
  const otherModel = await runText("", { store, path });
  assert.equal(stepOf(otherModel, "ask").origin, "live");
  writeFileSync(join(path, "..", "t.js"), "exports.run = () => 2;\n");
  const otherTool = await runText("", { store, path });
  assert.equal(stepOf(otherTool, "tool").origin, "live");
  const noCache = await runText("", { store, path, noCache: true });
  assert.deepEqual(
    noCache.result.steps.map((s) => s.origin),
    ["live", "live", "live", "live"],
  );
});

test("a cache entry past its ttl is not used", async () => {
  const flow = `keel: 1
name: t
providers:
  p: { type: scripted, default: answer }
steps:
  ask: { type: llm, prompt: hi, cache: { ttl: 1m } }
`;
  const store = new MemoryStore();
  const path = writeWorkflow(flow);
  await runText(flow, { store, path });
  assert.equal(stepOf(await runText(flow, { store, path }), "ask").origin, "cached");
  // Two minutes later, by the run's clock (the clock is an effect, so a test can move it).
  const later = (e: Effects): Effects => ({
    ...e,
    now: () => new Date(Date.now() + 120_000).toISOString(),
  });
  assert.equal(stepOf(await runText(flow, { store, path, wrap: later }), "ask").origin, "live");
});
