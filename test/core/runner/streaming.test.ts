// Streamed model replies (docs/runner.md, "Streaming"; docs/dev/authoring.md): chunks are reported
// live through the Effects and never recorded; the attempt keeps the assembled reply, redacted as a
// whole, with its timing and piece boundaries; a cut stream keeps its partial reply.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createNodeEffects, type LiveChunk } from "@keel/core/runner/node-effects";
import { Redactor } from "@keel/core/runner/redact";
import { LiveRedaction, recordedChunks, streamMeta } from "@keel/core/runner/stream";
import { startProviderServer } from "../../helpers/provider-server";
import { load, runText, writeWorkflow } from "./harness";

const SECRET = "sk-live-4f9a 7c2e-Q81";

/** Runs `text` with node effects reporting chunks into `chunks`, and the secret TOKEN. */
async function runStreaming(text: string, chunks: LiveChunk[] = []) {
  const path = writeWorkflow(text);
  const loaded = load(path);
  const effects = createNodeEffects({
    providers: loaded.workflow.providers ?? {},
    dir: loaded.dir,
    onChunk: (c) => chunks.push(c),
  });
  const run = await runText(text, { path, effects, secrets: { TOKEN: SECRET } });
  const attempts = await run.store.attempts(run.result.runId);
  const events = await run.store.events(run.result.runId);
  return { ...run, attempts, events, chunks };
}

/** A workflow whose one streamed llm step `greet` asks the provider `p` (its YAML given) "hello". */
const streamed = (provider: string) => `keel: 1
name: s
providers:
  p:
${provider}
steps:
  greet:
    type: llm
    stream: true
    prompt: hello
outputs:
  said: steps.greet.output
`;

const scripted = (response: string) =>
  streamed(`    type: scripted
    responses:
      - match: hello
${response}`);

test("scripted chunks stream in order, with their delays; the output is the assembled reply and the meta keeps ttft, count and parts", async () => {
  const run = await runStreaming(
    scripted(`        chunks: ["Hel", { text: "lo, ", delay: 30ms }, "world"]`),
  );
  assert.equal(run.result.status, "succeeded");
  assert.deepEqual(run.result.outputs, { said: "Hello, world" });
  assert.deepEqual(
    run.chunks.map((c) => [c.stepId, c.scope, c.attempt, c.text]),
    [
      ["greet", null, 1, "Hel"],
      ["greet", null, 1, "lo, "],
      ["greet", null, 1, "world"],
    ],
  );
  const meta = run.attempts[0]!.meta as {
    stream: { ttftMs: number; chunks: number; parts: [number, number][] };
  };
  assert.equal(meta.stream.chunks, 3);
  assert.deepEqual(
    meta.stream.parts.map((p) => p[0]),
    [3, 4, 5],
  );
  assert.ok(
    meta.stream.parts[1]![1] >= 25,
    `the delayed chunk came late: ${meta.stream.parts[1]![1]}`,
  );
  assert.ok(meta.stream.ttftMs < meta.stream.parts[1]![1]);
  // The meta keeps lengths and times, not the chunks' text.
  assert.ok(!JSON.stringify(run.attempts[0]!.meta).includes("Hel"));
  assert.deepEqual(
    recordedChunks(run.attempts[0]!.meta, "Hello, world")?.map((c) => c.text),
    ["Hel", "lo, ", "world"],
  );
});

test("a step without stream: true reports no chunks and records no stream meta", async () => {
  const run = await runStreaming(
    scripted(`        chunks: ["Hel", "lo"]`).replace("    stream: true\n", ""),
  );
  assert.deepEqual(run.result.outputs, { said: "Hello" });
  assert.equal(run.chunks.length, 0);
  assert.equal((run.attempts[0]!.meta as { stream?: unknown }).stream, undefined);
});

test("defaults.llm.stream streams every llm step that does not say; a step's stream: false wins", async () => {
  const base = scripted(`        chunks: ["Hel", "lo"]`).replace("    stream: true\n", "");
  const on = await runStreaming(
    base.replace("steps:", "defaults:\n  llm: { stream: true }\nsteps:"),
  );
  assert.deepEqual(on.result.outputs, { said: "Hello" });
  assert.deepEqual(
    on.chunks.map((c) => c.text),
    ["Hel", "lo"],
  );
  assert.equal((on.attempts[0]!.meta as { stream: { chunks: number } }).stream.chunks, 2);
  const off = await runStreaming(
    base
      .replace("steps:", "defaults:\n  llm: { stream: true }\nsteps:")
      .replace("    prompt:", "    stream: false\n    prompt:"),
  );
  assert.equal(off.chunks.length, 0);
});

