// A live run's status for the graph panel (extension/runs/live-status.ts) from the events of a
// real map run so far: the map step's item count and its items by status, as its node shows them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LiveReplies, liveStatus } from "../../extension/runs/live-status";
import { createNodeEffects, type LiveChunk } from "@keel/core/runner/node-effects";
import { resolve } from "node:path";
import { load, runText, writeWorkflow } from "../core/runner/harness";

test("the status of a run in the middle of a map gives the map step its item count and tally", async () => {
  const run = await runText(`keel: 1
name: doubles
steps:
  each:
    type: transform
    for_each: "[1, 2, 3, 4]"
    expr: item * 2
  sum:
    type: transform
    expr: steps.each.output
`);
  assert.equal(run.result.status, "succeeded", run.result.error ?? "");
  const events = await run.store.events(run.result.runId);
  // Up to the second item's end: two succeeded, two not started.
  const ends = events.flatMap((e, i) =>
    e.stepId === "each" && e.scope !== null && e.type === "step_succeeded" ? [i] : [],
  );
  const mid = liveStatus(run.result.runId, events.slice(0, ends[1]! + 1), ["each", "sum"]);
  assert.equal(mid.steps.each?.status, "running");
  assert.equal(mid.steps.each?.items, 4);
  assert.deepEqual(mid.steps.each?.tally, {
    pending: 2,
    running: 0,
    succeeded: 2,
    failed: 0,
    skipped: 0,
    cancelled: 0,
  });
  assert.equal(mid.steps.sum?.tally, undefined);
  const end = liveStatus(run.result.runId, events, ["each", "sum"]);
  assert.equal(end.steps.each?.tally?.succeeded, 4);
  assert.equal(end.steps.each?.status, "succeeded");
});

test("the status of a run in the middle of a loop gives the loop its iterations by number", async () => {
  const run = await runText("", { path: resolve("samples/digest.keel.yaml") });
  assert.equal(run.result.status, "succeeded", run.result.error ?? "");
  const events = await run.store.events(run.result.runId);
  const ids = ["split", "summarize", "reduce", "refine"];
  // Up to the second iteration's start: the first succeeded, the second running.
  const second = events.findIndex((e) => e.type === "step_started" && e.scope === "#2");
  const mid = liveStatus(run.result.runId, events.slice(0, second + 1), ids);
  assert.deepEqual(mid.steps.refine?.iterations, ["succeeded", "running"]);
  assert.deepEqual(liveStatus(run.result.runId, events, ids).steps.refine?.iterations, [
    "succeeded",
    "succeeded",
  ]);
  // A map's items are counted, not listed; a plain step has neither.
  assert.equal(mid.steps.summarize?.iterations, undefined);
  assert.equal(mid.steps.reduce?.iterations, undefined);
});

test("a streamed step's chunks give its live status the reply so far: its own chunks, of its latest attempt, not its items' nor another run's", async () => {
  const text = `keel: 1
name: streams
providers:
  fake:
    type: scripted
    responses:
      - match: cut
        chunks: ["half ", "a reply"]
        error: server_error
      - match: item
        chunks: ["an item"]
steps:
  draft:
    type: llm
    stream: true
    prompt: cut
    retry: { max_attempts: 2, initial: 1ms, on: [server_error] }
  each:
    type: llm
    stream: true
    for_each: "[1, 2]"
    prompt: item
`;
  const path = writeWorkflow(text);
  const loaded = load(path);
  const chunks: LiveChunk[] = [];
  const effects = createNodeEffects({
    providers: loaded.workflow.providers ?? {},
    dir: loaded.dir,
    onChunk: (c) => chunks.push(c),
  });
  const run = await runText(text, { path, effects });
  const events = await run.store.events(run.result.runId);
  const live = new LiveReplies();
  for (const c of chunks) live.add(run.result.runId, c);
  live.add(run.result.runId, { ...chunks[0]!, runId: "01OTHER", text: "another run" });
  // Two attempts streamed "half a reply": the second's replaces the first's.
  assert.equal(chunks.filter((c) => c.stepId === "draft").length, 4);
  const status = liveStatus(run.result.runId, events, ["draft", "each"], live.replies);
  assert.equal(status.steps.draft?.reply, "half a reply");
  assert.equal(status.steps.each?.reply, undefined);
  assert.equal(
    liveStatus(run.result.runId, events, ["draft", "each"]).steps.draft?.reply,
    undefined,
  );
});
