// The replay debugger over a recorded agent run (docs/debugger.md, "Agents"): an agent's event
// shows its tool call's frame, its turn's, then the agent's; Variables have a Turn scope (the
// conversation, paged, the reply, usage) and a Tool call scope (args, resolved input, output,
// error); function breakpoints name a tool (`research:refund`, `refund`); conditions read `turn`,
// `tool`, `call` and `args`; Step Into and Step Out move through turns and calls. Over the real
// adapter, on a run of a scripted agent.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { DebugClient } from "@vscode/debugadapter-testsupport";
import type { DebugProtocol } from "@vscode/debugprotocol";
import type { EventRecord } from "@keel/core/record/records";
import {
  moveBy,
  named,
  recordRun,
  Sessions,
  stopAfter,
  variables,
  type Config,
  type Recorded,
} from "./harness";

const TOOLS = {
  "tools.mjs": `
export async function search(args) { return { hits: ["doc-" + args.query] }; }
export async function refund(args) { return { refunded: args.amount }; }
`,
};

const TOOL_DEFS = `    tools:
      search:
        uses: ./tools.mjs#search
        parameters: { type: object, required: [query], properties: { query: { type: string } } }
      refund:
        uses: ./tools.mjs#refund
        parameters: { type: object, required: [amount], properties: { amount: { type: number } } }
`;

/**
 * Turn 1 searches twice, turn 2 refunds 50, turn 3 refunds 150 and calls a tool the agent does
 * not have (refused for its arguments), turn 4 answers.
 */
const FLOW = `keel: 1
name: support
providers:
  model:
    type: scripted
    responses:
      - turn: 1
        tool_calls:
          - { name: search, arguments: { query: order } }
          - { name: search, arguments: { query: policy } }
      - turn: 2
        tool_calls: [{ name: refund, arguments: { amount: 50 } }]
      - turn: 3
        tool_calls:
          - { name: refund, arguments: { amount: 150 } }
          - { name: lookup, arguments: { id: 7 } }
      - turn: 4
        reply: Refunded.
steps:
  question:
    type: transform
    expr: '"Where is my refund?"'
  research:
    type: agent
    provider: model
    prompt: "\${{ steps.question.output }}"
    max_turns: 6
${TOOL_DEFS}`;

/** The one-based line of a step's key in a workflow's text. */
const keyLine = (text: string, id: string) => text.split("\n").indexOf(`  ${id}:`) + 1;

/** The agent's recorded run, its workflow file's path and its log. */
let run: Recorded;
let path: string;
let events: EventRecord[];
const sessions = new Sessions();

before(async () => {
  run = await recordRun(FLOW, TOOLS);
  ({ path, events } = run);
});
after(() => sessions.close());

const open = (config: Config = {}) =>
  sessions.open(run.store, { runId: run.runId, workflow: path }, config);

/** The event of `type` on step `stepId` with `scope` in a log. */
function find(log: EventRecord[], type: string, stepId: string, scope: string | null = null) {
  const e = log.find((x) => x.type === type && x.stepId === stepId && x.scope === scope);
  assert.ok(e, `no ${type} of ${stepId}${scope ?? ""}`);
  return e;
}

const goto = (dc: DebugClient, seq: number) =>
  stopAfter(dc, () => dc.customRequest("keel/goto", { seq }));

const trace = async (dc: DebugClient, threadId = 1) =>
  (await dc.stackTraceRequest({ threadId })).body.stackFrames;

/** `event 12 · research#3/refund.0 · started` */
const at = (type: string, scope: string | null, label = "started") =>
  `event ${find(events, type, "research", scope).seq} · research${scope ?? ""} · ${label}`;

