// The provider test server, driven by the real `openai` and `@anthropic-ai/sdk` clients built the
// way Keel builds them (explicit key and base URL, maxRetries 0, a timeout, an AbortSignal on the
// request). Each test pins the exact error class the SDK throws for a fault: the runner's error
// classification is written from these, so a failure here after an SDK upgrade means the
// classification needs another look.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { startProviderServer, type ProviderServer } from "../helpers/provider-server";

const OPENAI_KEY = "sk-test-openai";
const ANTHROPIC_KEY = "sk-ant-test";
const MESSAGES = [{ role: "user" as const, content: "Say hello." }];

async function serve(t: TestContext): Promise<ProviderServer> {
  const server = await startProviderServer();
  t.after(() => server.close());
  return server;
}

// Logs are off because both SDKs otherwise print unparsable stream data to the console.
function openai(server: ProviderServer, timeout = 5_000): OpenAI {
  return new OpenAI({
    apiKey: OPENAI_KEY,
    baseURL: server.openaiBaseURL,
    maxRetries: 0,
    timeout,
    logLevel: "off",
  });
}

function anthropic(server: ProviderServer, timeout = 5_000): Anthropic {
  return new Anthropic({
    apiKey: ANTHROPIC_KEY,
    baseURL: server.anthropicBaseURL,
    maxRetries: 0,
    timeout,
    logLevel: "off",
  });
}

const askOpenAI = (client: OpenAI, signal = new AbortController().signal) =>
  client.chat.completions.create({ model: "gpt-4o", messages: MESSAGES }, { signal });

const askAnthropic = (client: Anthropic, signal = new AbortController().signal) =>
  client.messages.create({ model: "claude-test", max_tokens: 64, messages: MESSAGES }, { signal });

/** The error a promise rejects with; fails the test if it resolves. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return assert.fail("expected the request to fail");
}

/** Asserts the error is an instance of exactly this class, not of a subclass. */
function assertExactly(error: unknown, expected: { prototype: unknown; name: string }): void {
  const actual = error instanceof Object ? Object.getPrototypeOf(error) : undefined;
  assert.equal(
    actual,
    expected.prototype,
    `expected ${expected.name}, got ${String(actual?.constructor?.name)}: ${String(error)}`,
  );
}

const causeOf = (error: unknown): unknown => (error as { cause?: unknown }).cause;

// ---- OpenAI ----

test("an OpenAI reply carries the scripted content, served model, id, usage and fingerprint", async (t) => {
  const server = await serve(t);
  server.script([
    {
      reply: { answer: 42 },
      model: "gpt-4o-2024-08-06",
      fingerprint: "fp_test_1",
      usage: { input: 12, output: 3 },
    },
  ]);
  const client = openai(server);
  const first = await askOpenAI(client);
  assert.equal(first.choices[0]?.message.content, '{"answer":42}');
  assert.equal(first.choices[0]?.finish_reason, "stop");
  assert.equal(first.model, "gpt-4o-2024-08-06");
  assert.equal(first.id, "chatcmpl-test-1");
  assert.equal(first.system_fingerprint, "fp_test_1");
  assert.deepEqual(first.usage, { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 });
  assert.equal(first._request_id, "req_test_1");

  // Past the script, the default reply echoes the requested model and counts ids on.
  const second = await askOpenAI(client);
  assert.equal(second.choices[0]?.message.content, "ok");
  assert.equal(second.model, "gpt-4o");
  assert.equal(second.id, "chatcmpl-test-2");
  assert.equal(second.system_fingerprint, null);
});

test("the OpenAI request log shows the api key and the parameters as sent", async (t) => {
  const server = await serve(t);
  const messages = [
    { role: "system" as const, content: "Be brief." },
    { role: "user" as const, content: "Hi" },
  ];
  await openai(server).chat.completions.create({
    model: "gpt-4o-mini",
    messages,
    temperature: 0.2,
    max_tokens: 50,
    seed: 7,
  });
  const [request] = server.requests;
  assert.ok(request);
  assert.equal(request.api, "openai");
  assert.equal(request.method, "POST");
  assert.equal(request.path, "/v1/chat/completions");
  assert.equal(request.apiKey, OPENAI_KEY);
  assert.equal(request.headers["authorization"], `Bearer ${OPENAI_KEY}`);
  assert.equal(request.model, "gpt-4o-mini");
  assert.deepEqual(request.messages, messages);
  assert.equal(request.temperature, 0.2);
  assert.equal(request.max_tokens, 50);
  assert.equal(request.seed, 7);
  assert.equal(request.stream, false);
  assert.deepEqual(request.behaviour, { reply: "ok" });
  assert.equal(server.count("openai"), 1);
});

