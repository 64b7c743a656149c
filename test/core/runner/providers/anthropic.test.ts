// The provider test server, driven by the real `@anthropic-ai/sdk` client built the way Keel builds it
// (explicit key and base URL, maxRetries 0, a timeout, an AbortSignal on the request). Each test
// pins the exact error class the SDK throws for a fault: the runner's error classification is
// written from these, so a failure here after an SDK upgrade means it needs another look.
import { test } from "node:test";
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import * as c from "./clients";

test("an Anthropic reply carries the scripted content, served model, id and usage", async (t) => {
  const server = await c.serve(t);
  server.script([
    { reply: "Hello!", model: "claude-test-20260101", usage: { input: 9, output: 2 } },
  ]);
  const client = c.anthropic(server);
  const message = await c.askAnthropic(client);
  assert.deepEqual(message.content, [{ type: "text", text: "Hello!" }]);
  assert.equal(message.model, "claude-test-20260101");
  assert.equal(message.id, "msg_test_1");
  assert.equal(message.stop_reason, "end_turn");
  assert.equal(message.usage.input_tokens, 9);
  assert.equal(message.usage.output_tokens, 2);
  assert.ok(!("system_fingerprint" in message));
  assert.equal(message._request_id, "req_test_1");

  const second = await c.askAnthropic(client);
  assert.equal(second.id, "msg_test_2");
  assert.equal(second.model, "claude-test");
});

test("the Anthropic request log shows the api key and the parameters as sent", async (t) => {
  const server = await c.serve(t);
  await c.anthropic(server).messages.create({
    model: "claude-test-small",
    system: "Be brief.",
    messages: c.MESSAGES,
    max_tokens: 100,
  });
  const [request] = server.requests;
  assert.ok(request);
  assert.equal(request.api, "anthropic");
  assert.equal(request.path, "/v1/messages");
  // This SDK sends the key as a Bearer token, not in x-api-key: redaction must cover both.
  assert.equal(request.apiKey, c.ANTHROPIC_KEY);
  assert.equal(request.headers["authorization"], `Bearer ${c.ANTHROPIC_KEY}`);
  assert.equal(request.headers["x-api-key"], undefined);
  assert.ok(request.headers["anthropic-version"]);
  assert.equal(request.model, "claude-test-small");
  assert.equal(request.system, "Be brief.");
  assert.deepEqual(request.messages, c.MESSAGES);
  assert.equal(request.max_tokens, 100);
  // SDK 1.x speaks API version 2026-10-21, whose Messages parameters have no temperature or seed.
  assert.equal(request.temperature, undefined);
  assert.equal(request.seed, undefined);
});

test("a 429 from Anthropic is a RateLimitError whose headers carry Retry-After", async (t) => {
  const server = await c.serve(t);
  server.script([{ status: 429, retryAfter: 7 }]);
  const error = await c.failure(c.askAnthropic(c.anthropic(server)));
  c.assertExactly(error, Anthropic.RateLimitError);
  const rate = error as InstanceType<typeof Anthropic.RateLimitError>;
  assert.equal(rate.status, 429);
  assert.equal(rate.headers?.get("retry-after"), "7");
  assert.equal(rate.headers?.get("retry-after-ms"), null);
  assert.equal(rate.type, "rate_limit_error");
  assert.equal(server.count(), 1);
});

test("5xx from Anthropic are InternalServerError or its subclasses for 503 and 529", async (t) => {
  const server = await c.serve(t);
  const client = c.anthropic(server);
  const expected = [
    [500, Anthropic.InternalServerError],
    [502, Anthropic.InternalServerError],
    [503, Anthropic.ServiceUnavailableError],
    [529, Anthropic.OverloadedError],
  ] as const;
  for (const [status, errorClass] of expected) {
    server.script([{ status }]);
    const error = await c.failure(c.askAnthropic(client));
    c.assertExactly(error, errorClass);
    assert.ok(error instanceof Anthropic.InternalServerError);
    assert.equal((error as InstanceType<typeof Anthropic.APIError>).status, status);
  }
});

