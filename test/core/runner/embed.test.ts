// `embed` steps (docs/format.md, "Steps"): embeddings through the openai SDK against the local
// provider server (OpenAI's and Azure's routes) and offline on `scripted`; recorded, cached and
// replayed like a model call.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStore } from "@keel/core/store/memory-store";
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

const KEY = "sk-embed-0123456789abcdef";

const FLOW = `keel: 1
name: embed
providers:
  oa:
    type: openai
    model: text-embedding-3-small
    base_url: "\${{ env.OA_URL }}"
    api_key: "\${{ secrets.OA_KEY }}"
steps:
  docs: { type: transform, expr: '["refund please", "login broken"]' }
  many: { type: embed, input: "\${{ steps.docs.output }}", dimensions: 3 }
  one: { type: embed, input: "refund please", dimensions: 3, needs: many }
outputs:
  many: steps.many.output
  one: steps.one.output
`;

const env = () => ({ OA_URL: server.openaiBaseURL });

test("an embed step sends its texts to the embeddings API and outputs a vector per text, or one vector", async () => {
  server.reset();
  const store = new MemoryStore();
  const run = await runText(FLOW, { store, env: env(), secrets: { OA_KEY: KEY } });
  assert.equal(run.result.status, "succeeded", run.result.error ?? "");
  const { many, one } = run.result.outputs as { many: number[][]; one: number[] };
  assert.equal(many.length, 2);
  assert.ok(many.every((v) => v.length === 3 && v.every((x) => typeof x === "number")));
  assert.deepEqual(one, many[0]);
  const [first] = server.requests;
  assert.equal(first!.path, "/v1/embeddings");
  assert.deepEqual((first!.body as { input: unknown }).input, ["refund please", "login broken"]);
  assert.equal((first!.body as { dimensions: unknown }).dimensions, 3);
  assert.equal(first!.apiKey, KEY);
  // Recorded like a model call: the served model and the usage, the key nowhere.
  const attempts = await store.attempts(run.result.runId);
  const a = attempts.find((x) => x.stepId === "many")!;
  assert.equal(a.meta?.model, "text-embedding-3-small");
  assert.equal(typeof (a.meta?.usage as { input?: unknown }).input, "number");
  assert.ok(!JSON.stringify(attempts).includes(KEY));
  // Cached by default, like a model call: a second run makes no request.
  const before = server.requests.length;
  const again = await runText(FLOW, { store, env: env(), secrets: { OA_KEY: KEY } });
  assert.deepEqual(again.result.outputs, run.result.outputs);
  assert.equal(server.requests.length, before);
  // A replay answers from the record.
  const recorded = (await readRecordedRun(store, run.result.runId))!;
  const replay = await replayRun(recorded, run.loaded);
  assert.equal(replay.divergence, null);
  assert.equal(replay.effectsExecuted, 0);
  assert.equal(server.requests.length, before);
});

test("an embed step over an empty list outputs an empty list and calls no provider", async () => {
  server.reset();
  const run = await runText(FLOW.replace(`'["refund please", "login broken"]'`, "'[]'"), {
    env: env(),
    secrets: { OA_KEY: KEY },
  });
  assert.equal(run.result.status, "succeeded", run.result.error ?? "");
  assert.deepEqual((run.result.outputs as { many: unknown }).many, []);
  // Only the single text of the other step reached the server.
  assert.deepEqual(
    server.requests.map((r) => (r.body as { input: unknown }).input),
    [["refund please"]],
  );
});

test("an embed step's provider failure is classified and retried like a model call's", async () => {
  server.reset();
  server.script([{ status: 500 }, { status: 500 }]);
  const run = await runText(
    FLOW.replace(
      "dimensions: 3 }\n  one",
      "dimensions: 3, retry: { max_attempts: 3, initial: 10ms } }\n  one",
    ),
    { env: env(), secrets: { OA_KEY: KEY }, noCache: true },
  );
  assert.equal(run.result.status, "succeeded", run.result.error ?? "");
  const attempts = (await run.store.attempts(run.result.runId)).filter((a) => a.stepId === "many");
  assert.deepEqual(
    attempts.map((a) => a.status),
    ["failed", "failed", "succeeded"],
  );
  assert.equal(attempts[0]!.errorKind, "server_error");
});

test("on scripted, embeddings are the same vector for the same text, unit length, offline", async () => {
  const flow = `keel: 1
name: offline
providers:
  s: { type: scripted }
steps:
  a: { type: embed, input: '\${{ ["x", "y", "x"] }}' }
outputs:
  a: steps.a.output
`;
  const run = await runText(flow);
  const [x, y, x2] = (run.result.outputs as { a: number[][] }).a;
  assert.deepEqual(x, x2);
  assert.notDeepEqual(x, y);
  assert.equal(x!.length, 8);
  assert.ok(Math.abs(Math.hypot(...x!) - 1) < 1e-5);
  const again = await runText(flow);
  assert.deepEqual(again.result.outputs, run.result.outputs);
});

test("an embed step whose input is not text fails naming it; an anthropic provider is an error before the run", async () => {
  const bad = await runText(`keel: 1
name: bad
providers:
  s: { type: scripted }
steps:
  a: { type: embed, input: '\${{ [1, 2] }}', on_error: continue }
`);
  assert.equal(stepOf(bad, "a").error?.kind, "expression");
  assert.match(stepOf(bad, "a").error?.message ?? "", /a text or a list of texts/);
  const path = writeWorkflow(`keel: 1
name: anthropic
providers:
  an: { type: anthropic, api_key: "\${{ secrets.K }}" }
steps:
  a: { type: embed, input: hi }
`);
  const r = loadWorkflow(path);
  assert.equal(r.ok, false);
  const text = r.ok ? "" : r.diagnostics.map((d) => `${d.code} ${d.message}`).join("\n");
  assert.match(text, /KEEL112 embed step 'a' uses provider 'an', an anthropic provider/);
});