test("a 429 from OpenAI is a RateLimitError whose headers carry Retry-After", async (t) => {
  const server = await serve(t);
  server.script([{ status: 429, retryAfter: 3, retryAfterMs: 2500 }]);
  const error = await failure(askOpenAI(openai(server)));
  assertExactly(error, OpenAI.RateLimitError);
  const rate = error as InstanceType<typeof OpenAI.RateLimitError>;
  assert.equal(rate.status, 429);
  assert.equal(rate.headers?.get("retry-after"), "3");
  assert.equal(rate.headers?.get("retry-after-ms"), "2500");
  assert.equal(rate.code, "rate_limit_exceeded");
  // maxRetries 0: the SDK tried once and left retrying to Keel.
  assert.equal(server.count(), 1);
});

test("every 5xx from OpenAI is an InternalServerError carrying its status", async (t) => {
  const server = await serve(t);
  const client = openai(server);
  for (const status of [500, 502, 503, 529]) {
    server.script([{ status }]);
    const error = await failure(askOpenAI(client));
    assertExactly(error, OpenAI.InternalServerError);
    assert.equal((error as InstanceType<typeof OpenAI.APIError>).status, status);
  }
});

test("a hanging OpenAI request ends in APIConnectionTimeoutError when the client's timeout passes", async (t) => {
  const server = await serve(t);
  server.script([{ hang: true }]);
  const started = Date.now();
  const error = await failure(askOpenAI(openai(server, 200)));
  const elapsed = Date.now() - started;
  assertExactly(error, OpenAI.APIConnectionTimeoutError);
  assert.ok(elapsed >= 190 && elapsed < 2_000, `timed out after ${elapsed} ms`);
});

test("aborting a hanging OpenAI request is an APIUserAbortError, not a timeout", async (t) => {
  const server = await serve(t);
  server.script([{ hang: true }]);
  const abort = new AbortController();
  const outcome = failure(askOpenAI(openai(server), abort.signal));
  await server.waitForRequest(1);
  abort.abort();
  const error = await outcome;
  assertExactly(error, OpenAI.APIUserAbortError);
  assert.ok(!(error instanceof OpenAI.APIConnectionTimeoutError));
});

test("a malformed OpenAI reply is a bare SyntaxError, not an SDK error", async (t) => {
  const server = await serve(t);
  server.script([{ malformed: true }]);
  const error = await failure(askOpenAI(openai(server)));
  assertExactly(error, SyntaxError);
});

test("a truncated OpenAI reply is undici's TypeError 'terminated', not an SDK error", async (t) => {
  const server = await serve(t);
  server.script([{ truncated: true }]);
  const error = await failure(askOpenAI(openai(server)));
  assertExactly(error, TypeError);
  assert.equal((error as Error).message, "terminated");
});

