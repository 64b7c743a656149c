// The provider test server itself: behaviours shared by both APIs, the script, the log, the
// environment, and a clean shutdown.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import * as c from "./clients";

test("a reply that stalls after its headers outlives the SDK timeout and ends only by abort", async (t) => {
  // Both SDKs arm their timeout around fetch() only, i.e. until the headers arrive: a body that
  // stops coming is never timed out. The abort arrives as a DOM AbortError, not an SDK class.
  const server = await c.serve(t);
  server.script([{ stall: true }, { stall: true }]);
  const calls = [
    (signal: AbortSignal) => c.askOpenAI(c.openai(server, 100), signal),
    (signal: AbortSignal) => c.askAnthropic(c.anthropic(server, 100), signal),
  ];
  for (const call of calls) {
    const started = Date.now();
    const error = await c.failure(call(AbortSignal.timeout(400)));
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 390, `ended after ${elapsed} ms, before the abort`);
    assert.equal((error as Error).name, "AbortError");
    assert.equal((error as Error).constructor.name, "DOMException");
  }
});

test("a reply delayed past the client's timeout is a timeout, a shorter delay is not", async (t) => {
  const server = await c.serve(t);
  server.script([
    { reply: "late", delayMs: 300 },
    { reply: "in time", delayMs: 50 },
  ]);
  const client = c.openai(server, 150);
  c.assertExactly(await c.failure(c.askOpenAI(client)), OpenAI.APIConnectionTimeoutError);
  const reply = await c.askOpenAI(client);
  assert.equal(reply.choices[0]?.message.content, "in time");
});

test("a path neither API serves answers 404 in the caller's error format and keeps the script", async (t) => {
  const server = await c.serve(t);
  server.script([{ reply: "kept" }]);
  c.assertExactly(await c.failure(c.openai(server).models.list()), OpenAI.NotFoundError);
  const error = await c.failure(c.anthropic(server).models.list());
  c.assertExactly(error, Anthropic.NotFoundError);
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
  const server = await c.serve(t);
  server.script([{ status: 500 }, { reply: "from script" }]);
  server.setDefault({ reply: "from default" });
  c.assertExactly(
    await c.failure(c.askAnthropic(c.anthropic(server))),
    Anthropic.InternalServerError,
  );
  const second = await c.askOpenAI(c.openai(server));
  assert.equal(second.choices[0]?.message.content, "from script");
  const third = await c.askAnthropic(c.anthropic(server));
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
  const server = await c.serve(t);
  server.setDefault((request) =>
    JSON.stringify(request.messages).includes("fail") ? { status: 503 } : { reply: "fine" },
  );
  const client = c.openai(server);
  const ok = await c.askOpenAI(client);
  assert.equal(ok.choices[0]?.message.content, "fine");
  const error = await c.failure(
    client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "please fail" }],
    }),
  );
  c.assertExactly(error, OpenAI.InternalServerError);
  assert.deepEqual(server.requests[1]?.behaviour, { status: 503 });
});

test("a scripted function that throws answers 500 with its message, and the request is logged", async (t) => {
  const server = await c.serve(t);
  server.script([
    () => {
      throw new Error("no reply for this prompt");
    },
  ]);
  const error = await c.failure(c.askOpenAI(c.openai(server)));
  c.assertExactly(error, OpenAI.InternalServerError);
  assert.match((error as Error).message, /no reply for this prompt/);
  assert.equal(server.count("openai"), 1);
  assert.equal(server.requests[0]?.behaviour, undefined);
});

test("reset empties the script and the log and restarts the ids", async (t) => {
  const server = await c.serve(t);
  server.script([{ reply: "a" }, { reply: "b" }]);
  server.setDefault({ status: 500 });
  await c.askOpenAI(c.openai(server));
  server.reset();
  assert.equal(server.count(), 0);
  assert.equal(server.remaining, 0);
  const reply = await c.askOpenAI(c.openai(server));
  assert.equal(reply.choices[0]?.message.content, "ok");
  assert.equal(reply.id, "chatcmpl-test-1");
});

test("explicit apiKey and baseURL win over the environment, but *_CUSTOM_HEADERS still leak in", async (t) => {
  // Observed SDK behaviour Keel's client construction has to account for.
  const server = await c.serve(t);
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

  await c.askAnthropic(c.anthropic(server));
  const organisationUnread = new OpenAI({
    apiKey: c.OPENAI_KEY,
    baseURL: server.openaiBaseURL,
    maxRetries: 0,
    organization: null,
    project: null,
  });
  await c.askOpenAI(c.openai(server));
  await c.askOpenAI(organisationUnread);

  const [fromAnthropic, fromOpenAI, fromNulled] = server.requests;
  assert.equal(fromAnthropic?.apiKey, c.ANTHROPIC_KEY);
  assert.ok(!JSON.stringify(fromAnthropic?.headers).includes("token-from-env"));
  assert.equal(fromAnthropic?.headers["x-from-env"], "anthropic");
  assert.equal(fromOpenAI?.apiKey, c.OPENAI_KEY);
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
