// Azure OpenAI (`type: azure_openai`) through the openai SDK's Azure client, against the local
// provider server's deployment routes: the deployment in the path, `api-version` in the query,
// the key in `api-key`, nothing read from the AZURE_OPENAI_* variables; recorded and replayed as
// any model call.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { loadWorkflow } from "@keel/core/runner/load";
import { readRecordedRun } from "@keel/core/replay/record";
import { replayRun } from "@keel/core/replay/replay";
import { startProviderServer, type ProviderServer } from "../../helpers/provider-server";
import { runText, stepOf, writeWorkflow } from "./harness";

let server: ProviderServer;
before(async () => {
  server = await startProviderServer();
});
after(async () => {
  await server.close();
});

const KEY = "azure-key-0123456789abcdef";

const FLOW = `keel: 1
name: azure
providers:
  az:
    type: azure_openai
    endpoint: "\${{ env.AZ_URL }}"
    deployment: gpt4o-prod
    api_version: 2024-10-21
    api_key: "\${{ secrets.AZ_KEY }}"
steps:
  ask: { type: llm, prompt: "Say hi." }
  other: { type: llm, prompt: "Say bye.", model: gpt4o-canary, needs: ask }
outputs:
  a: steps.ask.output
  b: steps.other.output
`;

test("an azure_openai provider calls its deployment with api-version and api-key, and a step's model names another deployment", async () => {
  server.reset();
  server.script([{ reply: "hi" }, { reply: "bye" }]);
  const saved = process.env.AZURE_OPENAI_API_KEY;
  process.env.AZURE_OPENAI_API_KEY = "from-the-environment";
  try {
    const run = await runText(FLOW, {
      env: { AZ_URL: server.url },
      secrets: { AZ_KEY: KEY },
    });
    assert.equal(run.result.status, "succeeded", run.result.error ?? "");
    assert.deepEqual(run.result.outputs, { a: "hi", b: "bye" });
    const [first, second] = server.requests;
    assert.equal(first!.path, "/openai/deployments/gpt4o-prod/chat/completions");
    assert.equal(second!.path, "/openai/deployments/gpt4o-canary/chat/completions");
    for (const r of [first!, second!]) {
      assert.equal(r.query, "?api-version=2024-10-21");
      assert.equal(r.headers["api-key"], KEY);
      assert.equal(r.headers["authorization"], undefined);
    }
    // The recorded input names the deployment and the API version, never the key.
    const attempts = await run.store.attempts(run.result.runId);
    const input = JSON.parse(
      (await run.store.blob(attempts.find((a) => a.stepId === "ask")!.inputHash))!,
    ) as Record<string, unknown>;
    assert.equal(input.model, "gpt4o-prod");
    assert.equal(input.apiVersion, "2024-10-21");
    assert.equal(input.providerType, "azure_openai");
    assert.ok(!JSON.stringify(input).includes(KEY));
    // A replay answers from the record: no request.
    const before = server.requests.length;
    const recorded = (await readRecordedRun(run.store, run.result.runId))!;
    const replay = await replayRun(recorded, run.loaded);
    assert.equal(server.requests.length, before);
    assert.equal(replay.divergence, null);
    assert.equal(replay.effectsExecuted, 0);
  } finally {
    if (saved === undefined) delete process.env.AZURE_OPENAI_API_KEY;
    else process.env.AZURE_OPENAI_API_KEY = saved;
  }
});

test("an azure_openai provider's failures are classified like OpenAI's", async () => {
  server.reset();
  server.script([{ status: 429, retryAfter: 0 }]);
  const run = await runText(FLOW.replace("needs: ask", "needs: ask, on_error: continue"), {
    env: { AZ_URL: server.url },
    secrets: { AZ_KEY: KEY },
  });
  assert.equal(stepOf(run, "ask").error?.kind, "rate_limit");
});

test("an azure_openai provider without its deployment or api_version is an error naming the key", () => {
  const path = writeWorkflow(
    FLOW.replace("    deployment: gpt4o-prod\n", "").replace("    api_version: 2024-10-21\n", ""),
  );
  const r = loadWorkflow(path);
  assert.equal(r.ok, false);
  const text = r.ok ? "" : r.diagnostics.map((d) => d.message).join("\n");
  assert.match(text, /deployment/);
  assert.match(text, /api_version/);
});