test("an agent's event shows the tool call's frame, the turn's, then the agent's and its upstream, on the run's thread; turns and calls have no threads", async () => {
  const { dc } = await open();
  const stop = await goto(dc, find(events, "step_started", "research", "#3/refund.0").seq);
  assert.equal(stop.body.threadId, 1);
  assert.deepEqual(
    (await dc.threadsRequest()).body.threads.map((t) => t.id),
    [1],
  );
  const frames = await trace(dc);
  const line = keyLine(FLOW, "research");
  assert.deepEqual(
    frames.map((f) => [f.name, f.line, f.source?.path]),
    [
      ["research · turn 3 · call refund.0 · started", line, path],
      ["research · turn 3 · succeeded", line, path],
      ["research · running", line, path],
      ["question · succeeded", keyLine(FLOW, "question"), path],
    ],
  );
  // A turn's event: its frame, then the agent's.
  await goto(dc, find(events, "step_started", "research", "#2").seq);
  assert.deepEqual(
    (await trace(dc)).map((f) => f.name),
    ["research · turn 2 · started", "research · running", "question · succeeded"],
  );
  // Restart Frame on the turn's frame of a call goes to the turn's first event.
  await goto(dc, find(events, "step_succeeded", "research", "#1/search.1").seq);
  const [, turn] = await trace(dc);
  assert.equal(turn!.name, "research · turn 1 · succeeded");
  const restarted = await stopAfter(dc, () => dc.restartFrameRequest({ frameId: turn!.id }));
  assert.equal(restarted.body.description, at("step_started", "#1"));
});

test("a tool call's frame has a Tool call scope (args, resolved input, output, error) and a Turn scope (the conversation, paged, the reply, usage); evaluate sees them", async () => {
  const { dc } = await open();
  await goto(dc, find(events, "step_succeeded", "research", "#3/refund.0").seq);
  const [top] = await trace(dc);
  const scopes = (await dc.scopesRequest({ frameId: top!.id })).body.scopes;
  assert.deepEqual(
    scopes.map((s) => s.name),
    ["Tool call research#3/refund.0", "Turn research#3", "Step research", "Run"],
  );

  const call = await named(dc, scopes[0]!.variablesReference);
  assert.deepEqual(
    [...call.keys()],
    ["call", "tool", "args", "status", "input", "output", "error", "attempts"],
  );
  assert.equal(call.get("call")?.value, '"refund.0"');
  assert.equal(call.get("tool")?.value, '"refund"');
  const args = await named(dc, call.get("args")!.variablesReference);
  assert.equal(args.get("amount")?.value, "150");
  assert.equal(args.get("amount")?.evaluateName, "args.amount");
  const input = await named(dc, call.get("input")!.variablesReference);
  assert.equal(input.get("uses")?.value, '"./tools.mjs#refund"');
  const output = await named(dc, call.get("output")!.variablesReference);
  assert.equal(output.get("refunded")?.value, "150");
  assert.equal(call.get("error")?.value, "null");
  assert.equal(call.get("status")?.value, '"succeeded"');

  const turn = await named(dc, scopes[1]!.variablesReference);
  assert.equal(turn.get("turn")?.value, "3");
  // The conversation the model was sent at turn 3: the question, then turn 1's call and its two
  // results, turn 2's call and its result.
  const conversation = turn.get("conversation")!;
  assert.equal(conversation.indexedVariables, 6);
  assert.equal(conversation.evaluateName, "conversation");
  // Paged: a client asks for a window of the messages.
  const page = await variables(dc, conversation.variablesReference, { start: 2, count: 2 });
  assert.deepEqual(
    page.map((v) => [v.name, v.evaluateName]),
    [
      ["[2]", "conversation[2]"],
      ["[3]", "conversation[3]"],
    ],
  );
  const third = await named(dc, page[0]!.variablesReference);
  assert.equal(third.get("role")?.value, '"tool"');
  assert.equal(
    third.get("content")?.value,
    JSON.stringify(JSON.stringify({ hits: ["doc-order"] })),
  );
  // The reply: the calls the model asked for, arguments as sent.
  const reply = await named(dc, turn.get("reply")!.variablesReference);
  const calls = await variables(dc, reply.get("tool_calls")!.variablesReference);
  assert.equal(calls.length, 2);
  const first = await named(dc, calls[0]!.variablesReference);
  assert.equal(first.get("name")?.value, '"refund"');
  assert.equal(first.get("arguments")?.value, JSON.stringify('{"amount":150}'));
  const usage = await named(dc, turn.get("usage")!.variablesReference);
  assert.match(usage.get("input")?.value ?? "", /^\d+$/);
  assert.equal(turn.get("cost")?.value, "null");

  // Watch and the Debug Console see both scopes' names on the call's frame.
  const evaluated = await dc.evaluateRequest({
    expression:
      'args.amount * 2 & " " & tool & " " & $string(turn) & " " & conversation[0].content',
    frameId: top!.id,
  });
  assert.equal(evaluated.body.result, '"300 refund 3 Where is my refund?"');

  // A call refused for its arguments (a tool the agent does not have): its error, no input.
  await goto(dc, find(events, "step_failed", "research", "#3/lookup.1").seq);
  const [refusedFrame] = await trace(dc);
  assert.equal(
    refusedFrame!.name,
    "research · turn 3 · call lookup.1 · failed (invalid_arguments)",
  );
  const refused = await named(
    dc,
    (await dc.scopesRequest({ frameId: refusedFrame!.id })).body.scopes[0]!.variablesReference,
  );
  assert.equal(refused.get("tool")?.value, '"lookup"');
  assert.equal(refused.get("input")?.value, "null");
  assert.equal((await named(dc, refused.get("args")!.variablesReference)).get("id")?.value, "7");
  const error = await named(dc, refused.get("error")!.variablesReference);
  assert.equal(error.get("kind")?.value, '"invalid_arguments"');
  assert.match(error.get("message")?.value ?? "", /there is no tool 'lookup'/);

  // A turn's frame: the Turn scope alone above the step's; before the turn ended, no reply yet.
  await goto(dc, find(events, "step_started", "research", "#4").seq);
  const [turnFrame] = await trace(dc);
  const turnScopes = (await dc.scopesRequest({ frameId: turnFrame!.id })).body.scopes;
  assert.deepEqual(
    turnScopes.map((s) => s.name),
    ["Turn research#4", "Step research", "Run"],
  );
  const four = await named(dc, turnScopes[0]!.variablesReference);
  assert.equal(four.get("reply")?.value, "null");
  assert.equal(four.get("conversation")?.indexedVariables, 9);
});

