// $trajectory in a workflow run end to end: an assert step checks the tool calls of a step that
// stands in for an agent (a transform whose output has the agent's `turns` shape), a failing
// check fails the step, a wrong mode known only at run time fails it naming the fix, and a
// replay (what `keel test` runs on a golden file) computes the assertion again on the record.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readRecordedRun } from "@keel/core/replay/record";
import { replayRun } from "@keel/core/replay/replay";
import { loadWorkflowText } from "@keel/core/runner/load";
import { runText, stepOf } from "./harness";

const TURNS = JSON.stringify([
  {
    turn: 1,
    tool_calls: [{ name: "search", args: { q: "refunds" }, status: "succeeded", output: ["p1"] }],
    usage: { input_tokens: 12, output_tokens: 4 },
  },
  {
    turn: 2,
    tool_calls: [
      { name: "fetch_page", args: { url: "p1" }, status: "succeeded", output: "30 days" },
      { name: "refund", args: {}, status: "invalid_arguments", output: null },
    ],
    usage: { input_tokens: 30, output_tokens: 9 },
  },
  { turn: 3, tool_calls: [], usage: { input_tokens: 44, output_tokens: 20 } },
]);

const workflow = (checks: string, more = "") => `keel: 1
name: trajectory
inputs:
  mode: { type: string, default: superset }
steps:
  research:
    type: transform
    expr: >-
      {"output": "30 days", "status": "succeeded", "stop_reason": "answered", "turns": ${TURNS}}
  check:
    type: assert
    that:
${checks
  .trim()
  .split("\n")
  .map((c) => `      - ${c}`)
  .join("\n")}
${more}`;

const PASSING = `
'$trajectory(steps.research.output, ["search", "fetch_page", "refund"])'
'$trajectory(steps.research.output.turns, ["refund", "search", "fetch_page"], "unordered")'
'$trajectory(steps.research.output, ["search", "fetch_page", "refund", "escalate"], "subset")'
'$trajectory(steps.research.output, ["fetch_page"], inputs.mode)'
`;

test("an assert step passes with $trajectory checks over a stand-in agent's turns, in every mode", async () => {
  const run = await runText(workflow(PASSING));
  assert.equal(run.result.status, "succeeded", run.result.error ?? "");
  assert.equal(stepOf(run, "check").status, "succeeded");
});

test("a $trajectory check that does not hold fails the assert step; its message can show the trajectory", async () => {
  const run = await runText(
    workflow(
      `'$trajectory(steps.research.output, ["search", "fetch_page"], "subset")'`,
      "    message: \"called ${{ $join(steps.research.output.turns.tool_calls.name, ', ') }}\"\n",
    ),
  );
  assert.equal(run.result.status, "failed");
  assert.deepEqual(stepOf(run, "check").error, {
    kind: "assertion",
    message: "assertion failed: called search, fetch_page, refund",
  });
});

test("a mode that is wrong only at run time fails the step with an error naming $trajectory and the fix", async () => {
  const run = await runText(
    workflow(`'$trajectory(steps.research.output, ["search"], inputs.mode)'`),
    { inputs: { mode: "any" } },
  );
  assert.equal(run.result.status, "failed");
  const error = stepOf(run, "check").error!;
  assert.match(
    error.message,
    /\$trajectory's mode must be "strict", "unordered", "subset" or "superset", not "any": write `\$trajectory\(steps.<id>, \["search", "fetch_page"\], "subset"\)`/,
  );
});

test("a replay computes the assertion again: the record passes, an edited expectation diverges at the check", async () => {
  const run = await runText(workflow(PASSING));
  const record = (await readRecordedRun(run.store, run.result.runId))!;
  const replay = async (text: string) => {
    const loaded = loadWorkflowText(record.run.workflowPath, text);
    if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join("; "));
    return replayRun(record, loaded.loaded);
  };
  const same = await replay(record.source);
  assert.equal(same.divergence, null);
  assert.equal(same.effectsExecuted, 0);
  const stricter = await replay(
    workflow(`'$trajectory(steps.research.output, ["search", "fetch_page"], "subset")'`),
  );
  assert.equal(stricter.status, "failed");
  assert.equal(stricter.divergence?.step, "check");
  // An edited check that holds: the text differs from the record, but the replay succeeds.
  const other = await replay(
    workflow(`'$trajectory(steps.research.output, ["search", "refund"], "superset")'`),
  );
  assert.equal(other.status, "succeeded");
  assert.equal(other.divergence?.field, "that");
});

const AGENT_TOOLS = {
  "tools.mjs": `
export async function search(args) { return ["page-" + args.query]; }
export async function fetch_page(args) { return "text of " + args.url; }
`,
};

const AGENT = `keel: 1
name: agent-trajectory
providers:
  model:
    type: scripted
    responses:
      - turn: 1
        tool_calls: [{ name: search, arguments: { query: refunds } }]
      - turn: 2
        tool_calls:
          - { name: fetch_page, arguments: { url: page-refunds } }
          - { name: refund, arguments: { order: 7 } }
      - turn: 3
        reply: Refunds take 30 days.
steps:
  research:
    type: agent
    prompt: How long do refunds take?
    max_turns: 4
    tools:
      search:
        uses: ./tools.mjs#search
        parameters: { type: object, required: [query], properties: { query: { type: string } } }
      fetch_page:
        uses: ./tools.mjs#fetch_page
        parameters: { type: object, required: [url], properties: { url: { type: string } } }
  check:
    type: assert
    that:
      - '$trajectory(steps.research, ["search", "fetch_page", "refund"])'
      - '$trajectory(steps.research, ["search", "fetch_page", "refund"], "unordered")'
      - '$not($trajectory(steps.research, ["search", "fetch_page"], "subset"))'
      - '$trajectory(steps.research.turns, ["fetch_page"], "superset")'
`;

test("on an agent step: its tool calls, the one to an unknown tool included, are checked live and in a replay with no live call", async () => {
  const run = await runText(AGENT, { files: AGENT_TOOLS });
  assert.equal(run.result.status, "succeeded", run.result.error ?? "");
  assert.equal(stepOf(run, "check").status, "succeeded");
  const record = (await readRecordedRun(run.store, run.result.runId))!;
  const loaded = loadWorkflowText(record.run.workflowPath, record.source);
  assert.ok(loaded.ok);
  const replay = await replayRun(record, loaded.loaded);
  assert.equal(replay.divergence, null);
  assert.equal(replay.effectsExecuted, 0);
  assert.equal(replay.status, "succeeded");
});