test("a secret split across chunks is recorded as its mark, and the parts cut the redacted text without a piece of it", async () => {
  const [a, b] = [SECRET.slice(0, 9), SECRET.slice(9)];
  const run = await runStreaming(scripted(`        chunks: ["key: ", "${a}", "${b}", " done"]`));
  const meta = run.attempts[0]!.meta as { stream: { parts: [number, number][] } };
  const recorded = JSON.stringify([run.attempts, run.events]);
  assert.ok(!recorded.includes(a) && !recorded.includes(b.slice(0, 6)), recorded);
  const chunks = recordedChunks(run.attempts[0]!.meta, "key: «secret:TOKEN» done")!;
  assert.equal(chunks.map((c) => c.text).join(""), "key: «secret:TOKEN» done");
  assert.ok(
    chunks.every((c) => !c.text.includes(a.slice(0, 6)) && !c.text.includes(b)),
    JSON.stringify(chunks),
  );
  assert.equal(
    meta.stream.parts.reduce((n, p) => n + p[0], 0),
    "key: «secret:TOKEN» done".length,
  );
});

test("streamMeta moves a boundary inside a secret to its mark's edge and keeps the JSON reply's text", () => {
  const redactor = new Redactor({ TOKEN: SECRET });
  const raw = `{"k": "${SECRET}"}`;
  const timing = {
    ttftMs: 5,
    chunks: [
      [10, 5],
      [10, 9],
      [raw.length - 20, 12],
    ] as [number, number][],
  };
  const meta = streamMeta(timing, raw, { k: SECRET }, (t) => redactor.text(t));
  assert.equal(meta.text, `{"k": "«secret:TOKEN»"}`);
  const pieces = recordedChunks({ stream: meta }, null)!.map((c) => c.text);
  assert.equal(pieces.join(""), meta.text);
  for (const p of pieces) assert.ok(!p.includes("sk-li") && !p.includes("Q81"), p);
});

test("live redaction holds back the longest secret minus one, so a secret split across chunks is never printed", () => {
  const redactor = new Redactor({ TOKEN: SECRET });
  const live = new LiveRedaction(redactor);
  const out: string[] = [];
  const text = `before ${SECRET} after and some more text`;
  // Every split into chunks of 1 to 5 characters.
  for (let size = 1; size <= 5; size++) {
    const l = new LiveRedaction(redactor);
    let printed = "";
    for (let i = 0; i < text.length; i += size) printed += l.push(text.slice(i, i + size));
    printed += l.end();
    assert.equal(printed, "before «secret:TOKEN» after and some more text");
  }
  // Nothing is held back beyond the rule: the last longest−1 characters.
  out.push(live.push("x".repeat(40)));
  assert.equal(out[0]!.length, 40 - (redactor.longest - 1));
  assert.equal(live.end().length, redactor.longest - 1);
  // Without secrets, nothing is held back.
  assert.equal(new LiveRedaction(new Redactor({})).push("abc"), "abc");
});

test("a scripted stream cut in the middle fails the attempt as server_error and keeps its partial reply, redacted", async () => {
  const run = await runStreaming(
    scripted(
      `        chunks: ["part one ", "${SECRET.slice(0, 10)}"]\n        error: server_error`,
    ),
  );
  assert.equal(run.result.status, "failed");
  const failed = run.attempts[0]!;
  assert.equal(failed.errorKind, "server_error");
  assert.match(failed.errorMessage!, /broke after 2 chunks/);
  assert.equal((failed.meta as { partial: string }).partial, "part one «secret:TOKEN»");
});