test("a function breakpoint on a tool stops where the agent calls it: research:refund, or refund alone; a name that is no step nor tool is refused", async () => {
  const { dc, functions } = await open({
    functions: ["research:refund", "research:nope", "question:refund", "nope"],
  });
  assert.deepEqual(
    functions.map((b) => b.verified),
    [true, false, false, false],
  );
  assert.equal(functions[0]!.line, keyLine(FLOW, "research"));
  assert.match(
    functions[1]!.message ?? "",
    /agent 'research' has no tool 'nope' \(its tools: search, refund\)/,
  );
  assert.match(functions[2]!.message ?? "", /'question' is not an agent step/);
  assert.match(
    functions[3]!.message ?? "",
    /no step 'nope' in this run, nor a tool of an agent step/,
  );

  const stop = await moveBy(dc, "continue");
  assert.equal(stop.body.reason, "function breakpoint");
  assert.deepEqual(stop.body.hitBreakpointIds, [functions[0]!.id]);
  assert.equal(stop.body.description, at("step_started", "#2/refund.0"));
  assert.equal((await moveBy(dc, "continue")).body.description, at("step_started", "#3/refund.0"));
  assert.equal((await moveBy(dc, "continue")).body.description, "end of recording");
  assert.equal(
    (await moveBy(dc, "reverseContinue")).body.description,
    at("step_started", "#3/refund.0"),
  );

  // A tool's name alone; a tool the model made up is one too (it is in the record).
  await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: "refund" }, { name: "lookup" }] });
  await goto(dc, 1);
  assert.equal((await moveBy(dc, "continue")).body.description, at("step_started", "#2/refund.0"));
  await goto(dc, find(events, "step_started", "research", "#3/refund.0").seq);
  assert.equal((await moveBy(dc, "continue")).body.description, at("step_started", "#3/lookup.1"));

  // A hit count on a tool counts that tool's calls only.
  await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: "search", hitCondition: "2" }] });
  await goto(dc, 1);
  assert.equal((await moveBy(dc, "continue")).body.description, at("step_started", "#1/search.1"));
});

