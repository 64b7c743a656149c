// An agent step as the CLI shows it (docs/cli.md, docs/replay.md "Agents"): `keel show` of the
// run (turns, tool calls, cost, stop reason, the workflow tool's child run), of the agent (its
// turns and calls, the answer, stop_reason), of one turn and one call, their --json; `keel
// replay`, `keel rerun --from agent#t --set agent#t/tool.i`, and a golden file through `keel
// export` and `keel test`. The built CLI in a child process, offline on a scripted model, except
// the cost, which needs a priced model: the provider test server's.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ReplayResult, ShowRun, ShowStep } from "@keel/core/protocol/cli";
import { keel, keelAsync, workspace } from "../helpers/cli";
import { startProviderServer, type ProviderServer } from "../helpers/provider-server";

/** A support agent: three tools (two JS functions, one a child workflow); turn 4 answers. */
const FLOW = `keel: 1
name: support
inputs:
  question: { type: string, default: "My order 1042 arrived broken." }
providers:
  model:
    type: scripted
    responses:
      - turn: 1
        tool_calls: [{ name: lookup_order, arguments: { order_id: "1042" } }]
      - turn: 2
        tool_calls: [{ name: refund_policy, arguments: { state: delivered, damaged: true } }]
      - turn: 3
        tool_calls: [{ name: draft_reply, arguments: { facts: "Your cups arrived broken." } }]
      - { turn: 4, match: '"refund":false', reply: { reply: "No refund, sorry.", refund: false } }
      - { turn: 4, reply: { reply: "Refunded in full.", refund: true } }
steps:
  support:
    type: agent
    system: You are the support agent of a web shop.
    prompt: "A customer writes: \${{ inputs.question }}"
    max_turns: 6
    tools:
      lookup_order:
        description: Find an order by its number.
        uses: ./tools.mjs#lookupOrder
        parameters: { type: object, required: [order_id], properties: { order_id: { type: string } } }
      refund_policy:
        description: Whether an order may be refunded.
        uses: ./tools.mjs#refundPolicy
        parameters:
          type: object
          required: [state]
          properties: { state: { type: string }, damaged: { type: boolean } }
      draft_reply:
        workflow: ./draft.keel.yaml
    output:
      format: json
      schema:
        type: object
        required: [reply, refund]
        properties: { reply: { type: string }, refund: { type: boolean } }
outputs:
  refund: steps.support.output.refund
`;
const DRAFT = `keel: 1
name: draft
description: Draft a reply.
inputs:
  facts: { type: string, description: What the reply says. }
steps:
  draft:
    type: transform
    expr: '"Hello. " & inputs.facts'
outputs:
  reply: steps.draft.output
`;
const TOOLS = `export function lookupOrder({ order_id }) {
  console.log("looking up " + order_id);
  return { order_id, state: "delivered" };
}
export function refundPolicy({ state, damaged }) {
  return { refund: state === "delivered" && damaged === true, why: "damaged on arrival" };
}
`;

/** A research agent with one tool, `search`, and the one provider `providers` declares. */
function research(providers: string, maxTurns: number): Record<string, string> {
  const flow = `keel: 1
name: research
providers:
${providers}steps:
  research:
    type: agent
    prompt: Why are there tides?
    max_turns: ${maxTurns}
    tools:
      search:
        uses: ./tools.mjs#search
        parameters: { type: object, required: [query], properties: { query: { type: string } } }
`;
  return {
    "flow.keel.yaml": flow,
    "tools.mjs": "export const search = ({ query }) => ['page-' + query];\n",
  };
}

let dir: string;
let runId: string;
let childRun: string;
before(() => {
  dir = workspace({ "flow.keel.yaml": FLOW, "draft.keel.yaml": DRAFT, "tools.mjs": TOOLS });
  const run = keel(["run", "flow.keel.yaml"], dir);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  runId = /^run (\S+) succeeded/m.exec(run.stdout)![1]!;
});

function ok(args: string[], code = 0): string {
  const r = keel(args, dir);
  assert.equal(r.code, code, `keel ${args.join(" ")}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

test("keel show <run>: the agent's line counts turns and tool calls and names its workflow tool's child run", () => {
  const out = ok(["show", runId]);
  const m = /^ {2}support +succeeded +\S+ {2}4 turns · 3 tool calls, child run (\S+)$/m.exec(out);
  assert.ok(m, out);
  childRun = m[1]!;
  assert.doesNotMatch(m[0], /iteration|stop_reason/, "no iterations; an answer has no stop reason");
  // The child run is the one the draft_reply call started.
  assert.match(ok(["show", childRun]), new RegExp(`started by support#3/draft_reply\\.0`));

  const json = ShowRun.parse(JSON.parse(ok(["show", runId, "--json"])));
  const step = json.steps.find((s) => s.id === "support")!;
  assert.deepEqual(step.agent, { turns: 4, toolCalls: 3, costUsd: null, stopReason: "answer" });
  assert.equal(step.iterations, null);
  assert.deepEqual(step.childRuns, [childRun]);
});

