// The openai and anthropic providers through the real SDK clients, against the local test server:
// replies with their metadata, and every fault ending in a recorded, classified attempt.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStore } from "@keel/core/store/memory-store";
import {
  startProviderServer,
  type Behaviour,
  type ProviderServer,
} from "../../helpers/provider-server";
import { runText, stepOf, writeWorkflow } from "./harness";

let server: ProviderServer;
before(async () => {
  server = await startProviderServer();
});
after(async () => {
  await server.close();
});

const KEY = "sk-test-0123456789abcdefghij";

function flow(step: string, retry = "", extra = ""): string {
  return `keel: 1
name: t
providers:
  oa:
    type: openai
    model: gpt-test
    base_url: "\${{ env.OA_URL }}"
    api_key: "\${{ secrets.OA_KEY }}"
    ${retry}
  an:
    type: anthropic
    model: claude-test
    base_url: "\${{ env.AN_URL }}"
    api_key: "\${{ secrets.AN_KEY }}"
${extra}steps:
${step}`;
}

async function run(
  text: string,
  behaviours: Behaviour[],
  store = new MemoryStore(),
  path?: string,
) {
  server.reset();
  server.script(behaviours);
  return runText(text, {
    store,
    path,
    env: { OA_URL: server.openaiBaseURL, AN_URL: server.anthropicBaseURL },
    secrets: { OA_KEY: KEY, AN_KEY: KEY },
  });
}

test("an OpenAI reply becomes the output; the attempt records served model, id, fingerprint and usage", async () => {
  const r = await run(
    flow(
      `  ask: { type: llm, provider: oa, system: Be brief., prompt: "Hi \${{ 1 + 1 }}", params: { temperature: 0.2, seed: 7 } }\n`,
    ),
    [
      {
        reply: "hello",
        model: "gpt-test-0613",
        fingerprint: "fp_1",
        usage: { input: 11, output: 2 },
        id: "chatcmpl-42",
      },
    ],
  );
  assert.equal(r.result.status, "succeeded", r.result.error ?? "");
  const [attempt] = await r.store.attempts(r.result.runId);
  assert.deepEqual(attempt!.meta, {
    provider: "oa",
    model: "gpt-test-0613",
    responseId: "chatcmpl-42",
    fingerprint: "fp_1",
    usage: { input: 11, output: 2 },
  });
  const sent = server.requests[0]!;
  assert.equal(sent.apiKey, KEY);
  assert.deepEqual([sent.model, sent.temperature, sent.seed], ["gpt-test", 0.2, 7]);
  assert.deepEqual(sent.messages, [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hi 2" },
  ]);
  const input = JSON.parse((await r.store.blob(attempt!.inputHash))!);
  assert.equal(JSON.stringify(input).includes(KEY), false);
});

test("an Anthropic reply is streamed; the system prompt goes apart from the messages", async () => {
  const r = await run(flow(`  ask: { type: llm, provider: an, system: Be brief., prompt: Hi }\n`), [
    { reply: "streamed hello", model: "claude-test-1", usage: { input: 5, output: 3 } },
  ]);
  assert.equal(r.result.status, "succeeded", r.result.error ?? "");
  const sent = server.requests[0]!;
  assert.equal(sent.stream, true);
  assert.equal(sent.system, "Be brief.");
  const [attempt] = await r.store.attempts(r.result.runId);
  assert.deepEqual(
    [attempt!.meta?.model, attempt!.meta?.usage],
    ["claude-test-1", { input: 5, output: 3 }],
  );
  const done = (await r.store.events(r.result.runId)).find((e) => e.type === "step_succeeded")!;
  assert.equal(await r.store.blob(String(done.data!.output)), '"streamed hello"');
});

const RETRY = "retry: { max_attempts: 2, backoff: fixed, initial: 10ms }";

const FAULTS: [string, Behaviour, string][] = [
  ["429 with Retry-After", { status: 429, retryAfterMs: 50 }, "rate_limit"],
  ["500", { status: 500 }, "server_error"],
  ["a malformed body", { malformed: true }, "server_error"],
  ["a truncated body", { truncated: true }, "server_error"],
  ["a body that stalls", { stall: true }, "timeout"],
  ["no answer", { hang: true }, "timeout"],
];

for (const [name, fault, kind] of FAULTS) {
  for (const provider of ["oa", "an"]) {
    test(`${provider === "oa" ? "OpenAI" : "Anthropic"}: ${name} is a ${kind} attempt, then the retry succeeds`, async () => {
      const r = await run(
        flow(`  ask: { type: llm, provider: ${provider}, prompt: Hi, timeout: 300ms, ${RETRY} }\n`),
        [fault, { reply: "ok" }],
      );
      assert.equal(r.result.status, "succeeded", r.result.error ?? "");
      const attempts = await r.store.attempts(r.result.runId);
      assert.deepEqual(
        attempts.map((a) => [a.status, a.errorKind]),
        [
          ["failed", kind],
          ["succeeded", null],
        ],
      );
      assert.equal(server.count(), 2);
    });
  }
}

