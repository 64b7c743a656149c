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
  client.messages.create(
    { model: "claude-sonnet-4-5", max_tokens: 64, messages: MESSAGES },
    { signal },
  );

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
