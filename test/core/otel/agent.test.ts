// An agent's spans (docs/cli.md, "OpenTelemetry"; decisions in docs/dev/agents.md, "OpenTelemetry"):
// the step is `invoke_agent {id}`; below it, in call order, each turn's `chat {model}` span and the
// `execute_tool {tool}` spans of the calls it asked for, with their attempts; a refused call is
// an error without attempts; arguments and results only with content; a map's items are agents.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { buildSpans } from "@keel/core/otel/export";
import { agentScope, spansOfRun, type SpanSpec } from "@keel/core/otel/spans";
import { readRecordedRun } from "@keel/core/replay/record";
import { MemoryStore } from "@keel/core/store/memory-store";
import { runText } from "../runner/harness";

const TOOLS = {
  "tools.mjs": `
export async function search(args) { return { hits: ["doc-" + args.query] }; }
export async function fail() { throw new Error("the index is down at secret-shard-7"); }
`,
};

const SEARCH = `      search:
        description: Search the knowledge base.
        uses: ./tools.mjs#search
        parameters: { type: object, required: [query], properties: { query: { type: string } } }
`;

/** A workflow of one agent step `research` on a scripted provider (which names a model or not). */
function agentFlow(o: { model?: string; responses: string; step: string; tools: string }): string {
  return `keel: 1
name: agent
providers:
  model:
    type: scripted
${o.model ? `    model: ${o.model}\n` : ""}    responses:
${o.responses}steps:
  research:
    type: agent
${o.step}    tools:
${o.tools}`;
}

const FLOW = agentFlow({
  model: "tiny-1",
  responses: `      - turn: 1
        tool_calls:
          - { name: search, arguments: { query: keel } }
          - { name: search, arguments: "{not json" }
          - { name: fail, arguments: {} }
      - turn: 2
        match: doc-keel
        reply: Keel runs workflows.
`,
  step: `    description: Answers questions from the knowledge base.
    prompt: "Question: what is keel?"
    max_turns: 3
`,
  tools: `${SEARCH}      fail:
        uses: ./tools.mjs#fail
        parameters: { type: object }
        retry: { max_attempts: 2, initial: 1ms, on: [tool_error] }
`,
});

async function spansOf(store: MemoryStore, runId: string, content = false): Promise<SpanSpec> {
  const record = await readRecordedRun(store, runId);
  assert.ok(record);
  return spansOfRun(record, { content });
}

/** Every span of a tree, depth first, with its parent. */
function flatten(root: SpanSpec, parent: SpanSpec | null = null): [SpanSpec, SpanSpec | null][] {
  return [[root, parent], ...root.children.flatMap((c) => flatten(c, root))];
}

const row = (s: SpanSpec) => [
  s.name,
  s.kind,
  s.attributes["gen_ai.operation.name"],
  s.attributes["keel.scope"],
  s.attributes["keel.agent.turn"],
  s.attributes["keel.step.status"],
  s.error,
  s.children.map((c) => c.name),
];

