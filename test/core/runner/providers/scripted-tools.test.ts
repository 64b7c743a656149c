// The scripted provider's tool calls (core/runner/providers/scripted.ts): `tool_calls` answers an
// agent's turn offline, `turn: N` picks the Nth model call of a conversation, and the schema
// accepts a response with `turn` and no `match`, but not one with neither.
import { test } from "node:test";
import assert from "node:assert/strict";
import { validate } from "@keel/core/index";
import type { LlmMessage, LlmRequest } from "@keel/core/runner/effects";
import { answerScripted, type ScriptedConfig } from "@keel/core/runner/providers/scripted";
import { llmRequest } from "./clients";

const TOOLS = [{ name: "search", description: null, parameters: { type: "object" } }];

const ask = (messages: LlmMessage[], extra: Partial<LlmRequest> = {}) =>
  llmRequest("scripted", {
    provider: "fake",
    model: null,
    system: "You are a support agent.",
    messages,
    tools: TOOLS,
    ...extra,
  });

const answer = (config: ScriptedConfig, request: LlmRequest, onChunk?: (t: string) => void) =>
  answerScripted(config, request, "/", new AbortController().signal, onChunk);

const USER: LlmMessage = { role: "user", content: "Where is order 42?" };
// The conversation after turn 1: the model's call and the tool's result.
const AFTER_TURN_1: LlmMessage[] = [
  USER,
  {
    role: "assistant",
    content: "",
    tool_calls: [{ id: "call_1_0", name: "search", arguments: '{"q":"42"}' }],
  },
  { role: "tool", content: "order 42: shipped on Monday", tool_call_id: "call_1_0" },
];

const AGENT: ScriptedConfig = {
  responses: [
    {
      turn: 1,
      tool_calls: [
        { name: "search", arguments: { q: "42" } },
        { name: "search", arguments: '{"q": oops', id: "mine" },
      ],
    },
    { turn: 2, match: "cancelled", reply: "It was cancelled." },
    { turn: 2, reply: "It has shipped." },
  ],
};

test("a response's tool_calls answer with deterministic ids call_<turn>_<index>; string arguments go as is", async () => {
  const r = await answer(AGENT, ask([USER]));
  assert.equal(r.text, "");
  assert.deepEqual(r.toolCalls, [
    { id: "call_1_0", name: "search", arguments: '{"q":"42"}' },
    { id: "mine", name: "search", arguments: '{"q": oops' },
  ]);
  // The calls count as the model's output.
  assert.ok(r.usage!.output > 0);
  // The same call answers the same way.
  assert.deepEqual(await answer(AGENT, ask([USER])), r);
});

test("turn N answers the call whose messages hold N-1 assistant messages; match narrows it further and sees tool results", async () => {
  const second = await answer(AGENT, ask(AFTER_TURN_1));
  assert.equal(second.text, "It has shipped.");
  assert.equal(second.toolCalls, undefined);
  // `match` reads the tool message's content as part of the prompt.
  const cancelled = AFTER_TURN_1.map((m) =>
    m.role === "tool" ? { ...m, content: "order 42: cancelled" } : m,
  );
  assert.equal((await answer(AGENT, ask(cancelled))).text, "It was cancelled.");
  // Turn 3 has no response and the provider no default.
  const third: LlmMessage[] = [
    ...AFTER_TURN_1,
    { role: "assistant", content: "", tool_calls: [{ id: "x", name: "search", arguments: "{}" }] },
    { role: "tool", content: "done", tool_call_id: "x" },
  ];
  await assert.rejects(answer(AGENT, ask(third)), /no response of scripted provider 'fake'/);
  // A later turn's ids carry its number.
  const later: ScriptedConfig = { responses: [{ turn: 3, tool_calls: [{ name: "search" }] }] };
  assert.deepEqual((await answer(later, ask(third))).toolCalls, [
    { id: "call_3_0", name: "search", arguments: "{}" },
  ]);
});

test("tool_calls are dropped under tool_choice none and when no tools are offered: the reply is the answer", async () => {
  const config: ScriptedConfig = {
    responses: [{ match: "order", reply: "Final answer.", tool_calls: [{ name: "search" }] }],
  };
  const none = await answer(config, ask([USER], { toolChoice: "none" }));
  assert.deepEqual([none.text, none.toolCalls], ["Final answer.", undefined]);
  const plain = await answer(config, ask([USER], { tools: undefined }));
  assert.deepEqual([plain.text, plain.toolCalls], ["Final answer.", undefined]);
  const auto = await answer(config, ask([USER]));
  assert.deepEqual(auto.toolCalls, [{ id: "call_1_0", name: "search", arguments: "{}" }]);
});

test("with chunks, the chunks are streamed and the tool calls come after them", async () => {
  const config: ScriptedConfig = {
    responses: [{ turn: 1, chunks: ["Let me ", "look."], tool_calls: [{ name: "search" }] }],
  };
  const seen: string[] = [];
  const r = await answer(config, ask([USER]), (t) => seen.push(t));
  assert.deepEqual(seen, ["Let me ", "look."]);
  assert.equal(r.text, "Let me look.");
  assert.deepEqual(r.toolCalls, [{ id: "call_1_0", name: "search", arguments: "{}" }]);
});

test("the schema takes a response with turn and no match, tool_calls with object or text arguments, and refuses one with neither match nor turn", () => {
  const flow = (responses: string) => `keel: 1
name: s
providers:
  fake:
    type: scripted
    responses:
${responses}
steps:
  a: { type: llm, prompt: hi }
`;
  const ok = validate(
    flow(`      - turn: 1
        tool_calls:
          - { name: search, arguments: { q: "42" } }
          - { name: search, arguments: "{bad", id: c1 }
      - { match: hi, turn: 2, reply: done }`),
  );
  assert.deepEqual(ok.diagnostics, []);
  const bad = validate(flow(`      - reply: hi`));
  assert.deepEqual(
    bad.diagnostics.map((d) => [d.code, d.message]),
    [["KEEL104", "providers.fake.responses[0]: a response needs `match`, `turn` or both"]],
  );
  const wrong = validate(flow(`      - { turn: 0, tool_calls: [{ arguments: {} }] }`));
  assert.deepEqual(
    wrong.diagnostics.map((d) => d.code),
    ["KEEL103", "KEEL104"],
  );
});