test("conditions read a tool call's args and the turn: args.amount > 100 on a tool, turn > 2 on the agent's line", async () => {
  const { dc } = await open();
  const set = (b: DebugProtocol.FunctionBreakpoint[]) =>
    dc.setFunctionBreakpointsRequest({ breakpoints: b });
  await set([{ name: "research:refund", condition: "args.amount > 100" }]);
  assert.equal((await moveBy(dc, "continue")).body.description, at("step_started", "#3/refund.0"));
  assert.equal((await moveBy(dc, "continue")).body.description, "end of recording");

  // On the agent: where it begins and where each turn and call begins; `turn` narrows it.
  await set([]);
  const line = await dc.setBreakpointsRequest({
    source: { path },
    breakpoints: [{ line: keyLine(FLOW, "research"), condition: "turn > 2" }],
  });
  assert.equal(line.body.breakpoints[0]!.verified, true);
  await goto(dc, 1);
  assert.equal((await moveBy(dc, "continue")).body.description, at("step_started", "#3"));
  assert.equal((await moveBy(dc, "continue")).body.description, at("step_started", "#3/refund.0"));

  // `tool` and `call` name the call; `args` of a turn's own event is undefined.
  await dc.setBreakpointsRequest({ source: { path }, breakpoints: [] });
  await set([{ name: "research", condition: 'tool = "search" and call = "search.1"' }]);
  await goto(dc, 1);
  assert.equal((await moveBy(dc, "continue")).body.description, at("step_started", "#1/search.1"));
  await set([{ name: "research", condition: "$exists(args) = false and turn = 4" }]);
  await goto(dc, 1);
  assert.equal((await moveBy(dc, "continue")).body.description, at("step_started", "#4"));
});

test("Step Into enters turn 1 from the agent's start, a turn's calls from its end, and the next call or turn after a call; Step Out leaves a call for the next turn and a turn for the agent's end", async () => {
  const { dc } = await open();
  await goto(dc, find(events, "step_started", "research").seq);
  const into = async () => (await moveBy(dc, "stepIn")).body.description;
  assert.equal(await into(), at("step_started", "#1"));
  assert.equal(await into(), at("step_succeeded", "#1", "succeeded"));
  assert.equal(await into(), at("step_started", "#1/search.0"));
  assert.equal(await into(), at("step_succeeded", "#1/search.0", "succeeded"));
  assert.equal(await into(), at("step_started", "#1/search.1"));
  const out = async () => (await moveBy(dc, "stepOut")).body.description;
  assert.equal(await out(), at("step_started", "#2"));
  assert.equal(await out(), at("step_succeeded", null, "succeeded"));
});