test("an agent is invoke_agent with its turns' chat spans and their tool calls in call order, each with its attempts; a refused call is an error without attempts", async () => {
  const store = new MemoryStore();
  const { result } = await runText(FLOW, { store, files: TOOLS });
  assert.equal(result.status, "succeeded", result.error ?? "");
  const root = await spansOf(store, result.runId);
  assert.deepEqual(
    root.children.map((c) => c.name),
    ["invoke_agent research"],
  );
  const agent = root.children[0]!;
  assert.equal(agent.kind, "internal");
  assert.equal(agent.error, null);
  assert.deepEqual(agent.children.map(row), [
    ["chat tiny-1", "client", "chat", "#1", 1, "succeeded", null, ["attempt 1"]],
    [
      "execute_tool search",
      "internal",
      "execute_tool",
      "#1/search.0",
      1,
      "succeeded",
      null,
      ["attempt 1"],
    ],
    [
      "execute_tool search",
      "internal",
      "execute_tool",
      "#1/search.1",
      1,
      "failed",
      "invalid_arguments",
      [],
    ],
    [
      "execute_tool fail",
      "internal",
      "execute_tool",
      "#1/fail.2",
      1,
      "failed",
      "tool_error",
      ["attempt 1", "attempt 2"],
    ],
    ["chat tiny-1", "client", "chat", "#2", 2, "succeeded", null, ["attempt 1"]],
  ]);
  const [turn1, search, refused, fail, turn2] = agent.children;
  // The agent: who it is, its model, what its turns spent, how it ended.
  const a = agent.attributes;
  assert.equal(a["gen_ai.operation.name"], "invoke_agent");
  assert.equal(a["gen_ai.agent.name"], "research");
  assert.equal(a["gen_ai.agent.description"], "Answers questions from the knowledge base.");
  assert.equal(a["gen_ai.provider.name"], "keel.scripted");
  assert.equal(a["gen_ai.request.model"], "tiny-1");
  assert.equal(a["keel.step.id"], "research");
  assert.equal(a["keel.step.type"], "agent");
  assert.equal(a["keel.step.status"], "succeeded");
  assert.equal(a["keel.agent.turns"], 2);
  assert.equal(a["keel.agent.tool_calls"], 3);
  assert.equal(a["keel.agent.stop_reason"], "answer");
  for (const key of ["gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"]) {
    const t1 = turn1!.attributes[key] as number;
    const t2 = turn2!.attributes[key] as number;
    assert.ok(t1 > 0 && t2 > 0, key);
    assert.equal(a[key], t1 + t2, key);
  }
  // A turn is the model call: the llm attempt span's attributes, and the agent's name.
  assert.equal(turn1!.attributes["gen_ai.request.model"], "tiny-1");
  assert.equal(turn1!.attributes["gen_ai.response.model"], "tiny-1");
  assert.equal(turn1!.attributes["gen_ai.agent.name"], "research");
  assert.equal(turn1!.attributes["keel.step.id"], "research");
  // A tool call: its tool, type, call id from the turn's reply and description as offered.
  const s = search!.attributes;
  assert.equal(s["gen_ai.tool.name"], "search");
  assert.equal(s["gen_ai.tool.type"], "function");
  assert.equal(s["gen_ai.tool.call.id"], "call_1_0");
  assert.equal(s["gen_ai.tool.description"], "Search the knowledge base.");
  assert.equal(s["keel.tool.uses"], "./tools.mjs#search");
  assert.equal(s["gen_ai.agent.name"], "research");
  assert.equal(refused!.attributes["gen_ai.tool.call.id"], "call_1_1");
  assert.equal(refused!.attributes["error.type"], "invalid_arguments");
  assert.equal(refused!.attributes["keel.step.attempts"], 0);
  assert.deepEqual(
    fail!.children.map((c) => [c.attributes["keel.attempt.status"], c.attributes["error.type"]]),
    [
      ["failed", "tool_error"],
      ["failed", "tool_error"],
    ],
  );
  // Calls follow the model call that asked for them, inside the agent's span.
  for (const [span, parent] of flatten(root)) {
    assert.ok(span.startedAt <= span.endedAt, span.name);
    if (!parent) continue;
    assert.ok(parent.startedAt <= span.startedAt, `${span.name} in ${parent.name}`);
    assert.ok(span.endedAt <= parent.endedAt, `${span.name} in ${parent.name}`);
  }
  assert.ok(turn1!.endedAt <= search!.startedAt);
  assert.ok(fail!.endedAt <= turn2!.startedAt);
  // Without content: no arguments, results, messages or error messages anywhere.
  const text = JSON.stringify(flatten(root).map(([span]) => [span.attributes, span.error]));
  for (const secret of ['\\"query\\"', "doc-keel", "not json", "secret-shard-7", "what is keel"])
    assert.ok(!text.includes(secret), `'${secret}' is in the spans without content`);
  for (const [span] of flatten(root)) {
    for (const key of [
      "gen_ai.tool.call.arguments",
      "gen_ai.tool.call.result",
      "gen_ai.input.messages",
      "gen_ai.output.messages",
      "gen_ai.tool.definitions",
    ])
      assert.equal(span.attributes[key], undefined, `${key} on ${span.name}`);
  }
});

