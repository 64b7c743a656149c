// A live run's status for the graph panel (extension/runs/live-status.ts) from the events of a
// real map run so far: the map step's item count and its items by status, as its node shows them;
// a loop's iterations; an agent's turns and tool calls.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LiveReplies, liveStatus } from "../../extension/runs/live-status";
import { createNodeEffects, type LiveChunk } from "@keel/core/runner/node-effects";
import { resolve } from "node:path";
import { load, runText, writeWorkflow } from "../core/runner/harness";
import { StatusMessage } from "@keel/core/protocol/webview";
import { agentRun } from "../webview/agent-run";

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

test("the status of a run in the middle of an agent gives the agent step its turns and tool calls, not iterations", async () => {
  const run = await agentRun();
  const events = run.events;
  const ids = ["research", "report"];
  const agents = new Set(["research"]);
  // Up to turn 2's second call's end: turn 2 and its first call done, the refused call too.
  const upTo = events.findIndex((e) => e.type === "step_failed" && e.scope === "#2/lookup.1");
  const mid = liveStatus(run.result.runId, events.slice(0, upTo + 1), ids, new Map(), agents);
  const agent = mid.steps.research!.agent!;
  assert.equal(mid.steps.research?.status, "running");
  assert.equal(mid.steps.research?.iterations, undefined);
  assert.deepEqual(
    agent.turns.map((t) => [
      t.turn,
      t.status,
      t.calls.map((c) => `${c.name}.${c.index} ${c.status}${c.refused ? " refused" : ""}`),
    ]),
    [
      [1, "succeeded", ["search.0 succeeded", "search.1 failed refused"]],
      [2, "succeeded", ["fetch_page.0 succeeded", "lookup.1 failed refused"]],
    ],
  );
  // A live status has no attempts: latencies from the events, no cost.
  assert.equal(
    agent.turns[0]!.ms,
    events.find((e) => e.scope === "#1" && e.type === "step_succeeded")!.data!.durationMs,
  );
  assert.equal(agent.costUsd, undefined);
  assert.equal(mid.steps.report?.agent, undefined);
  assert.equal(StatusMessage.safeParse(mid).success, true);
  // Told no agents (a file the extension could not read), the turns read as a loop's iterations.
  const plain = liveStatus(run.result.runId, events.slice(0, upTo + 1), ids);
  assert.equal(plain.steps.research?.agent, undefined);
  assert.deepEqual(plain.steps.research?.iterations, ["succeeded", "succeeded"]);
});
