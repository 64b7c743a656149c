// The result cache: hits are recorded as cached with their source run; keys change with the input,
// the provider's model and a tool module's text; effectful types cache only when asked; TTLs expire.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { MemoryStore } from "@keel/core/store/memory-store";
import { inlineValue } from "@keel/core/record/refs";
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

test("an http GET is cached only when the step asks, and a scripted provider's edited reply is a miss", async () => {
  const http = (cache: string) => `keel: 1
name: t
providers:
  p: { type: scripted, default: first reply }
steps:
  get: { type: http, url: "http://127.0.0.1:9/x"${cache} }
  ask: { type: llm, prompt: hi }
`;
  let calls = 0;
  const counting = (e: Effects): Effects => ({
    ...e,
    http: async () => ({ status: 200, headers: {}, body: `call ${++calls}` }),
  });
  const store = new MemoryStore();
  const plain = writeWorkflow(http(""));
  await runText("", { store, path: plain, wrap: counting });
  const again = await runText("", { store, path: plain, wrap: counting });
  assert.equal(stepOf(again, "get").origin, "live", "a GET without `cache` is not cached");
  assert.equal(calls, 2);
  const asked = writeWorkflow(http(", cache: true"));
  await runText("", { store, path: asked, wrap: counting });
  assert.equal(
    stepOf(await runText("", { store, path: asked, wrap: counting }), "get").origin,
    "cached",
  );
  assert.equal(stepOf(again, "ask").origin, "cached");
  writeFileSync(plain, http("").replace("first reply", "edited reply"));
  const edited = await runText("", { store, path: plain, wrap: counting });
  assert.equal(stepOf(edited, "ask").origin, "live");
  const reply = (await store.attempts(edited.result.runId)).find((a) => a.stepId === "ask")!;
  assert.equal(inlineValue(reply.outputHash!), JSON.stringify("edited reply"));
});

test("two runs that differ only in a secret the step reads do not share an entry; an unread secret changes nothing", async () => {
  const flow = `keel: 1
name: t
steps:
  get:
    type: http
    url: "http://127.0.0.1:9/me"
    headers: { Authorization: "Bearer \${{ secrets.TOKEN }}" }
    cache: true
`;
  const seen: string[] = [];
  const server = (e: Effects): Effects => ({
    ...e,
    http: async (r) => {
      seen.push(r.headers.Authorization!);
      return { status: 200, headers: {}, body: `hello ${r.headers.Authorization}` };
    },
  });
  const store = new MemoryStore();
  const path = writeWorkflow(flow);
  const alice = { TOKEN: "alice-token-1" };
  const bob = { TOKEN: "bob-token-22" };
  await runText("", { store, path, wrap: server, secrets: alice });
  const asBob = await runText("", { store, path, wrap: server, secrets: bob });
  assert.equal(stepOf(asBob, "get").origin, "live", "Bob is not served Alice's answer");
  const asAlice = await runText("", {
    store,
    path,
    wrap: server,
    secrets: { ...alice, OTHER: "unrelated-1" },
  });
  assert.equal(stepOf(asAlice, "get").origin, "cached");
  assert.deepEqual(seen, ["Bearer alice-token-1", "Bearer bob-token-22"]);
  // The key holds no secret, in any form the store could show.
  const keys = (await store.attempts(asAlice.result.runId)).map((a) => a.cacheKey ?? "");
  for (const value of [alice.TOKEN, bob.TOKEN]) assert.ok(!keys.join().includes(value));
});
