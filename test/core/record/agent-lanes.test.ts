// An agent step's turns and tool calls as the graph panel shows them (core/record/agent-lanes.ts),
// read from the fold of real runs: a scripted agent (no cost), and the same agent against the
// local OpenAI server with a priced model (each turn's attempt has its costUsd); the summary text;
// the panel's schema for them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { foldToEnd, RunFold } from "@keel/core/record/fold";
import type { AttemptRecord } from "@keel/core/record/records";
import {
  agentCounts,
  agentLanes,
  agentSummary,
  costText,
  type AgentLanes,
} from "@keel/core/record/agent-lanes";
import { StatusMessage } from "@keel/core/protocol/webview";
import { startProviderServer } from "../../helpers/provider-server";
import { agentRun, pricedAgentRun } from "../../webview/agent-run";

const shape = (lanes: AgentLanes) =>
  lanes.turns.map((t) => [
    `#${t.turn} ${t.status}`,
    ...t.calls.map((c) => `${c.name}.${c.index} ${c.status}${c.refused ? " refused" : ""}`),
  ]);

test("a scripted agent's turns, each with its calls in index order, refused calls marked, no cost", async () => {
  const run = await agentRun();
  const attempts = (run.recording as { attempts: AttemptRecord[] }).attempts;
  const fold = foldToEnd(run.events, attempts);
  const lanes = agentLanes(fold, "research");
  assert.deepEqual(shape(lanes), [
    ["#1 succeeded", "search.0 succeeded", "search.1 failed refused"],
    ["#2 succeeded", "fetch_page.0 succeeded", "lookup.1 failed refused"],
    ["#3 succeeded", "search.0 succeeded", "fetch_page.1 succeeded"],
    ["#4 succeeded"],
  ]);
  // Latency: a turn's and a run call's from their attempts; a refused call never ran.
  for (const t of lanes.turns) {
    const a = attempts.find((x) => x.scope === `#${t.turn}`)!;
    assert.equal(t.ms, Date.parse(a.endedAt) - Date.parse(a.startedAt));
    for (const c of t.calls) assert.equal(c.ms === undefined, c.refused === true, c.name);
  }
  assert.equal(lanes.costUsd, undefined);
  assert.ok(lanes.turns.every((t) => t.costUsd === undefined));
  assert.equal(agentSummary("research", lanes), "research · 4 turns · 6 tool calls");
  // The other step has none; the schema the panel checks takes them.
  assert.deepEqual(agentLanes(fold, "report"), { turns: [] });
  assert.ok(
    StatusMessage.safeParse({
      type: "status",
      runId: "r",
      steps: { research: { status: "succeeded", agent: lanes } },
    }).success,
  );

  // At turn 2's first call's start: two turns, that call running, no latency yet.
  const at = new RunFold(run.events, attempts);
  at.seek(run.events.findIndex((e) => e.type === "step_started" && e.scope === "#2/fetch_page.0"));
  const mid = agentLanes(at, "research");
  assert.deepEqual(shape(mid), [
    ["#1 succeeded", "search.0 succeeded", "search.1 failed refused"],
    ["#2 succeeded", "fetch_page.0 running"],
  ]);
  assert.equal(mid.turns[1]!.calls[0]!.ms, undefined);
  assert.equal(agentCounts(mid), "2 turns · 3 tool calls");
  // Before the agent's first turn: none.
  at.seek(run.events.findIndex((e) => e.type === "step_started" && e.scope === "#1") - 1);
  assert.deepEqual(agentLanes(at, "research"), { turns: [] });
});

test("turns answered by a priced model carry their attempts' cost, summed on the node", async (t) => {
  const server = await startProviderServer();
  t.after(() => server.close());
  const run = await pricedAgentRun(server);
  const fold = foldToEnd(run.events, (run.recording as { attempts: AttemptRecord[] }).attempts);
  const lanes = agentLanes(fold, "research");
  // gpt-4o: $2.50 in, $10 out per million tokens: 1000 in and 200 out are $0.0045 a turn.
  assert.deepEqual(
    lanes.turns.map((t) => t.costUsd),
    [0.0045, 0.0045, 0.0045, 0.0045],
  );
  assert.ok(Math.abs(lanes.costUsd! - 0.018) < 1e-12);
  assert.equal(agentSummary("research", lanes), "research · 4 turns · 6 tool calls · $0.018");
  // The calls are the same as the scripted agent's: the provider does not change them.
  assert.deepEqual(shape(lanes).flat().length, 10);
});

test("the summary's words and cost: singular counts, two significant digits under a dime", () => {
  const one: AgentLanes = {
    turns: [
      { turn: 1, status: "succeeded", calls: [{ name: "search", index: 0, status: "succeeded" }] },
    ],
    costUsd: 0.0123,
  };
  assert.equal(agentSummary("ask", one), "ask · 1 turn · 1 tool call · $0.012");
  assert.equal(agentCounts({ turns: [] }), "0 turns · 0 tool calls");
  assert.equal(costText(0), "$0");
  assert.equal(costText(0.00042), "$0.00042");
  assert.equal(costText(0.00000004), "<$0.0001");
  assert.equal(costText(0.0999), "$0.10");
  assert.equal(costText(0.1234), "$0.12");
  assert.equal(costText(12.5), "$12.50");
});

test("the panel's schema refuses an agent's lanes it could not draw", () => {
  const status = (agent: unknown) =>
    StatusMessage.safeParse({
      type: "status",
      runId: "r",
      steps: { research: { status: "running", agent } },
    }).success;
  const call = { name: "search", index: 0, status: "running" };
  assert.equal(status({ turns: [{ turn: 1, status: "running", calls: [call] }] }), true);
  assert.equal(status({ turns: [{ turn: 0, status: "running", calls: [] }] }), false);
  assert.equal(
    status({ turns: [{ turn: 1, status: "running", calls: [{ ...call, name: "a b" }] }] }),
    false,
  );
  assert.equal(
    status({ turns: [{ turn: 1, status: "running", calls: [{ ...call, index: -1 }] }] }),
    false,
  );
  assert.equal(status({ turns: [], costUsd: -1 }), false);
});