for (const api of ["openai", "anthropic"] as const) {
  const flow = (url: string) =>
    streamed(`    type: ${api}
    base_url: "${url}"
    api_key: "\${{ secrets.TOKEN }}"`);

  test(`${api}: a streamed reply arrives in chunks in order, with usage and time to first token`, async (t) => {
    const server = await startProviderServer();
    t.after(() => server.close());
    server.script([
      { reply: "one two three four", usage: { input: 7, output: 4 }, chunkDelayMs: 15 },
    ]);
    const url = api === "openai" ? server.openaiBaseURL : server.anthropicBaseURL;
    const run = await runStreaming(flow(url));
    assert.equal(run.result.status, "succeeded", JSON.stringify(run.result));
    assert.equal(server.requests[0]!.stream, true);
    if (api === "openai")
      assert.deepEqual((server.requests[0]!.body as { stream_options: unknown }).stream_options, {
        include_usage: true,
      });
    assert.deepEqual(
      run.chunks.map((c) => c.text),
      ["one ", "two ", "three ", "four"],
    );
    const meta = run.attempts[0]!.meta as {
      usage: unknown;
      stream: { ttftMs: number; chunks: number; parts: [number, number][] };
    };
    assert.deepEqual(meta.usage, { input: 7, output: 4 });
    assert.equal(meta.stream.chunks, 4);
    assert.ok(meta.stream.ttftMs > 0);
    const times = meta.stream.parts.map((p) => p[1]);
    assert.deepEqual(
      [...times].sort((x, y) => x - y),
      times,
    );
    assert.ok(times.at(-1)! - times[0]! >= 30, `paced by the server: ${times.join(",")}`);
  });

  test(`${api}: a secret split across the server's chunks never reaches the record`, async (t) => {
    const server = await startProviderServer();
    t.after(() => server.close());
    server.script([{ reply: `the key is ${SECRET} ok` }]);
    const url = api === "openai" ? server.openaiBaseURL : server.anthropicBaseURL;
    const run = await runStreaming(flow(url));
    // The server cuts at spaces: the secret arrived in two chunks.
    assert.ok(run.chunks.some((c) => c.text === "sk-live-4f9a "));
    assert.deepEqual(run.result.outputs, { said: "the key is «secret:TOKEN» ok" });
    const recorded = JSON.stringify([run.attempts, run.events]);
    assert.ok(!recorded.includes("sk-live-4f9a") && !recorded.includes("7c2e-Q81"), recorded);
  });

  test(`${api}: a stream cut in the middle fails the step as server_error with its partial reply on the attempt`, async (t) => {
    const server = await startProviderServer();
    t.after(() => server.close());
    server.script([
      { truncatedStream: true, text: `alpha beta ${SECRET} gamma delta epsilon zeta eta theta` },
    ]);
    const url = api === "openai" ? server.openaiBaseURL : server.anthropicBaseURL;
    const run = await runStreaming(flow(url));
    assert.equal(run.result.status, "failed");
    const failed = run.attempts[0]!;
    assert.equal(failed.errorKind, "server_error");
    assert.match(failed.errorMessage!, /provider 'p'.*the stream broke after \d+ chunks/);
    const partial = (failed.meta as { partial: string }).partial;
    assert.ok(partial.startsWith("alpha beta «secret:TOKEN»"), partial);
    assert.ok(!JSON.stringify(run.attempts).includes("7c2e"));
  });
}

test("a streamed step that times out mid-stream keeps what had arrived as its partial reply", async () => {
  const run = await runStreaming(
    scripted(`        chunks: ["arrived ", { text: "never", delay: 5s }]`).replace(
      "    prompt: hello\n",
      "    prompt: hello\n    timeout: 200ms\n    retry: { max_attempts: 1 }\n",
    ),
  );
  assert.equal(run.result.status, "failed");
  const failed = run.attempts[0]!;
  assert.equal(failed.errorKind, "timeout");
  assert.equal((failed.meta as { partial: string }).partial, "arrived ");
});

test("a cancel stopping two streams at once keeps each attempt's own partial reply", async () => {
  const text = `keel: 1
name: s
providers:
  p:
    type: scripted
    responses:
      - match: one
        chunks: ["first ", { text: "never", delay: 5s }]
      - match: two
        chunks: ["second ", { text: "never", delay: 5s }]
steps:
  a: { type: llm, stream: true, prompt: one }
  b: { type: llm, stream: true, prompt: two }
`;
  const controller = new AbortController();
  const chunks: LiveChunk[] = [];
  const path = writeWorkflow(text);
  const loaded = load(path);
  const effects = createNodeEffects({
    providers: loaded.workflow.providers ?? {},
    dir: loaded.dir,
    onChunk: (c) => {
      chunks.push(c);
      if (chunks.length === 2) setTimeout(() => controller.abort(), 20);
    },
  });
  const run = await runText(text, { path, effects, signal: controller.signal });
  assert.equal(run.result.status, "cancelled");
  const attempts = await run.store.attempts(run.result.runId);
  const partial = (id: string) =>
    (attempts.find((a) => a.stepId === id)!.meta as { partial?: string } | null)?.partial;
  assert.equal(partial("a"), "first ");
  assert.equal(partial("b"), "second ");
});