test("with content: a call's arguments as the model sent them and the result it was told; a turn's messages with its tool calls and results", async () => {
  const store = new MemoryStore();
  const { result } = await runText(FLOW, { store, files: TOOLS });
  const agent = (await spansOf(store, result.runId, true)).children[0]!;
  const [turn1, search, refused, fail, turn2] = agent.children;
  assert.equal(search!.attributes["gen_ai.tool.call.arguments"], '{"query":"keel"}');
  assert.equal(search!.attributes["gen_ai.tool.call.result"], '{"hits":["doc-keel"]}');
  assert.equal(refused!.attributes["gen_ai.tool.call.arguments"], "{not json");
  assert.equal(refused!.attributes["gen_ai.tool.call.result"], undefined);
  assert.match(refused!.error!, /^invalid_arguments: the arguments of search are not JSON/);
  assert.equal(fail!.attributes["gen_ai.tool.call.result"], undefined);
  assert.match(fail!.error!, /secret-shard-7/);
  assert.deepEqual(JSON.parse(String(turn1!.attributes["gen_ai.output.messages"])), [
    {
      role: "assistant",
      parts: [
        { type: "tool_call", id: "call_1_0", name: "search", arguments: { query: "keel" } },
        { type: "tool_call", id: "call_1_1", name: "search", arguments: "{not json" },
        { type: "tool_call", id: "call_1_2", name: "fail", arguments: {} },
      ],
      finish_reason: "tool_call",
    },
  ]);
  const definitions = JSON.parse(String(turn1!.attributes["gen_ai.tool.definitions"])) as {
    type: string;
    name: string;
    description: string | null;
  }[];
  assert.deepEqual(
    definitions.map((d) => [d.type, d.name, d.description]),
    [
      ["function", "search", "Search the knowledge base."],
      ["function", "fail", null],
    ],
  );
  const input = JSON.parse(String(turn2!.attributes["gen_ai.input.messages"])) as {
    role: string;
    parts: Record<string, unknown>[];
  }[];
  assert.deepEqual(
    input.map((m) => [m.role, m.parts.map((p) => p.type)]),
    [
      ["user", ["text"]],
      ["assistant", ["tool_call", "tool_call", "tool_call"]],
      ["tool", ["tool_call_response"]],
      ["tool", ["tool_call_response"]],
      ["tool", ["tool_call_response"]],
    ],
  );
  assert.deepEqual(input[2]!.parts[0], {
    type: "tool_call_response",
    id: "call_1_0",
    response: '{"hits":["doc-keel"]}',
  });
  assert.deepEqual(JSON.parse(String(turn2!.attributes["gen_ai.output.messages"])), [
    {
      role: "assistant",
      parts: [{ type: "text", content: "Keel runs workflows." }],
      finish_reason: "stop",
    },
  ]);
});

test("an agent that fails on max_turns is an error with its kind; its turns and calls are still below it", async () => {
  const store = new MemoryStore();
  const { result } = await runText(
    FLOW.replace("max_turns: 3", "max_turns: 1").replace(
      "      - turn: 2\n        match: doc-keel\n        reply: Keel runs workflows.\n",
      "",
    ),
    { store, files: TOOLS },
  );
  assert.equal(result.status, "failed");
  const agent = (await spansOf(store, result.runId)).children[0]!;
  assert.equal(agent.name, "invoke_agent research");
  assert.equal(agent.error, "max_turns");
  assert.equal(agent.attributes["error.type"], "max_turns");
  assert.equal(agent.attributes["keel.agent.stop_reason"], undefined);
  assert.deepEqual(
    agent.children.map((c) => c.name),
    ["chat tiny-1"],
  );
});