test("an OpenAI stream delivers the text in several chunks and usage in its last chunk", async (t) => {
  const server = await serve(t);
  server.script([{ reply: "Hello there, streaming world.", usage: { input: 5, output: 6 } }]);
  const stream = await openai(server).chat.completions.create({
    model: "gpt-4o",
    messages: MESSAGES,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  let contentChunks = 0;
  let last: OpenAI.ChatCompletionChunk | undefined;
  for await (const chunk of stream) {
    const piece = chunk.choices[0]?.delta.content;
    if (piece) contentChunks++;
    text += piece ?? "";
    last = chunk;
  }
  assert.equal(text, "Hello there, streaming world.");
  assert.ok(contentChunks > 1);
  assert.deepEqual(last?.choices, []);
  assert.deepEqual(last?.usage, { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 });
  assert.equal(last?.id, "chatcmpl-test-1");
  assert.equal(server.requests[0]?.stream, true);
});

test("a truncated OpenAI stream throws TypeError 'terminated' while it is read", async (t) => {
  const server = await serve(t);
  server.script([{ truncatedStream: true }]);
  const stream = await openai(server).chat.completions.create({
    model: "gpt-4o",
    messages: MESSAGES,
    stream: true,
  });
  let text = "";
  const error = await failure(
    (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })(),
  );
  assertExactly(error, TypeError);
  assert.equal((error as Error).message, "terminated");
  assert.ok(text.length > 0, "some text arrived before the cut");
});

test("a malformed event in an OpenAI stream throws a bare SyntaxError while it is read", async (t) => {
  const server = await serve(t);
  server.script([{ malformed: true }]);
  const stream = await openai(server).chat.completions.create({
    model: "gpt-4o",
    messages: MESSAGES,
    stream: true,
  });
  const error = await failure(
    (async () => {
      for await (const _chunk of stream);
    })(),
  );
  assertExactly(error, SyntaxError);
});

test("an OpenAI stream that never starts ends in APIConnectionTimeoutError", async (t) => {
  const server = await serve(t);
  server.script([{ hang: true }]);
  const error = await failure(
    openai(server, 200).chat.completions.create({
      model: "gpt-4o",
      messages: MESSAGES,
      stream: true,
    }),
  );
  assertExactly(error, OpenAI.APIConnectionTimeoutError);
});

test("an OpenAI stream aborted mid-way ends without any error, its text cut short", async (t) => {
  const server = await serve(t);
  server.script([{ stall: true }]);
  const abort = new AbortController();
  const stream = await openai(server).chat.completions.create(
    { model: "gpt-4o", messages: MESSAGES, stream: true },
    { signal: abort.signal },
  );
  let text = "";
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? "";
    if (text) abort.abort();
  }
  // The SDK swallows the abort: only the signal tells a cancelled stream from a finished one.
  assert.ok(abort.signal.aborted);
  assert.ok(text.length > 0 && !text.endsWith("ends."), `partial text: ${text}`);
});

test("an error event inside an OpenAI stream is a plain APIError without a status", async (t) => {
  const server = await serve(t);
  server.script([{ streamError: { type: "server_error", message: "stream broke" } }]);
  const stream = await openai(server).chat.completions.create({
    model: "gpt-4o",
    messages: MESSAGES,
    stream: true,
  });
  const error = await failure(
    (async () => {
      for await (const _chunk of stream);
    })(),
  );
  assertExactly(error, OpenAI.APIError);
  assert.equal((error as InstanceType<typeof OpenAI.APIError>).status, undefined);
  assert.equal((error as Error).message, "stream broke");
});

// ---- Anthropic ----

const streamAnthropic = (client: Anthropic, signal = new AbortController().signal) =>
  client.messages.stream({ model: "claude-test", max_tokens: 64, messages: MESSAGES }, { signal });

test("an Anthropic reply carries the scripted content, served model, id and usage", async (t) => {
  const server = await serve(t);
  server.script([
    { reply: "Hello!", model: "claude-test-20260101", usage: { input: 9, output: 2 } },
  ]);
  const client = anthropic(server);
  const message = await askAnthropic(client);
  assert.deepEqual(message.content, [{ type: "text", text: "Hello!" }]);
  assert.equal(message.model, "claude-test-20260101");
  assert.equal(message.id, "msg_test_1");
  assert.equal(message.stop_reason, "end_turn");
  assert.equal(message.usage.input_tokens, 9);
  assert.equal(message.usage.output_tokens, 2);
  assert.ok(!("system_fingerprint" in message));
  assert.equal(message._request_id, "req_test_1");

  const second = await askAnthropic(client);
  assert.equal(second.id, "msg_test_2");
  assert.equal(second.model, "claude-test");
});

test("the Anthropic request log shows the api key and the parameters as sent", async (t) => {
  const server = await serve(t);
  await anthropic(server).messages.create({
    model: "claude-test-small",
    system: "Be brief.",
    messages: MESSAGES,
    max_tokens: 100,
  });
  const [request] = server.requests;
  assert.ok(request);
  assert.equal(request.api, "anthropic");
  assert.equal(request.path, "/v1/messages");
  // This SDK sends the key as a Bearer token, not in x-api-key: redaction must cover both.
  assert.equal(request.apiKey, ANTHROPIC_KEY);
  assert.equal(request.headers["authorization"], `Bearer ${ANTHROPIC_KEY}`);
  assert.equal(request.headers["x-api-key"], undefined);
  assert.ok(request.headers["anthropic-version"]);
  assert.equal(request.model, "claude-test-small");
  assert.equal(request.system, "Be brief.");
  assert.deepEqual(request.messages, MESSAGES);
  assert.equal(request.max_tokens, 100);
  // SDK 1.x speaks API version 2026-10-21, whose Messages parameters have no temperature or seed.
  assert.equal(request.temperature, undefined);
  assert.equal(request.seed, undefined);
});

