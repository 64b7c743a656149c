// Provider-native tool calling through the real SDKs (core/runner/providers/openai.ts and
// anthropic.ts) against the local provider server: the tools and tool choice sent, tool calls
// read back (whole and streamed), faults (malformed arguments, unknown names, a stream cut inside
// a call's arguments) and a conversation's tool messages sent back in each API's shape.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import type { LlmMessage, LlmRequest, LlmResponse } from "@keel/core/runner/effects";
import { StepError } from "@keel/core/runner/errors";
import { callOpenAi } from "@keel/core/runner/providers/openai";
import { callAnthropic } from "@keel/core/runner/providers/anthropic";
import type { Connection } from "@keel/core/runner/providers/connection";
import { startProviderServer, type ProviderServer } from "../../../helpers/provider-server";
import { llmRequest } from "./clients";

const TOOLS = [
  {
    name: "search",
    description: "Search the knowledge base.",
    parameters: { type: "object", properties: { q: { type: "string" } }, required: ["q"] },
  },
  { name: "refund", description: null, parameters: { type: "object", properties: {} } },
];

const ask = (providerType: "openai" | "anthropic", extra: Partial<LlmRequest> = {}) =>
  llmRequest(providerType, {
    system: "You help customers.",
    messages: [{ role: "user", content: "Where is my order 42?" }],
    tools: TOOLS,
    ...extra,
  });

async function serve(t: TestContext): Promise<ProviderServer> {
  const server = await startProviderServer();
  t.after(() => server.close());
  return server;
}

const openai = (s: ProviderServer): Connection => ({
  baseUrl: s.openaiBaseURL,
  apiKey: "sk-test",
  headers: {},
});
const anthropic = (s: ProviderServer): Connection => ({
  baseUrl: s.anthropicBaseURL,
  apiKey: "sk-ant-test",
  headers: {},
});
const signal = () => new AbortController().signal;

