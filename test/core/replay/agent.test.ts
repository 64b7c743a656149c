// Replaying an agent (docs/replay.md, "Agents"): every model call and tool call is answered from
// the record by its scope, with no live call; edits to the file show as divergences named by
// turn and call.
import { test } from "node:test";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import assert from "node:assert/strict";
import { readRecordedRun } from "@keel/core/replay/record";
import { replayRun } from "@keel/core/replay/replay";
import { planRerun } from "@keel/core/replay/rerun";
import { diffRuns } from "@keel/core/replay/diff";
import { scopesInWords } from "@keel/core/protocol/cli";
import { loadWorkflowText } from "@keel/core/runner/load";
import { runText, writeWorkflow } from "../runner/harness";

const TOOLS = {
  "tools.mjs": `
export async function search(args) { return { hits: [args.tenant + ":" + args.query] }; }
export async function refund(args) { return { refunded: args.amount }; }
`,
};

const FLOW = `keel: 1
name: support
inputs:
  tenant: { type: string, default: acme }
providers:
  model:
    type: scripted
    responses:
      - turn: 1
        tool_calls: [{ name: search, arguments: { query: invoice } }, { name: search, arguments: { query: refund } }]
      - turn: 2
        tool_calls: [{ name: refund, arguments: { amount: 12 } }]
      - turn: 3
        reply: Refunded 12.
steps:
  research:
    type: agent
    prompt: "Help the customer."
    max_turns: 5
    tools:
      search:
        uses: ./tools.mjs#search
        parameters: { type: object, required: [query], properties: { query: { type: string } } }
        with: { query: "\${{ args.query }}", tenant: "\${{ inputs.tenant }}" }
      refund:
        uses: ./tools.mjs#refund
        parameters: { type: object, required: [amount], properties: { amount: { type: number } } }
outputs:
  answer: steps.research.output
`;

async function recorded(text: string) {
  const path = writeWorkflow(text, TOOLS);
  const run = await runText(text, { path });
  assert.equal(run.result.status, "succeeded", JSON.stringify(run.result));
  return { path, record: (await readRecordedRun(run.store, run.result.runId))! };
}

function loaded(path: string, text: string) {
  const l = loadWorkflowText(path, text);
  assert.ok(l.ok, JSON.stringify(!l.ok && l.diagnostics));
  return l.loaded;
}

test("an agent's replay answers every model call and tool call from the record: no divergence, 0 effects", async () => {
  const { path, record } = await recorded(FLOW);
  const replay = await replayRun(record, loaded(path, FLOW));
  assert.equal(replay.divergence, null, JSON.stringify(replay.divergence));
  assert.equal(replay.effectsExecuted, 0);
  assert.equal(replay.status, "succeeded");
  assert.deepEqual(replay.outputs, { answer: "Refunded 12." });
});

test("an input that a tool's with: injects changed: the divergence names the turn, the call and the argument", async () => {
  const { path, record } = await recorded(FLOW);
  const edited = FLOW.replace("default: acme", "default: globex");
  const replay = await replayRun(record, loaded(path, edited), {}, { tenant: "globex" });
  const d = replay.divergence!;
  assert.equal(d.step, "research");
  assert.equal(d.scope, "#1/search.0");
  assert.equal(d.message, "research, turn 1, call search.0: arguments differ at tenant");
  assert.equal(replay.effectsExecuted, 0);
});

test("a tool no longer offered: the first turn's divergence says which", async () => {
  const { path, record } = await recorded(FLOW);
  const edited = FLOW.replace(/ {6}refund:\n {8}uses: .*\n {8}parameters: .*\n/, "");
  const replay = await replayRun(record, loaded(path, edited));
  const d = replay.divergence!;
  assert.equal(d.scope, "#1");
  assert.equal(d.field, "tools");
  assert.equal(d.message, "research, turn 1: tools differ ('refund' is no longer offered)");
});

test("a prompt edit diverges at the first turn's messages", async () => {
  const { path, record } = await recorded(FLOW);
  const replay = await replayRun(
    record,
    loaded(path, FLOW.replace("Help the customer.", "Help them.")),
  );
  assert.equal(
    replay.divergence!.message,
    "research, turn 1: prompt differs at messages[0].content",
  );
});

