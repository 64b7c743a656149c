// The provider test server, driven by the real `openai` client built the way Keel builds it
// (explicit key and base URL, maxRetries 0, a timeout, an AbortSignal on the request). Each test
// pins the exact error class the SDK throws for a fault: the runner's error classification is
// written from these, so a failure here after an SDK upgrade means it needs another look.
import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import * as c from "./clients";

// ---- OpenAI ----

test("an OpenAI reply carries the scripted content, served model, id, usage and fingerprint", async (t) => {
  const server = await c.serve(t);
  server.script([
    {
      reply: { answer: 42 },
      model: "gpt-4o-2024-08-06",
      fingerprint: "fp_test_1",
      usage: { input: 12, output: 3 },
    },
  ]);
  const client = c.openai(server);
  const first = await c.askOpenAI(client);
  assert.equal(first.choices[0]?.message.content, '{"answer":42}');
  assert.equal(first.choices[0]?.finish_reason, "stop");
  assert.equal(first.model, "gpt-4o-2024-08-06");
  assert.equal(first.id, "chatcmpl-test-1");
  assert.equal(first.system_fingerprint, "fp_test_1");
  assert.deepEqual(first.usage, { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 });
  assert.equal(first._request_id, "req_test_1");

  // Past the script, the default reply echoes the requested model and counts ids on.
  const second = await c.askOpenAI(client);
  assert.equal(second.choices[0]?.message.content, "ok");
  assert.equal(second.model, "gpt-4o");
  assert.equal(second.id, "chatcmpl-test-2");
  assert.equal(second.system_fingerprint, null);
});

test("the OpenAI request log shows the api key and the parameters as sent", async (t) => {
  const server = await c.serve(t);
  const messages = [
    { role: "system" as const, content: "Be brief." },
    { role: "user" as const, content: "Hi" },
  ];
  await c.openai(server).chat.completions.create({
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
  assert.equal(request.apiKey, c.OPENAI_KEY);
  assert.equal(request.headers["authorization"], `Bearer ${c.OPENAI_KEY}`);
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
  const server = await c.serve(t);
  server.script([{ status: 429, retryAfter: 3, retryAfterMs: 2500 }]);
  const error = await c.failure(c.askOpenAI(c.openai(server)));
  c.assertExactly(error, OpenAI.RateLimitError);
  const rate = error as InstanceType<typeof OpenAI.RateLimitError>;
  assert.equal(rate.status, 429);
  assert.equal(rate.headers?.get("retry-after"), "3");
  assert.equal(rate.headers?.get("retry-after-ms"), "2500");
  assert.equal(rate.code, "rate_limit_exceeded");
  // maxRetries 0: the SDK tried once and left retrying to Keel.
  assert.equal(server.count(), 1);
});

test("every 5xx from OpenAI is an InternalServerError carrying its status", async (t) => {
  const server = await c.serve(t);
  const client = c.openai(server);
  for (const status of [500, 502, 503, 529]) {
    server.script([{ status }]);
    const error = await c.failure(c.askOpenAI(client));
    c.assertExactly(error, OpenAI.InternalServerError);
    assert.equal((error as InstanceType<typeof OpenAI.APIError>).status, status);
  }
});

test("a hanging OpenAI request ends in APIConnectionTimeoutError when the client's timeout passes", async (t) => {
  const server = await c.serve(t);
  server.script([{ hang: true }]);
  const started = Date.now();
  const error = await c.failure(c.askOpenAI(c.openai(server, 200)));
  const elapsed = Date.now() - started;
  c.assertExactly(error, OpenAI.APIConnectionTimeoutError);
  assert.ok(elapsed >= 190 && elapsed < 2_000, `timed out after ${elapsed} ms`);
});

test("aborting a hanging OpenAI request is an APIUserAbortError, not a timeout", async (t) => {
  const server = await c.serve(t);
  server.script([{ hang: true }]);
  const abort = new AbortController();
  const outcome = c.failure(c.askOpenAI(c.openai(server), abort.signal));
  await server.waitForRequest(1);
  abort.abort();
  const error = await outcome;
  c.assertExactly(error, OpenAI.APIUserAbortError);
  assert.ok(!(error instanceof OpenAI.APIConnectionTimeoutError));
});

test("a malformed OpenAI reply is a bare SyntaxError, not an SDK error", async (t) => {
  const server = await c.serve(t);
  server.script([{ malformed: true }]);
  const error = await c.failure(c.askOpenAI(c.openai(server)));
  c.assertExactly(error, SyntaxError);
});

test("a truncated OpenAI reply is undici's TypeError 'terminated', not an SDK error", async (t) => {
  const server = await c.serve(t);
  server.script([{ truncated: true }]);
  const error = await c.failure(c.askOpenAI(c.openai(server)));
  c.assertExactly(error, TypeError);
  assert.equal((error as Error).message, "terminated");
});

test("an OpenAI stream delivers the text in several chunks and usage in its last chunk", async (t) => {
  const server = await c.serve(t);
  server.script([{ reply: "Hello there, streaming world.", usage: { input: 5, output: 6 } }]);
  const stream = await c.openai(server).chat.completions.create({
    model: "gpt-4o",
    messages: c.MESSAGES,
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
  const server = await c.serve(t);
  server.script([{ truncatedStream: true }]);
  const stream = await c.openai(server).chat.completions.create({
    model: "gpt-4o",
    messages: c.MESSAGES,
    stream: true,
  });
  let text = "";
  const error = await c.failure(
    (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })(),
  );
  c.assertExactly(error, TypeError);
  assert.equal((error as Error).message, "terminated");
  assert.ok(text.length > 0, "some text arrived before the cut");
});

test("a malformed event in an OpenAI stream throws a bare SyntaxError while it is read", async (t) => {
  const server = await c.serve(t);
  server.script([{ malformed: true }]);
  const stream = await c.openai(server).chat.completions.create({
    model: "gpt-4o",
    messages: c.MESSAGES,
    stream: true,
  });
  const error = await c.failure(
    (async () => {
      for await (const _chunk of stream);
    })(),
  );
  c.assertExactly(error, SyntaxError);
});

test("an OpenAI stream that never starts ends in APIConnectionTimeoutError", async (t) => {
  const server = await c.serve(t);
  server.script([{ hang: true }]);
  const error = await c.failure(
    c.openai(server, 200).chat.completions.create({
      model: "gpt-4o",
      messages: c.MESSAGES,
      stream: true,
    }),
  );
  c.assertExactly(error, OpenAI.APIConnectionTimeoutError);
});

test("an OpenAI stream aborted mid-way ends without any error, its text cut short", async (t) => {
  const server = await c.serve(t);
  server.script([{ stall: true }]);
  const abort = new AbortController();
  const stream = await c
    .openai(server)
    .chat.completions.create(
      { model: "gpt-4o", messages: c.MESSAGES, stream: true },
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
  const server = await c.serve(t);
  server.script([{ streamError: { type: "server_error", message: "stream broke" } }]);
  const stream = await c.openai(server).chat.completions.create({
    model: "gpt-4o",
    messages: c.MESSAGES,
    stream: true,
  });
  const error = await c.failure(
    (async () => {
      for await (const _chunk of stream);
    })(),
  );
  c.assertExactly(error, OpenAI.APIError);
  assert.equal((error as InstanceType<typeof OpenAI.APIError>).status, undefined);
  assert.equal((error as Error).message, "stream broke");
});