test("a 429 from Anthropic is a RateLimitError whose headers carry Retry-After", async (t) => {
  const server = await serve(t);
  server.script([{ status: 429, retryAfter: 7 }]);
  const error = await failure(askAnthropic(anthropic(server)));
  assertExactly(error, Anthropic.RateLimitError);
  const rate = error as InstanceType<typeof Anthropic.RateLimitError>;
  assert.equal(rate.status, 429);
  assert.equal(rate.headers?.get("retry-after"), "7");
  assert.equal(rate.headers?.get("retry-after-ms"), null);
  assert.equal(rate.type, "rate_limit_error");
  assert.equal(server.count(), 1);
});

test("5xx from Anthropic are InternalServerError or its subclasses for 503 and 529", async (t) => {
  const server = await serve(t);
  const client = anthropic(server);
  const expected = [
    [500, Anthropic.InternalServerError],
    [502, Anthropic.InternalServerError],
    [503, Anthropic.ServiceUnavailableError],
    [529, Anthropic.OverloadedError],
  ] as const;
  for (const [status, errorClass] of expected) {
    server.script([{ status }]);
    const error = await failure(askAnthropic(client));
    assertExactly(error, errorClass);
    assert.ok(error instanceof Anthropic.InternalServerError);
    assert.equal((error as InstanceType<typeof Anthropic.APIError>).status, status);
  }
});

test("a hanging Anthropic request ends in APIConnectionTimeoutError when the client's timeout passes", async (t) => {
  const server = await serve(t);
  server.script([{ hang: true }]);
  const started = Date.now();
  const error = await failure(askAnthropic(anthropic(server, 200)));
  const elapsed = Date.now() - started;
  assertExactly(error, Anthropic.APIConnectionTimeoutError);
  assert.ok(elapsed >= 190 && elapsed < 2_000, `timed out after ${elapsed} ms`);
});

test("aborting a hanging Anthropic request is an APIUserAbortError, not a timeout", async (t) => {
  const server = await serve(t);
  server.script([{ hang: true }]);
  const abort = new AbortController();
  const outcome = failure(askAnthropic(anthropic(server), abort.signal));
  await server.waitForRequest(1);
  abort.abort();
  const error = await outcome;
  assertExactly(error, Anthropic.APIUserAbortError);
  assert.ok(!(error instanceof Anthropic.APIConnectionTimeoutError));
});

test("a malformed Anthropic reply is a bare SyntaxError, not an SDK error", async (t) => {
  const server = await serve(t);
  server.script([{ malformed: true }]);
  const error = await failure(askAnthropic(anthropic(server)));
  assertExactly(error, SyntaxError);
});

test("a truncated Anthropic reply is undici's TypeError 'terminated', not an SDK error", async (t) => {
  const server = await serve(t);
  server.script([{ truncated: true }]);
  const error = await failure(askAnthropic(anthropic(server)));
  assertExactly(error, TypeError);
  assert.equal((error as Error).message, "terminated");
});

test("an Anthropic stream assembles its final message from the SSE events", async (t) => {
  const server = await serve(t);
  server.script([{ reply: "Hello there, streaming world.", usage: { input: 4, output: 6 } }]);
  const stream = streamAnthropic(anthropic(server));
  const deltas: string[] = [];
  stream.on("text", (delta) => deltas.push(delta));
  const message = await stream.finalMessage();
  assert.deepEqual(message.content, [{ type: "text", text: "Hello there, streaming world." }]);
  assert.ok(deltas.length > 1);
  assert.equal(message.id, "msg_test_1");
  assert.equal(message.model, "claude-test");
  assert.equal(message.stop_reason, "end_turn");
  assert.equal(message.usage.input_tokens, 4);
  assert.equal(message.usage.output_tokens, 6);
  assert.equal(server.requests[0]?.stream, true);
});

test("a truncated Anthropic stream fails as a bare AnthropicError caused by 'terminated'", async (t) => {
  const server = await serve(t);
  server.script([{ truncatedStream: true }]);
  const stream = streamAnthropic(anthropic(server));
  let text = "";
  stream.on("text", (delta) => (text += delta));
  const error = await failure(stream.finalMessage());
  assertExactly(error, Anthropic.AnthropicError);
  assert.equal((error as Error).message, "terminated");
  assertExactly(causeOf(error), TypeError);
  assert.ok(text.length > 0, "some text arrived before the cut");
});