test("a lower max_turns stops the replay early: turns differ, with the reason", async () => {
  const { path, record } = await recorded(FLOW);
  const replay = await replayRun(
    record,
    loaded(path, FLOW.replace("max_turns: 5", "max_turns: 2")),
  );
  assert.equal(replay.status, "failed");
  const d = replay.divergence!;
  assert.equal(d.field, "turns");
  assert.match(
    d.message,
    /^research: turns differ \(recorded 3, replay stopped after 2\) \(max_turns: /,
  );
});

test("tightened parameters: the first turn's tools differ, and the recorded call fails them in the replay", async () => {
  const { path, record } = await recorded(FLOW);
  const edited = FLOW.replace(
    "properties: { amount: { type: number } }",
    "properties: { amount: { type: number, maximum: 10 } }",
  );
  const replay = await replayRun(record, loaded(path, edited));
  const d = replay.divergence!;
  assert.equal(d.scope, "#1");
  assert.equal(
    d.message,
    "research, turn 1: tools differ (the description or parameters of 'refund' changed)",
  );
  // The model was offered other parameters; had it not been, the recorded call would fail them.
  const call = replay.replayed.events.find(
    (e) => e.scope === "#2/refund.0" && e.type === "step_failed",
  );
  assert.match(String(call?.data?.message), /must be <= 10/);
});

test("rerun --from research#2 reuses turn 1 and its calls and runs from turn 2 live; --set replaces a reused tool result", async () => {
  const { path, record } = await recorded(FLOW);
  const l = loaded(path, FLOW);
  const plain = planRerun(record, l, "research#2", new Map());
  assert.ok(plain.ok, !plain.ok ? plain.problem : "");
  assert.deepEqual([...plain.reuse.keys()].sort(), [
    "research#1",
    "research#1/search.0",
    "research#1/search.1",
  ]);
  assert.deepEqual(plain.effectful, ["research"]);
  const set = new Map<string, unknown>([["research#1/search.1", { hits: ["nothing found"] }]]);
  const plan = planRerun(record, l, "research#2", set);
  assert.ok(plan.ok, !plan.ok ? plan.problem : "");
  const calls: string[] = [];
  const { result, store } = await runText(FLOW, {
    path,
    reuse: plan.reuse,
    parentId: record.run.id,
    wrap: (e) => ({
      ...e,
      llm: (req, signal, key, stream) => {
        calls.push(`llm ${req.messages.length}`);
        return e.llm(req, signal, key, stream);
      },
      tool: (call, signal, scope) => {
        calls.push(`tool ${call.exportName}`);
        return e.tool(call, signal, scope);
      },
    }),
  });
  assert.equal(result.status, "succeeded", JSON.stringify(result));
  // Turn 1 and its two searches came from the record: live are turns 2 and 3 and the refund.
  assert.deepEqual(calls, ["llm 4", "tool refund", "llm 6"]);
  const attempts = await store.attempts(result.runId);
  const reused = attempts.filter((a) => a.origin === "reused").map((a) => `${a.stepId}${a.scope}`);
  assert.deepEqual(reused.sort(), ["research#1", "research#1/search.0", "research#1/search.1"]);
  const second = attempts.find((a) => a.scope === "#2" && a.origin === "live")!;
  const input = JSON.parse((await store.blob(second.inputHash))!) as {
    messages: { content: string }[];
  };
  assert.equal(input.messages[3]!.content, JSON.stringify({ hits: ["nothing found"] }));
});

test("rerun refuses a turn the record does not have and a --set of a turn that runs again", async () => {
  const { path, record } = await recorded(FLOW);
  const l = loaded(path, FLOW);
  const late = planRerun(record, l, "research#9", new Map());
  assert.ok(!late.ok);
  assert.match(late.problem, /has no turn 9 of step 'research' \(it ran 3 turns\)/);
  const again = planRerun(record, l, "research#1", new Map([["research#1/search.0", {}]]));
  assert.ok(!again.ok);
  assert.match(
    again.problem,
    /only a tool call of a turn the rerun reuses can be set: rerun with --from research#2/,
  );
  const missing = planRerun(record, l, "research#3", new Map([["research#1/search.7", {}]]));
  assert.ok(!missing.ok);
  assert.match(missing.problem, /has no such tool call of step 'research'/);
});

test("keel diff of two agent runs compares turns by number and tool calls by turn and index", async () => {
  const { record: a } = await recorded(FLOW);
  const edited = FLOW.replace(
    "{ name: refund, arguments: { amount: 12 } }",
    "{ name: refund, arguments: { amount: 15 } }",
  );
  const b = await recorded(edited);
  const row = diffRuns(a, b.record).steps.find((s) => s.step === "research")!;
  assert.equal(row.differs, true);
  assert.equal(row.iterations, undefined);
  assert.deepEqual(
    row.turns!.map((u) => [u.key, u.differs]),
    [
      ["1", false],
      ["2", true],
      ["3", true],
    ],
  );
  assert.deepEqual(
    row.calls!.map((u) => [u.key, u.differs]),
    [
      ["1/search.0", false],
      ["1/search.1", false],
      ["2/refund.0", true],
    ],
  );
  assert.deepEqual(scopesInWords(row), [
    "2 of 3 turns differ (#2, #3)",
    "1 of 3 tool calls differs (#2/refund.0)",
  ]);
});

test("an agent's system_file edited since the record: the divergence names the file's changed line and the turn", async () => {
  const text = FLOW.replace(
    '    prompt: "Help the customer."',
    '    system_file: ./system.md\n    prompt: "Help the customer."',
  );
  const path = writeWorkflow(text, { ...TOOLS, "system.md": "You are kind.\nYou are brief.\n" });
  const run = await runText(text, { path });
  assert.equal(run.result.status, "succeeded", JSON.stringify(run.result));
  const record = (await readRecordedRun(run.store, run.result.runId))!;
  writeFileSync(join(dirname(path), "system.md"), "You are kind.\nYou are terse.\n");
  const replay = await replayRun(record, loaded(path, text), { currentChildren: true });
  assert.equal(
    replay.divergence!.message,
    "the prompt file ./system.md of research, turn 1 changed since the record: it first differs at ./system.md:2",
  );
});