test("an agent in a map: its turns and calls are on the item's thread, below them the item's frame and the map step's; conditions read key and turn", async () => {
  const flow = `keel: 1
name: per_order
providers:
  model:
    type: scripted
    responses:
      - turn: 1
        tool_calls: [{ name: search, arguments: { query: order } }]
      - turn: 2
        reply: Found.
steps:
  research:
    type: agent
    provider: model
    for_each: '["a", "b"]'
    key: item
    concurrency: 1
    prompt: "Look up \${{ item }}"
    max_turns: 3
${TOOL_DEFS}`;
  const map = await recordRun(flow, TOOLS);
  const { dc } = await sessions.open(map.store, { runId: map.runId, workflow: map.path });
  const call = find(map.events, "step_started", "research", "[b]#1/search.0");
  const stop = await goto(dc, call.seq);
  const threads = new Map((await dc.threadsRequest()).body.threads.map((t) => [t.name, t.id]));
  assert.deepEqual([...threads.keys()], [`run ${map.runId} (replay)`, "research[b] (item 2 of 2)"]);
  assert.equal(stop.body.threadId, threads.get("research[b] (item 2 of 2)"));
  const frames = await trace(dc, stop.body.threadId);
  assert.deepEqual(
    frames.map((f) => f.name),
    [
      "research[b] · turn 1 · call search.0 · started",
      "research[b] · turn 1 · succeeded",
      "research[b] · running",
      "research · running",
    ],
  );
  const scopes = (await dc.scopesRequest({ frameId: frames[0]!.id })).body.scopes;
  assert.deepEqual(
    scopes.map((s) => s.name),
    [
      "Tool call research[b]#1/search.0",
      "Turn research[b]#1",
      "Item research[b]",
      "Step research",
      "Run",
    ],
  );
  const evaluated = await dc.evaluateRequest({
    expression: 'key & " " & conversation[0].content & " " & args.query',
    frameId: frames[0]!.id,
  });
  assert.equal(evaluated.body.result, '"b Look up b order"');

  await dc.setFunctionBreakpointsRequest({
    breakpoints: [{ name: "research", condition: 'key = "b" and turn = 2' }],
  });
  await goto(dc, 1);
  const hit = await moveBy(dc, "continue");
  assert.equal(
    hit.body.description,
    `event ${find(map.events, "step_started", "research", "[b]#2").seq} · research[b]#2 · started`,
  );
  // Step Into from the item's start enters its turn 1.
  await goto(dc, find(map.events, "step_started", "research", "[a]").seq);
  assert.equal(
    (await moveBy(dc, "stepIn")).body.description,
    `event ${find(map.events, "step_started", "research", "[a]#1").seq} · research[a]#1 · started`,
  );
});

test("a workflow tool's child run shows above its call's frame while in flight, and Step Into the call enters it; Step Out of it lands at the call's end", async () => {
  const child = `keel: 1
name: lookup
inputs:
  id: { type: number }
steps:
  find:
    type: transform
    expr: '{"order": inputs.id, "status": "shipped"}'
outputs:
  order: steps.find.output
`;
  const flow = `keel: 1
name: with_child
providers:
  model:
    type: scripted
    responses:
      - turn: 1
        tool_calls: [{ name: lookup, arguments: { id: 7 } }]
      - turn: 2
        reply: Shipped.
steps:
  research:
    type: agent
    provider: model
    prompt: Where is order 7?
    max_turns: 3
    tools:
      lookup:
        workflow: ./lookup.keel.yaml
        parameters: { type: object, required: [id], properties: { id: { type: number } } }
`;
  const rec = await recordRun(flow, { "lookup.keel.yaml": child });
  const { dc } = await sessions.open(rec.store, { runId: rec.runId, workflow: rec.path });
  const started = find(rec.events, "child_started", "research", "#1/lookup.0");
  await goto(dc, started.seq);
  const frames = await trace(dc);
  assert.deepEqual(
    frames.map((f) => f.name),
    [
      "research#1/lookup.0 › find · started",
      `research · turn 1 · call lookup.0 · child run ${String(started.data?.childRun)} started`,
      "research · turn 1 · succeeded",
      "research · running",
    ],
  );

  await goto(dc, find(rec.events, "step_started", "research", "#1/lookup.0").seq);
  const into = await moveBy(dc, "stepIn");
  assert.match(into.body.description ?? "", /^research#1\/lookup\.0 › event \d+ · find · started$/);
  const [top] = await trace(dc);
  assert.equal(top!.name, "research#1/lookup.0 › find · started");
  await moveBy(dc, "stepOut");
  const out = await moveBy(dc, "stepOut");
  assert.equal(
    out.body.description,
    `event ${find(rec.events, "step_succeeded", "research", "#1/lookup.0").seq} · research#1/lookup.0 · succeeded`,
  );
});