test("a hanging Anthropic request ends in APIConnectionTimeoutError when the client's timeout passes", async (t) => {
  const server = await c.serve(t);
  server.script([{ hang: true }]);
  const started = Date.now();
  const error = await c.failure(c.askAnthropic(c.anthropic(server, 200)));
  const elapsed = Date.now() - started;
  c.assertExactly(error, Anthropic.APIConnectionTimeoutError);
  assert.ok(elapsed >= 190 && elapsed < 2_000, `timed out after ${elapsed} ms`);
});

test("aborting a hanging Anthropic request is an APIUserAbortError, not a timeout", async (t) => {
  const server = await c.serve(t);
  server.script([{ hang: true }]);
  const abort = new AbortController();
  const outcome = c.failure(c.askAnthropic(c.anthropic(server), abort.signal));
  await server.waitForRequest(1);
  abort.abort();
  const error = await outcome;
  c.assertExactly(error, Anthropic.APIUserAbortError);
  assert.ok(!(error instanceof Anthropic.APIConnectionTimeoutError));
});

test("a malformed Anthropic reply is a bare SyntaxError, not an SDK error", async (t) => {
  const server = await c.serve(t);
  server.script([{ malformed: true }]);
  const error = await c.failure(c.askAnthropic(c.anthropic(server)));
  c.assertExactly(error, SyntaxError);
});

test("a truncated Anthropic reply is undici's TypeError 'terminated', not an SDK error", async (t) => {
  const server = await c.serve(t);
  server.script([{ truncated: true }]);
  const error = await c.failure(c.askAnthropic(c.anthropic(server)));
  c.assertExactly(error, TypeError);
  assert.equal((error as Error).message, "terminated");
});

test("an Anthropic stream assembles its final message from the SSE events", async (t) => {
  const server = await c.serve(t);
  server.script([{ reply: "Hello there, streaming world.", usage: { input: 4, output: 6 } }]);
  const stream = c.streamAnthropic(c.anthropic(server));
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
  const server = await c.serve(t);
  server.script([{ truncatedStream: true }]);
  const stream = c.streamAnthropic(c.anthropic(server));
  let text = "";
  stream.on("text", (delta) => (text += delta));
  const error = await c.failure(stream.finalMessage());
  c.assertExactly(error, Anthropic.AnthropicError);
  assert.equal((error as Error).message, "terminated");
  c.assertExactly(c.causeOf(error), TypeError);
  assert.ok(text.length > 0, "some text arrived before the cut");
});

test("a malformed event in an Anthropic stream fails as a bare AnthropicError caused by a SyntaxError", async (t) => {
  const server = await c.serve(t);
  server.script([{ malformed: true }]);
  const error = await c.failure(c.streamAnthropic(c.anthropic(server)).finalMessage());
  c.assertExactly(error, Anthropic.AnthropicError);
  c.assertExactly(c.causeOf(error), SyntaxError);
});

test("an Anthropic stream that never starts ends in APIConnectionTimeoutError", async (t) => {
  const server = await c.serve(t);
  server.script([{ hang: true }]);
  const error = await c.failure(c.streamAnthropic(c.anthropic(server, 200)).finalMessage());
  c.assertExactly(error, Anthropic.APIConnectionTimeoutError);
});

test("aborting an Anthropic stream mid-way is an APIUserAbortError", async (t) => {
  const server = await c.serve(t);
  server.script([{ stall: true }]);
  const abort = new AbortController();
  const stream = c.streamAnthropic(c.anthropic(server), abort.signal);
  stream.on("text", () => abort.abort());
  const error = await c.failure(stream.finalMessage());
  c.assertExactly(error, Anthropic.APIUserAbortError);
});

test("an overloaded error event inside an Anthropic stream is a plain APIError without a status", async (t) => {
  const server = await c.serve(t);
  server.script([{ streamError: { type: "overloaded_error", message: "Overloaded" } }]);
  const error = await c.failure(c.streamAnthropic(c.anthropic(server)).finalMessage());
  c.assertExactly(error, Anthropic.APIError);
  const apiError = error as InstanceType<typeof Anthropic.APIError>;
  assert.equal(apiError.status, undefined);
  assert.equal(apiError.type, "overloaded_error");
});
