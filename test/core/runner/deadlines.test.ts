// Deadlines: every step that reaches outside the process has one, by default too, and a server
// that never answers ends the attempt as a `timeout`, never as a hang or a `server_error`.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startProviderServer, type ProviderServer } from "../../helpers/provider-server";
import { load, runText, stepOf, writeWorkflow } from "./harness";
import { DEFAULT_TIMEOUTS, stepTimeout } from "@keel/core/runner/policy";
import { isIdleTimeout, unlimitedDispatcher } from "@keel/core/runner/providers/connection";

let server: ProviderServer;
before(async () => {
  server = await startProviderServer();
});
after(async () => {
  await server.close();
});

test("an http step against a server that never answers fails as a timeout at its time limit", async () => {
  server.reset();
  server.setDefault({ hang: true });
  const started = Date.now();
  const run = await runText(
    `keel: 1
name: t
steps:
  call:
    type: http
    method: POST
    url: "\${{ env.URL }}"
    body: { q: 1 }
    timeout: 300ms
`,
    { env: { URL: `${server.openaiBaseURL}/chat/completions` } },
  );
  const took = Date.now() - started;
  const { store, result } = run;
  assert.equal(result.status, "failed");
  assert.equal(stepOf(run, "call").error?.kind, "timeout");
  assert.match(stepOf(run, "call").error?.message ?? "", /no answer within 300ms/);
  assert.ok(took >= 300 && took < 5000, `took ${took} ms`);
  const [attempt] = await store.attempts(result.runId);
  assert.equal(attempt?.errorKind, "timeout");
});

test("an llm step against a server that never answers fails as a timeout at the provider's limit", async () => {
  server.reset();
  server.setDefault({ hang: true });
  const run = await runText(
    `keel: 1
name: t
providers:
  oa: { type: openai, model: m, base_url: "\${{ env.URL }}", timeout: 250ms }
steps:
  ask: { type: llm, prompt: Hi }
`,
    { env: { URL: server.openaiBaseURL } },
  );
  assert.equal(stepOf(run, "ask").error?.kind, "timeout");
  assert.match(stepOf(run, "ask").error?.message ?? "", /no answer within 250ms/);
});

test(
  "without any timeout set, an http step against a silent server ends at the http default, 2m",
  { timeout: 20_000 },
  async (t) => {
    server.reset();
    server.setDefault({ hang: true });
    // The runner's clock for timeouts is mocked: two minutes pass at once.
    t.mock.timers.enable({ apis: ["setTimeout"] });
    let ended = false;
    const running = runText(
      `keel: 1
name: t
steps:
  call: { type: http, method: POST, url: "\${{ env.URL }}", body: { q: 1 } }
`,
      { env: { URL: `${server.openaiBaseURL}/chat/completions` } },
    ).finally(() => (ended = true));
    await server.waitForRequest(1);
    t.mock.timers.tick(119_000);
    await new Promise((r) => setImmediate(r));
    assert.equal(ended, false, "still waiting before 2m");
    t.mock.timers.tick(1_000);
    const run = await running;
    assert.equal(stepOf(run, "call").error?.kind, "timeout");
    assert.equal(stepOf(run, "call").error?.message, "no answer within 2m");
  },
);

test("without any timeout set, each step type gets its documented default", () => {
  const { workflow: wf } = load(
    writeWorkflow(
      `keel: 1
name: t
providers:
  p: { type: scripted, default: x }
  slow: { type: scripted, default: x, timeout: 20m }
steps:
  ask: { type: llm, provider: p, prompt: Hi }
  call: { type: http, url: "http://127.0.0.1:1/" }
  use: { type: tool, uses: ./t.js#run }
  cmd: { type: shell, command: ["true"] }
  vec: { type: embed, provider: p, input: hi }
  calc: { type: transform, expr: "1" }
  own: { type: shell, command: ["true"], timeout: 5s }
`,
      { "t.js": "export function run() { return 1; }" },
    ),
  );
  const at = (id: string, provider?: string) => stepTimeout(wf.steps[id]!, wf, provider);
  assert.equal(at("ask", "p"), "10m");
  assert.equal(at("call"), "2m");
  assert.equal(at("use"), "10m");
  assert.equal(at("cmd"), "1h");
  assert.equal(at("vec", "p"), "2m");
  assert.equal(at("calc"), undefined);
  assert.equal(at("own"), "5s");
  // A provider's and the workflow's settings come before the type's default.
  assert.equal(at("ask", "slow"), "20m");
  assert.equal(
    stepTimeout(wf.steps.call!, { ...wf, defaults: { timeout: "7s" } }, undefined),
    "7s",
  );
  assert.deepEqual(Object.keys(DEFAULT_TIMEOUTS).sort(), [
    "agent",
    "assert",
    "embed",
    "http",
    "llm",
    "shell",
    "tool",
    "transform",
    "workflow",
  ]);
});

test("fetch's own idle limit, where it still applies, is a timeout too", async () => {
  server.reset();
  server.setDefault({ hang: true });
  // An agent of fetch's kind with a short limit for headers: the error its limit ends in.
  const unlimited = (await unlimitedDispatcher()) as { constructor: new (o: object) => object };
  assert.ok(unlimited, "fetch's agent is reachable, so Keel's deadline is the only one");
  const short = new unlimited.constructor({ headersTimeout: 200, bodyTimeout: 200 });
  const error = await fetch(`${server.openaiBaseURL}/chat/completions`, {
    method: "POST",
    body: "{}",
    dispatcher: short,
  } as RequestInit).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error, "the request failed");
  assert.equal(isIdleTimeout(error), true);
  assert.equal(isIdleTimeout(new Error("fetch failed")), false);
  await (short as { close(): Promise<void> }).close();
});