test("keel show <run> <agent>: its turns in order with their calls, the answer and stop_reason", () => {
  const out = ok(["show", runId, "support"]);
  const turns = out.split("\n").filter((l) => /^ {2}#\d/.test(l));
  assert.deepEqual(
    turns.map((l) => l.split(/\s+/).slice(1, 3)),
    [
      ["#1", "succeeded"],
      ["#2", "succeeded"],
      ["#3", "succeeded"],
      ["#4", "succeeded"],
    ],
  );
  assert.match(turns[0]!, /\d+ tokens in, \d+ out$/);
  assert.match(turns[3]!, /the answer$/);
  assert.match(out, /^ {6}lookup_order\.0 +succeeded +\d+ms$/m);
  assert.match(
    out,
    new RegExp(`^ {6}draft_reply\\.0 +succeeded +\\d+ms  child run ${childRun}$`, "m"),
  );
  assert.match(out, /^answer:\n {2}\{\n {4}"reply": "Refunded in full\.",/m);
  assert.match(out, /^stop_reason: answer$/m);
  assert.match(out, new RegExp(`keel show ${runId} 'support#1/lookup_order\\.0'`));
  assert.doesNotMatch(out, /iteration/);

  const json = ShowStep.parse(JSON.parse(ok(["show", runId, "support", "--json"])));
  assert.equal(json.iterations, null);
  assert.deepEqual(
    json.turns!.map((t) => [
      t.unit,
      t.asked,
      t.calls.map((c) => `${c.unit} ${c.name} ${c.status}`),
    ]),
    [
      ["support#1", 1, ["support#1/lookup_order.0 lookup_order succeeded"]],
      ["support#2", 1, ["support#2/refund_policy.0 refund_policy succeeded"]],
      ["support#3", 1, ["support#3/draft_reply.0 draft_reply succeeded"]],
      ["support#4", 0, []],
    ],
  );
  assert.equal(json.turns![2]!.calls[0]!.childRun, childRun);
  assert.deepEqual(json.agent, { turns: 4, toolCalls: 3, costUsd: null, stopReason: "answer" });
  assert.deepEqual(json.output, { reply: "Refunded in full.", refund: true });
});

test("keel show <run> 'support#2' and 'support#2/refund_policy.0': a turn's conversation, tools and reply; a call's arguments, input, output and log", () => {
  const turn = ok(["show", runId, "support#2"]);
  assert.match(turn, /^support#2 {2}agent {2}turn 2 {2}succeeded/);
  assert.match(turn, /^ {2}system +You are the support agent of a web shop\.$/m);
  assert.match(turn, /^ {2}user +A customer writes: My order 1042 arrived broken\.$/m);
  assert.match(turn, /^ {2}assistant +calls lookup_order\.0 \{"order_id":"1042"\}$/m);
  assert.match(turn, /^ {2}tool +lookup_order\.0: \{"order_id":"1042","state":"delivered"\}$/m);
  assert.match(
    turn,
    /^ {2}refund_policy +\(state, damaged\) +Whether an order may be refunded\.$/m,
  );
  assert.match(turn, /^ {2}draft_reply +\(facts\) +Draft a reply\.$/m);
  assert.match(
    turn,
    /^reply:\n {2}calls refund_policy\.0 \{"state":"delivered","damaged":true\}$/m,
  );
  assert.match(turn, /^tool calls:\n {2}refund_policy\.0 +succeeded/m);
  const turnJson = ShowStep.parse(JSON.parse(ok(["show", runId, "support#2", "--json"])));
  assert.equal(turnJson.turn?.turn, 2);
  assert.deepEqual(
    turnJson.turn?.calls.map((c) => c.unit),
    ["support#2/refund_policy.0"],
  );

  const call = ok(["show", runId, "support#1/lookup_order.0"]);
  assert.match(
    call,
    /^support#1\/lookup_order\.0 {2}agent {2}turn 1, call lookup_order\.0 {2}succeeded/,
  );
  assert.match(
    call,
    /^arguments \(as the model sent them\):\n {2}\{\n {4}"order_id": "1042"\n {2}\}$/m,
  );
  assert.match(call, /^input:\n/m);
  assert.match(call, /^output:\n {2}\{\n {4}"order_id": "1042",/m);
  assert.match(call, /^ {2}printed:\n {4}looking up 1042$/m);
  const callJson = ShowStep.parse(
    JSON.parse(ok(["show", runId, "support#1/lookup_order.0", "--json"])),
  );
  assert.deepEqual(callJson.call, {
    turn: 1,
    index: 0,
    name: "lookup_order",
    arguments: '{"order_id":"1042"}',
  });
});

test("a turn or call the agent does not have is bad usage, with the closest and what it ran", () => {
  const call = keel(["show", runId, "support#2/refund.0"], dir);
  assert.equal(call.code, 2);
  assert.match(
    call.stderr,
    new RegExp(
      `has no tool call 'support#2/refund\\.0': did you mean 'support#2/refund_policy\\.0'\\? \\(keel show ${runId} support lists its 4 turns and 3 tool calls\\)`,
    ),
  );
  const typo = keel(["show", runId, "support#3/draft_rpely.0"], dir);
  assert.match(typo.stderr, /did you mean 'support#3\/draft_reply\.0'\?/);
  const turn = keel(["show", runId, "support#9"], dir);
  assert.equal(turn.code, 2);
  assert.match(turn.stderr, /has no turn 'support#9' \(keel show \S+ support lists its 4 turns/);
});

test("refused calls and a max_turns failure: the calls' invalid_arguments, the turn that asked for more, stop_reason", () => {
  const w = workspace(
    research(
      `  model:
    type: scripted
    responses:
      - turn: 1
        tool_calls:
          - { name: search, arguments: { query: 42 } }
          - { name: serach, arguments: { query: tides } }
          - { name: search, arguments: '{"query": tides' }
          - { name: search, arguments: { query: tides } }
      - turn: 2
        tool_calls: [{ name: search, arguments: { query: moon } }]
`,
      2,
    ),
  );
  assert.equal(keel(["run", "flow.keel.yaml"], w).code, 1);
  const run = keel(["show", "latest"], w).stdout;
  assert.match(
    run,
    /^ {2}research +failed +\S+ {2}2 turns · 4 tool calls, stop_reason max_turns, max_turns: /m,
  );
  const step = keel(["show", "latest", "research"], w).stdout;
  assert.match(
    step,
    /^ {6}search\.0 +failed +\d+ms {2}invalid_arguments: the arguments of search do not fit/m,
  );
  assert.match(
    step,
    /^ {6}serach\.1 +failed +\d+ms {2}invalid_arguments: there is no tool 'serach'/m,
  );
  assert.match(step, /^ {6}search\.2 +failed +\d+ms {2}invalid_arguments: /m);
  assert.match(step, /^ {6}search\.3 +succeeded/m);
  assert.match(step, /^ {2}#2 +succeeded +\S+ +.*asked for 1 tool call, not run$/m);
  assert.match(step, /^stop_reason: max_turns$/m);
  assert.doesNotMatch(step, /the answer/);
  const refused = keel(["show", "latest", "research#1/search.2"], w).stdout;
  assert.match(refused, /^arguments \(as the model sent them\):\n {2}\{"query": tides$/m);
  assert.match(refused, /refused before it ran \(no attempt\): the model was told the error/);
  const json = ShowStep.parse(JSON.parse(keel(["show", "latest", "research", "--json"], w).stdout));
  assert.equal(json.agent?.stopReason, "max_turns");
  assert.deepEqual(
    json.turns!.map((t) => [t.asked, t.calls.length]),
    [
      [4, 4],
      [1, 0],
    ],
  );
});

let server: ProviderServer;
before(async () => {
  server = await startProviderServer();
});
after(() => server.close());

test("the cost of an agent's turns: each turn's model call, and their sum on the run's line", async () => {
  const w = workspace(
    research(
      `  oa: { type: openai, model: gpt-4o-mini, base_url: "\${{ env.OA_URL }}", api_key: "\${{ secrets.KEY }}" }\n`,
      3,
    ),
  );
  server.script([
    {
      toolCalls: [{ name: "search", arguments: { query: "tides" } }],
      usage: { input: 1000, output: 100 },
    },
    { reply: "The moon.", usage: { input: 2000, output: 50 } },
  ]);
  const env = { OA_URL: server.openaiBaseURL, KEEL_SECRET_KEY: "sk-test" };
  const run = await keelAsync(["run", "flow.keel.yaml"], w, env);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  // gpt-4o-mini: $0.15 and $0.60 a million tokens in and out.
  const run1 = (1000 * 0.15 + 100 * 0.6) / 1e6;
  const run2 = (2000 * 0.15 + 50 * 0.6) / 1e6;
  const line = keel(["show", "latest"], w).stdout;
  assert.match(line, /^ {2}research +succeeded +\S+ {2}2 turns · 1 tool call · \$0\.0005$/m);
  const step = keel(["show", "latest", "research"], w).stdout;
  assert.match(step, /^ {2}#1 +succeeded +\S+ {2}1000 tokens in, 100 out, \$0\.0002$/m);
  assert.match(step, /^ {2}#2 +succeeded +\S+ {2}2000 tokens in, 50 out, \$0\.0003, the answer$/m);
  const json = ShowRun.parse(JSON.parse(keel(["show", "latest", "--json"], w).stdout));
  const cost = json.steps.find((s) => s.id === "research")!.agent!.costUsd!;
  assert.ok(Math.abs(cost - (run1 + run2)) < 1e-12, String(cost));
});

test("keel replay of an agent run: no divergence, 0 effects; a tool no longer offered is named with its turn", () => {
  assert.match(ok(["replay", runId]), /no divergence \(succeeded, 0 effects executed\)/);
  const json = ReplayResult.parse(JSON.parse(ok(["replay", runId, "--json"])));
  assert.equal(json.effectsExecuted, 0);

  const path = join(dir, "flow.keel.yaml");
  // The tools offered change: the turn says which is gone, its part said once.
  writeFileSync(path, FLOW.replace(/ {6}draft_reply:\n {8}workflow: \.\/draft\.keel\.yaml\n/, ""));
  try {
    const out = ok(["replay", runId, "--current"], 1);
    assert.match(
      out,
      /step support#1 \(tools\)\n {2}support, turn 1: tools differ \('draft_reply' is no longer offered\)/,
    );
  } finally {
    writeFileSync(path, FLOW);
  }
});

test("keel rerun --from 'support#3' --set 'support#2/refund_policy.0=…': turns 1-2 reused, the set result read by turn 3 on", () => {
  const r = keel(
    [
      "rerun",
      runId,
      "--from",
      "support#3",
      "--set",
      'support#2/refund_policy.0={"refund": false, "why": "x"}',
      "--yes",
    ],
    dir,
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /"refund": false/);
  // Its progress counts the reused calls with the live one.
  assert.match(r.stderr, /✓ +support +\S+ +4 turns · 3 tool calls$/m);
  const out = ok(["show", "latest", "support"]);
  assert.match(out, /^ {2}#1 +succeeded +reused$/m);
  assert.match(out, /^ {6}lookup_order\.0 +succeeded +reused$/m);
  assert.match(out, /^ {2}#2 +succeeded +reused$/m);
  assert.match(out, /^ {6}refund_policy\.0 +succeeded +reused$/m);
  assert.match(out, /^ {2}#3 +succeeded +\d+ms {2}\d+ tokens in/m);
  assert.match(out, /^ {2}#4 +succeeded +\d+ms {2}.*the answer$/m);
  assert.match(
    ok(["show", "latest", "support#2/refund_policy.0"]),
    /^output:\n {2}\{\n {4}"refund": false,\n {4}"why": "x"\n {2}\}$/m,
  );
  const turn = ok(["show", "latest", "support#2"]);
  assert.match(
    turn,
    new RegExp(`input: not sent in this run \\(reused: keel show ${runId} 'support#2'\\)`),
  );
  assert.match(turn, /^reply:\n {2}calls refund_policy\.0 /m);
});

test("keel export of the agent run, then keel test: passes, and fails after a prompt edit naming the turn", () => {
  writeFileSync(join(dir, "flow.keel-run.json"), ok(["export", runId]));
  assert.match(ok(["test"]), /^1 passed, 0 failed$/m);
  const path = join(dir, "flow.keel.yaml");
  writeFileSync(path, FLOW.replace("A customer writes:", "A customer wrote:"));
  try {
    const out = ok(["test"], 1);
    assert.match(
      out,
      /step support#1 \(prompt, messages\[0\]\.content\)\n {2}support, turn 1: prompt differs at messages\[0\]\.content/,
    );
    assert.match(out, /^ {4}- A customer writes: My order 1042 arrived broken\.$/m);
  } finally {
    writeFileSync(
      path,
      readFileSync(path, "utf8").replace("A customer wrote:", "A customer writes:"),
    );
  }
});