test("HTTP and workflow tools: extension and function types, the request's attributes, the child run under the call's attempt", async () => {
  const server = createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ path: req.url }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  try {
    const store = new MemoryStore();
    const { result } = await runText(
      agentFlow({
        responses: `      - turn: 1
        tool_calls:
          - { name: fetch, arguments: { id: 7 } }
          - { name: summarize, arguments: { text: hello } }
      - turn: 2
        reply: done
`,
        step: "    prompt: go\n    max_turns: 2\n",
        tools: `      fetch:
        http: { method: GET, url: "http://127.0.0.1:${port}/doc/\${{ args.id }}?token=t-1" }
        parameters: { type: object, properties: { id: { type: integer } } }
      summarize:
        workflow: ./summarize.keel.yaml
`,
      }),
      {
        store,
        files: {
          "summarize.keel.yaml": `keel: 1
name: summarize
inputs:
  text: { type: string }
steps:
  short: { type: transform, expr: "$uppercase(inputs.text)" }
outputs:
  summary: steps.short.output
`,
        },
      },
    );
    assert.equal(result.status, "succeeded", result.error ?? "");
    const agent = (await spansOf(store, result.runId)).children[0]!;
    // The scripted provider names no model: the turns are named by the step.
    assert.deepEqual(
      agent.children.map((c) => c.name),
      ["chat research", "execute_tool fetch", "execute_tool summarize", "chat research"],
    );
    const [, fetch, summarize] = agent.children;
    assert.equal(fetch!.attributes["gen_ai.tool.type"], "extension");
    assert.equal(fetch!.attributes["http.request.method"], "GET");
    assert.equal(fetch!.attributes["http.response.status_code"], 200);
    assert.equal(fetch!.attributes["url.full"], `http://127.0.0.1:${port}/doc/7`);
    assert.equal(summarize!.attributes["gen_ai.tool.type"], "function");
    const attempt = summarize!.children[0]!;
    const child = attempt.children.find((c) => c.name === "invoke_workflow summarize");
    assert.ok(child, "the child run under the call's attempt");
    assert.equal(child.attributes["keel.run.parent_scope"], "research#1/summarize.1");
    // With content: the model was told an HTTP tool's body.
    const full = (await spansOf(store, result.runId, true)).children[0]!;
    assert.equal(
      full.children[1]!.attributes["gen_ai.tool.call.result"],
      JSON.stringify({ path: "/doc/7?token=t-1" }),
    );
  } finally {
    server.close();
  }
});

test("a map of agents: one invoke_agent span per item, named by its key, with its own turns and calls; the map counts its items", async () => {
  const store = new MemoryStore();
  const { result } = await runText(
    agentFlow({
      model: "tiny-1",
      responses: `      - turn: 1
        tool_calls: [{ name: search, arguments: { query: x } }]
      - turn: 2
        reply: answered
`,
      step: `    for_each: '["a", "b"]'
    key: item
    prompt: "Question: \${{ item }}"
    max_turns: 2
`,
      tools: SEARCH,
    }),
    { store, files: TOOLS },
  );
  assert.equal(result.status, "succeeded", result.error ?? "");
  const root = await spansOf(store, result.runId);
  const map = root.children[0]!;
  assert.equal(map.name, "agent research");
  assert.equal(map.attributes["keel.step.items"], 2);
  assert.equal(map.attributes["keel.step.units.succeeded"], 2, "items, not turns and calls");
  assert.deepEqual(
    map.children.map((c) => [
      c.name,
      c.attributes["gen_ai.operation.name"],
      c.attributes["gen_ai.agent.name"],
      c.attributes["keel.item.key"],
      c.attributes["keel.agent.turns"],
      c.children.map((t) => [t.name, t.attributes["keel.scope"]]),
    ]),
    ["a", "b"].map((k) => [
      `research[${k}]`,
      "invoke_agent",
      "research",
      k,
      2,
      [
        ["chat tiny-1", `[${k}]#1`],
        ["execute_tool search", `[${k}]#1/search.0`],
        ["chat tiny-1", `[${k}]#2`],
      ],
    ]),
  );
  for (const [span, parent] of flatten(root)) {
    if (!parent) continue;
    assert.ok(parent.startedAt <= span.startedAt, `${span.name} in ${parent.name}`);
    assert.ok(span.endedAt <= parent.endedAt, `${span.name} in ${parent.name}`);
  }
  // In SDK spans, each call is the child of its agent's span.
  const sdk = buildSpans(root, result.runId);
  const item = sdk.find((s) => s.name === "research[b]")!;
  const calls = sdk.filter((s) => s.name === "execute_tool search");
  assert.equal(calls.length, 2);
  assert.equal(
    calls.filter((s) => s.parentSpanContext?.spanId === item.spanContext().spanId).length,
    1,
  );
});

test("agentScope reads an agent's scopes, an item's key holding '#' or ']' included", () => {
  assert.deepEqual(agentScope("#3"), { item: "", turn: 3 });
  assert.deepEqual(agentScope("#3/search.12"), { item: "", turn: 3, tool: "search", index: 12 });
  assert.deepEqual(agentScope("[x#1]#2/fetch_page.0"), {
    item: "[x#1]",
    turn: 2,
    tool: "fetch_page",
    index: 0,
  });
  assert.equal(agentScope("[a]"), null);
  assert.equal(agentScope("[a]#1]"), null);
  assert.equal(agentScope(null), null);
});