test("a malformed event in an Anthropic stream fails as a bare AnthropicError caused by a SyntaxError", async (t) => {
  const server = await serve(t);
  server.script([{ malformed: true }]);
  const error = await failure(streamAnthropic(anthropic(server)).finalMessage());
  assertExactly(error, Anthropic.AnthropicError);
  assertExactly(causeOf(error), SyntaxError);
});

test("an Anthropic stream that never starts ends in APIConnectionTimeoutError", async (t) => {
  const server = await serve(t);
  server.script([{ hang: true }]);
  const error = await failure(streamAnthropic(anthropic(server, 200)).finalMessage());
  assertExactly(error, Anthropic.APIConnectionTimeoutError);
});

test("aborting an Anthropic stream mid-way is an APIUserAbortError", async (t) => {
  const server = await serve(t);
  server.script([{ stall: true }]);
  const abort = new AbortController();
  const stream = streamAnthropic(anthropic(server), abort.signal);
  stream.on("text", () => abort.abort());
  const error = await failure(stream.finalMessage());
  assertExactly(error, Anthropic.APIUserAbortError);
});

test("an overloaded error event inside an Anthropic stream is a plain APIError without a status", async (t) => {
  const server = await serve(t);
  server.script([{ streamError: { type: "overloaded_error", message: "Overloaded" } }]);
  const error = await failure(streamAnthropic(anthropic(server)).finalMessage());
  assertExactly(error, Anthropic.APIError);
  const apiError = error as InstanceType<typeof Anthropic.APIError>;
  assert.equal(apiError.status, undefined);
  assert.equal(apiError.type, "overloaded_error");
});

// ---- Both APIs, and the server itself ----

test("a reply that stalls after its headers outlives the SDK timeout and ends only by abort", async (t) => {
  // Both SDKs arm their timeout around fetch() only, i.e. until the headers arrive: a body that
  // stops coming is never timed out. The abort arrives as a DOM AbortError, not an SDK class.
  const server = await serve(t);
  server.script([{ stall: true }, { stall: true }]);
  const calls = [
    (signal: AbortSignal) => askOpenAI(openai(server, 100), signal),
    (signal: AbortSignal) => askAnthropic(anthropic(server, 100), signal),
  ];
  for (const call of calls) {
    const started = Date.now();
    const error = await failure(call(AbortSignal.timeout(400)));
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 390, `ended after ${elapsed} ms, before the abort`);
    assert.equal((error as Error).name, "AbortError");
    assert.equal((error as Error).constructor.name, "DOMException");
  }
});

test("a reply delayed past the client's timeout is a timeout, a shorter delay is not", async (t) => {
  const server = await serve(t);
  server.script([
    { reply: "late", delayMs: 300 },
    { reply: "in time", delayMs: 50 },
  ]);
  const client = openai(server, 150);
  assertExactly(await failure(askOpenAI(client)), OpenAI.APIConnectionTimeoutError);
  const reply = await askOpenAI(client);
  assert.equal(reply.choices[0]?.message.content, "in time");
});

test("a path neither API serves answers 404 in the caller's error format and keeps the script", async (t) => {
  const server = await serve(t);
  server.script([{ reply: "kept" }]);
  assertExactly(await failure(openai(server).models.list()), OpenAI.NotFoundError);
  const error = await failure(anthropic(server).models.list());
  assertExactly(error, Anthropic.NotFoundError);
  assert.equal((error as InstanceType<typeof Anthropic.APIError>).type, "not_found_error");
  assert.deepEqual(
    server.requests.map((r) => [r.api, r.method, r.path]),
    [
      ["unknown", "GET", "/v1/models"],
      ["unknown", "GET", "/v1/models"],
    ],
  );
  assert.equal(server.remaining, 1);
  assert.equal(server.count("unknown"), 2);
});

test("scripted behaviours are taken in order across both APIs, then the default", async (t) => {
  const server = await serve(t);
  server.script([{ status: 500 }, { reply: "from script" }]);
  server.setDefault({ reply: "from default" });
  assertExactly(await failure(askAnthropic(anthropic(server))), Anthropic.InternalServerError);
  const second = await askOpenAI(openai(server));
  assert.equal(second.choices[0]?.message.content, "from script");
  const third = await askAnthropic(anthropic(server));
  assert.deepEqual(third.content, [{ type: "text", text: "from default" }]);
  assert.equal(server.remaining, 0);
  assert.deepEqual(
    server.requests.map((r) => r.api),
    ["anthropic", "openai", "anthropic"],
  );
  assert.equal(server.count("openai"), 1);
  assert.equal(server.count("anthropic"), 2);
});