test("a served model the price table knows gets a cost; a scripted reply never does", async () => {
  const r = await run(flow(`  ask: { type: llm, provider: oa, prompt: Hi }\n`), [
    { reply: "ok", model: "gpt-4o-mini-2024-07-18", usage: { input: 1000, output: 500 } },
  ]);
  const [attempt] = await r.store.attempts(r.result.runId);
  assert.ok(
    Math.abs(Number(attempt!.meta?.costUsd) - 0.00045) < 1e-12,
    String(attempt!.meta?.costUsd),
  );
  const unknown = await run(flow(`  ask: { type: llm, provider: oa, prompt: Hi }\n`), [
    { reply: "ok", model: "my-local-llama", usage: { input: 1000, output: 500 } },
  ]);
  const [other] = await unknown.store.attempts(unknown.result.runId);
  assert.equal(other!.meta?.costUsd, undefined);
  const scripted = await runText(
    "keel: 1\nname: s\nproviders:\n  p: { type: scripted, default: x, model: gpt-4o }\nsteps:\n  a: { type: llm, prompt: hi }\n",
  );
  const [free] = await scripted.store.attempts(scripted.result.runId);
  assert.equal(free!.meta?.costUsd, undefined);
});

test("OPENAI_* and ANTHROPIC_* variables of the environment never reach a request", async () => {
  const saved = { ...process.env };
  Object.assign(process.env, {
    OPENAI_CUSTOM_HEADERS: "X-Leak: openai",
    ANTHROPIC_CUSTOM_HEADERS: "X-Leak: anthropic",
    OPENAI_ORG_ID: "org-leak",
    OPENAI_API_KEY: "sk-env-leak",
  });
  try {
    // Distinct headers make distinct connections, so these clients are built now, with the variables set.
    const text = flow(
      `  a: { type: llm, provider: oa, prompt: Hi }\n  b: { type: llm, provider: an, prompt: Hi }\n`,
    ).replace("model: gpt-test\n", "model: gpt-test\n    headers: { X-Test: env-check }\n");
    const r = await run(text, [{ reply: "a" }, { reply: "b" }]);
    assert.equal(r.result.status, "succeeded", r.result.error ?? "");
    for (const q of server.requests) {
      assert.equal(q.headers["x-leak"], undefined, JSON.stringify(q.headers));
      assert.equal(q.headers["openai-organization"], undefined);
      assert.equal(q.apiKey, KEY);
    }
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  }
});

test("a rate limit waits for the provider's Retry-After before the next attempt", async () => {
  const r = await run(
    flow(
      `  ask: { type: llm, provider: oa, prompt: Hi, retry: { max_attempts: 2, initial: 1ms } }\n`,
    ),
    [{ status: 429, retryAfterMs: 400 }, { reply: "ok" }],
  );
  assert.equal(r.result.status, "succeeded");
  const [first, second] = server.requests;
  assert.ok(second!.at - first!.at >= 380, `waited ${second!.at - first!.at}ms`);
});

test("when OpenAI keeps failing, the fallback provider answers and each attempt names its provider", async () => {
  const r = await run(flow(`  ask: { type: llm, provider: oa, prompt: Hi }\n`, `fallback: an`), [
    { status: 503 },
    { reply: "from anthropic" },
  ]);
  assert.equal(r.result.status, "succeeded", r.result.error ?? "");
  const attempts = await r.store.attempts(r.result.runId);
  assert.deepEqual(
    attempts.map((a) => [a.meta?.provider, a.status, a.errorKind]),
    [
      ["oa", "failed", "server_error"],
      ["an", "succeeded", null],
    ],
  );
  assert.deepEqual(
    server.requests.map((q) => q.api),
    ["openai", "anthropic"],
  );
});

test("a reply that is not JSON for a json step is invalid_output; a wrong key is a client_error, not retried", async () => {
  const json = await run(
    flow(`  ask: { type: llm, provider: oa, prompt: Hi, output: { format: json } }\n`),
    [{ reply: "not json" }],
  );
  assert.equal(stepOf(json, "ask").error?.kind, "invalid_output");
  const denied = await run(flow(`  ask: { type: llm, provider: oa, prompt: Hi }\n`, RETRY), [
    { status: 401 },
  ]);
  assert.equal(stepOf(denied, "ask").error?.kind, "client_error");
  assert.equal(stepOf(denied, "ask").attempts, 1);
});

test("a changed served model or fingerprint between runs is a provider_drift finding", async () => {
  const store = new MemoryStore();
  const text = flow(`  ask: { type: llm, provider: oa, prompt: Hi, cache: false }\n`);
  const path = writeWorkflow(text);
  await run(text, [{ reply: "a", model: "gpt-test-1", fingerprint: "fp_a" }], store, path);
  const second = await run(
    text,
    [{ reply: "b", model: "gpt-test-1", fingerprint: "fp_b" }],
    store,
    path,
  );
  assert.deepEqual(
    second.result.findings.map((f) => f.kind),
    ["provider_drift"],
  );
  assert.match(
    second.result.findings[0]!.message,
    /system fingerprint changed from fp_a .* to fp_b/,
  );
});