async function failure(promise: Promise<unknown>): Promise<StepError> {
  const error = await promise.then(
    () => assert.fail("expected the call to fail"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof StepError, String(error));
  return error;
}

/** A streamed call: the response and the text deltas it reported. */
async function streamed(
  call: typeof callOpenAi,
  request: LlmRequest,
  c: Connection,
): Promise<{ response: LlmResponse; chunks: string[] }> {
  const chunks: string[] = [];
  const response = await call(request, c, signal(), (t) => chunks.push(t));
  return { response, chunks };
}

// A conversation after one turn of two calls: the assistant's calls, then both results.
const HISTORY: LlmMessage[] = [
  { role: "user", content: "Where is my order 42?" },
  {
    role: "assistant",
    content: "Let me look.",
    tool_calls: [
      { id: "call_a", name: "search", arguments: '{"q":"order 42"}' },
      { id: "call_b", name: "refund", arguments: '{"order": ' },
    ],
  },
  { role: "tool", content: '{"status":"shipped"}', tool_call_id: "call_a" },
  { role: "tool", content: "error: arguments are not JSON", tool_call_id: "call_b" },
];

// ---- OpenAI Chat Completions ----

test("OpenAI: the tools go as functions; a reply of tool calls with null content reads as text '' and its calls, raw", async (t) => {
  const server = await serve(t);
  server.script([
    {
      toolCalls: [
        { name: "search", arguments: { q: "order 42" }, id: "call_1" },
        { name: "lookup", arguments: '{"q": "unterminated', id: "call_2" },
        { name: "shell", arguments: "ls", type: "custom" },
      ],
    },
  ]);
  const r = await callOpenAi(ask("openai"), openai(server), signal());
  const sent = server.requests[0]!;
  assert.deepEqual(sent.tools, [
    {
      type: "function",
      function: {
        name: "search",
        description: "Search the knowledge base.",
        parameters: TOOLS[0]!.parameters,
      },
    },
    {
      type: "function",
      function: { name: "refund", parameters: { type: "object", properties: {} } },
    },
  ]);
  // tool_choice is the API's default (auto) and parallel calls are not mentioned.
  assert.equal(sent.tool_choice, undefined);
  assert.equal(sent.parallel_tool_calls, undefined);
  assert.equal(r.text, "");
  // The unknown name and the malformed arguments come back as sent; the custom call is dropped.
  assert.deepEqual(r.toolCalls, [
    { id: "call_1", name: "search", arguments: '{"q":"order 42"}' },
    { id: "call_2", name: "lookup", arguments: '{"q": "unterminated' },
  ]);
});

test("OpenAI: tool_choice none and parallel_tool_calls are sent when the request says so", async (t) => {
  const server = await serve(t);
  await callOpenAi(
    ask("openai", { toolChoice: "none", parallelToolCalls: false }),
    openai(server),
    signal(),
  );
  await callOpenAi(ask("openai", { parallelToolCalls: true }), openai(server), signal());
  const [first, second] = server.requests;
  assert.equal(first!.tool_choice, "none");
  assert.equal(first!.parallel_tool_calls, false);
  assert.equal(second!.tool_choice, undefined);
  assert.equal(second!.parallel_tool_calls, true);
});

test("OpenAI: a call with no tools (none, or an empty list) sends no tool fields and its response has no toolCalls", async (t) => {
  const server = await serve(t);
  server.script([{ reply: "hello" }]);
  // The API refuses an empty `tools` list, and a tool_choice without tools.
  const r = await callOpenAi(
    ask("openai", { tools: [], toolChoice: "none", parallelToolCalls: false }),
    openai(server),
    signal(),
  );
  await callOpenAi(ask("openai", { tools: undefined }), openai(server), signal());
  for (const request of server.requests) {
    const body = request.body as Record<string, unknown>;
    assert.deepEqual(
      Object.keys(body).filter((k) => k.startsWith("tool") || k.startsWith("parallel")),
      [],
    );
  }
  assert.deepEqual(r, {
    text: "hello",
    servedModel: "test-model",
    responseId: "chatcmpl-test-1",
    fingerprint: null,
    usage: r.usage,
  });
});

test("OpenAI streamed: text deltas go to onChunk, tool calls are assembled from their pieces by index", async (t) => {
  const server = await serve(t);
  server.script([
    {
      reply: "Checking both.",
      toolCalls: [
        { name: "search", arguments: { q: "order 42", limit: 3 } },
        { name: "shell", arguments: "ls", type: "custom" },
        { name: "refund", arguments: { order: 42, reason: "late delivery" } },
      ],
    },
  ]);
  const { response, chunks } = await streamed(callOpenAi, ask("openai"), openai(server));
  assert.equal(server.requests[0]!.stream, true);
  assert.deepEqual(chunks, ["Checking ", "both."]);
  assert.equal(response.text, "Checking both.");
  assert.deepEqual(response.toolCalls, [
    { id: "call_chatcmpl-test-1_0", name: "search", arguments: '{"q":"order 42","limit":3}' },
    {
      id: "call_chatcmpl-test-1_2",
      name: "refund",
      arguments: '{"order":42,"reason":"late delivery"}',
    },
  ]);
  assert.ok(response.usage);
});

test("OpenAI: a conversation's tool calls and results are sent back as assistant tool_calls and tool messages", async (t) => {
  const server = await serve(t);
  server.script([{ reply: "Your order has shipped." }]);
  const r = await callOpenAi(ask("openai", { messages: HISTORY }), openai(server), signal());
  assert.equal(r.text, "Your order has shipped.");
  assert.equal(r.toolCalls, undefined);
  assert.deepEqual(server.requests[0]!.messages, [
    { role: "system", content: "You help customers." },
    { role: "user", content: "Where is my order 42?" },
    {
      role: "assistant",
      content: "Let me look.",
      tool_calls: [
        {
          id: "call_a",
          type: "function",
          function: { name: "search", arguments: '{"q":"order 42"}' },
        },
        { id: "call_b", type: "function", function: { name: "refund", arguments: '{"order": ' } },
      ],
    },
    { role: "tool", content: '{"status":"shipped"}', tool_call_id: "call_a" },
    { role: "tool", content: "error: arguments are not JSON", tool_call_id: "call_b" },
  ]);
});

test("Azure OpenAI: the deployment route gets the tools and its tool calls are read back", async (t) => {
  const server = await serve(t);
  server.script([{ toolCalls: [{ name: "search", arguments: { q: "x" }, id: "call_az" }] }]);
  const r = await callOpenAi(
    ask("openai", { model: "gpt4o-prod", toolChoice: "none" }),
    { baseUrl: server.url, apiKey: "az-key", headers: {}, azure: { apiVersion: "2024-10-21" } },
    signal(),
  );
  const sent = server.requests[0]!;
  assert.equal(sent.path, "/openai/deployments/gpt4o-prod/chat/completions");
  assert.equal((sent.tools as unknown[]).length, 2);
  assert.equal(sent.tool_choice, "none");
  assert.deepEqual(r.toolCalls, [{ id: "call_az", name: "search", arguments: '{"q":"x"}' }]);
});

// ---- Both APIs, streamed ----

const STREAMED = [
  {
    api: "OpenAI",
    call: callOpenAi,
    type: "openai",
    connect: openai,
    id: "call_chatcmpl-test-1_0",
  },
  {
    api: "Anthropic",
    call: callAnthropic,
    type: "anthropic",
    connect: anthropic,
    id: "toolu_msg_test_1_0",
  },
] as const;

for (const { api, call, type, connect, id } of STREAMED) {
  test(`${api} streamed: malformed arguments come back as the text the model sent`, async (t) => {
    const server = await serve(t);
    server.script([{ toolCalls: [{ name: "search", arguments: '{"q": order 42' }] }]);
    const { response } = await streamed(call, ask(type), connect(server));
    assert.equal(response.text, "");
    assert.deepEqual(response.toolCalls, [{ id, name: "search", arguments: '{"q": order 42' }]);
  });

  test(`${api} streamed: a stream cut in the middle of a call's arguments is a server_error`, async (t) => {
    const server = await serve(t);
    server.script([
      {
        truncatedStream: true,
        text: "Searching now.",
        toolCalls: [{ name: "search", arguments: { q: "a fairly long query for three pieces" } }],
      },
    ]);
    const error = await failure(streamed(call, ask(type), connect(server)));
    assert.equal(error.kind, "server_error");
  });
}

// ---- Anthropic Messages ----

test("Anthropic: the tools go with input_schema; tool_use blocks are read as calls with their input's JSON text", async (t) => {
  const server = await serve(t);
  server.script([
    {
      reply: "Let me check.",
      toolCalls: [
        { name: "search", arguments: '{ "q" : "order 42" }', id: "toolu_1" },
        { name: "cancel_everything", arguments: {}, id: "toolu_2" },
      ],
    },
  ]);
  const chunks: string[] = [];
  const r = await callAnthropic(ask("anthropic"), anthropic(server), signal(), (c) =>
    chunks.push(c),
  );
  const sent = server.requests[0]!;
  assert.deepEqual(sent.tools, [
    {
      name: "search",
      description: "Search the knowledge base.",
      input_schema: TOOLS[0]!.parameters,
    },
    { name: "refund", input_schema: { type: "object", properties: {} } },
  ]);
  assert.equal(sent.tool_choice, undefined);
  assert.equal(sent.system, "You help customers.");
  assert.equal(r.text, "Let me check.");
  assert.deepEqual(chunks, ["Let ", "me ", "check."]);
  // The unknown tool name is returned as the model sent it: the agent's loop judges it.
  assert.deepEqual(r.toolCalls, [
    { id: "toolu_1", name: "search", arguments: '{"q":"order 42"}' },
    { id: "toolu_2", name: "cancel_everything", arguments: "{}" },
  ]);
});

test("Anthropic: tool_choice none, and auto without parallel calls when parallelToolCalls is false", async (t) => {
  const server = await serve(t);
  await callAnthropic(ask("anthropic", { toolChoice: "none" }), anthropic(server), signal());
  await callAnthropic(ask("anthropic", { parallelToolCalls: false }), anthropic(server), signal());
  await callAnthropic(
    ask("anthropic", { tools: [], toolChoice: "none" }),
    anthropic(server),
    signal(),
  );
  const [none, serial, plain] = server.requests;
  assert.deepEqual(none!.tool_choice, { type: "none" });
  assert.deepEqual(serial!.tool_choice, { type: "auto", disable_parallel_tool_use: true });
  assert.equal(plain!.tools, undefined);
  assert.equal(plain!.tool_choice, undefined);
});

test("Anthropic: tool calls go back as tool_use blocks, consecutive results as one user message of tool_result blocks", async (t) => {
  const server = await serve(t);
  server.script([{ reply: "Your order has shipped." }]);
  const messages: LlmMessage[] = [
    ...HISTORY,
    {
      role: "assistant",
      content: "",
      tool_calls: [{ id: "c3", name: "search", arguments: "[1]" }],
    },
    { role: "tool", content: "nothing", tool_call_id: "c3" },
    { role: "user", content: "Thanks, and?" },
  ];
  const r = await callAnthropic(ask("anthropic", { messages }), anthropic(server), signal());
  assert.equal(r.text, "Your order has shipped.");
  assert.deepEqual(server.requests[0]!.messages, [
    { role: "user", content: "Where is my order 42?" },
    {
      role: "assistant",
      content: [
        { type: "text", text: "Let me look." },
        { type: "tool_use", id: "call_a", name: "search", input: { q: "order 42" } },
        // Arguments that are not a JSON object go back as an empty input.
        { type: "tool_use", id: "call_b", name: "refund", input: {} },
      ],
    },
    {
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "call_a", content: '{"status":"shipped"}' },
        { type: "tool_result", tool_use_id: "call_b", content: "error: arguments are not JSON" },
      ],
    },
    // An empty text is not sent as a block.
    {
      role: "assistant",
      content: [{ type: "tool_use", id: "c3", name: "search", input: {} }],
    },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "c3", content: "nothing" }] },
    { role: "user", content: "Thanks, and?" },
  ]);
});

test("Anthropic: a system prompt alone is sent as the one user message, with no system", async (t) => {
  const server = await serve(t);
  server.script([{ reply: "A haiku." }]);
  const r = await callAnthropic(
    ask("anthropic", { system: "Write a haiku.", messages: [], tools: undefined }),
    anthropic(server),
    signal(),
  );
  assert.equal(r.text, "A haiku.");
  const sent = server.requests[0]!;
  assert.deepEqual(sent.messages, [{ role: "user", content: "Write a haiku." }]);
  assert.equal(sent.system, undefined);
});