test("a scripted function chooses the behaviour from the request that arrived", async (t) => {
  const server = await serve(t);
  server.setDefault((request) =>
    JSON.stringify(request.messages).includes("fail") ? { status: 503 } : { reply: "fine" },
  );
  const client = openai(server);
  const ok = await askOpenAI(client);
  assert.equal(ok.choices[0]?.message.content, "fine");
  const error = await failure(
    client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "please fail" }],
    }),
  );
  assertExactly(error, OpenAI.InternalServerError);
  assert.deepEqual(server.requests[1]?.behaviour, { status: 503 });
});

test("a scripted function that throws answers 500 with its message, and the request is logged", async (t) => {
  const server = await serve(t);
  server.script([
    () => {
      throw new Error("no reply for this prompt");
    },
  ]);
  const error = await failure(askOpenAI(openai(server)));
  assertExactly(error, OpenAI.InternalServerError);
  assert.match((error as Error).message, /no reply for this prompt/);
  assert.equal(server.count("openai"), 1);
  assert.equal(server.requests[0]?.behaviour, undefined);
});

test("reset empties the script and the log and restarts the ids", async (t) => {
  const server = await serve(t);
  server.script([{ reply: "a" }, { reply: "b" }]);
  server.setDefault({ status: 500 });
  await askOpenAI(openai(server));
  server.reset();
  assert.equal(server.count(), 0);
  assert.equal(server.remaining, 0);
  const reply = await askOpenAI(openai(server));
  assert.equal(reply.choices[0]?.message.content, "ok");
  assert.equal(reply.id, "chatcmpl-test-1");
});

test("explicit apiKey and baseURL win over the environment, but *_CUSTOM_HEADERS still leak in", async (t) => {
  // Observed SDK behaviour Keel's client construction has to account for.
  const server = await serve(t);
  const env = {
    OPENAI_API_KEY: "sk-from-env",
    OPENAI_BASE_URL: "http://127.0.0.1:9/v1",
    OPENAI_ORG_ID: "org-from-env",
    OPENAI_PROJECT_ID: "proj-from-env",
    OPENAI_CUSTOM_HEADERS: "x-from-env: openai",
    ANTHROPIC_API_KEY: "sk-ant-from-env",
    ANTHROPIC_AUTH_TOKEN: "token-from-env",
    ANTHROPIC_BASE_URL: "http://127.0.0.1:9",
    ANTHROPIC_CUSTOM_HEADERS: "x-from-env: anthropic",
  };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  t.after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  Object.assign(process.env, env);

  await askAnthropic(anthropic(server));
  const organisationUnread = new OpenAI({
    apiKey: OPENAI_KEY,
    baseURL: server.openaiBaseURL,
    maxRetries: 0,
    organization: null,
    project: null,
  });
  await askOpenAI(openai(server));
  await askOpenAI(organisationUnread);

  const [fromAnthropic, fromOpenAI, fromNulled] = server.requests;
  assert.equal(fromAnthropic?.apiKey, ANTHROPIC_KEY);
  assert.ok(!JSON.stringify(fromAnthropic?.headers).includes("token-from-env"));
  assert.equal(fromAnthropic?.headers["x-from-env"], "anthropic");
  assert.equal(fromOpenAI?.apiKey, OPENAI_KEY);
  assert.equal(fromOpenAI?.headers["openai-organization"], "org-from-env");
  assert.equal(fromOpenAI?.headers["openai-project"], "proj-from-env");
  assert.equal(fromOpenAI?.headers["x-from-env"], "openai");
  assert.equal(fromNulled?.headers["openai-organization"], undefined);
  assert.equal(fromNulled?.headers["openai-project"], undefined);
});

test("close() drops hanging and stalled requests, and the process then exits by itself", async () => {
  // In a child process, so that a leaked socket or timer would show as a process that does not
  // exit: the child's clients wait up to 60 s, only the server's close() can end them sooner.
  const child = join(__dirname, "close-exits.child.ts");
  const started = Date.now();
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", child],
      { timeout: 15_000, cwd: process.cwd() },
      (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
    );
  });
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 5_000, `the child took ${elapsed} ms to exit`);
  assert.deepEqual(JSON.parse(stdout), {
    closedInMs: "< 500",
    openaiHang: "APIConnectionError <- TypeError: fetch failed",
    anthropicStall: "TypeError: terminated",
    anthropicStreamStall: "AnthropicError: terminated",
  });
});
