// Agents through the real SDK clients (openai, @anthropic-ai/sdk) against the local provider
// server, which speaks both APIs' tool calls: the loop's conversation as each API wants it, and
// the faults a model or a network makes (malformed arguments, an unknown tool, a stream cut in
// the middle of a call, a 500) recorded and explained, never run past.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { runText } from "./harness";
import { startProviderServer, type ProviderServer } from "../../helpers/provider-server";

const TOOLS = {
  "tools.mjs": "export function search(args) { return { hits: ['doc-' + args.q] }; }\n",
};

async function serve(t: TestContext): Promise<ProviderServer> {
  const server = await startProviderServer();
  t.after(() => server.close());
  return server;
}

const flow = (type: "openai" | "anthropic", baseUrl: string, extra = "") => `keel: 1
name: agent-${type}
providers:
  model:
    type: ${type}
    base_url: ${baseUrl}
    api_key: \${{ secrets.KEY }}
    model: test-model
steps:
  research:
    type: agent
    system: You answer questions.
    prompt: What is keel?
    max_turns: 3
${extra}    tools:
      search:
        description: Search the docs.
        uses: ./tools.mjs#search
        parameters: { type: object, required: [q], properties: { q: { type: string } } }
outputs:
  answer: steps.research.output
  turns: steps.research.turns
`;

for (const api of ["openai", "anthropic"] as const) {
  for (const stream of [false, true]) {
    test(`${api}${stream ? ", streamed" : ""}: a tool call, a malformed one and an unknown tool, then the answer`, async (t) => {
      const server = await serve(t);
      server.script([
        {
          toolCalls: [
            { name: "search", arguments: { q: "keel" } },
            { name: "search", arguments: '{"q": "ke' },
            { name: "browse", arguments: { url: "x" } },
          ],
        },
        { reply: "Keel runs AI workflows." },
      ]);
      const base = api === "openai" ? server.openaiBaseURL : server.anthropicBaseURL;
      const { result } = await runText(flow(api, base, stream ? "    stream: true\n" : ""), {
        files: TOOLS,
        secrets: { KEY: "sk-test" },
      });
      assert.equal(result.status, "succeeded", JSON.stringify(result));
      assert.equal(result.outputs!.answer, "Keel runs AI workflows.");
      const calls = (
        result.outputs!.turns as {
          tool_calls: { name: string; status: string; error?: { kind: string } }[];
        }[]
      )[0]!.tool_calls;
      assert.deepEqual(
        calls.map((c) => [c.name, c.status, c.error?.kind ?? null]),
        [
          ["search", "succeeded", null],
          ["search", "failed", "invalid_arguments"],
          ["browse", "failed", "invalid_arguments"],
        ],
      );
      // The second request carried the tool results back in the API's own shape, in call order.
      const second = server.requests[1]!;
      const tools = (second.body as { tools?: { name?: string; function?: { name: string } }[] })
        .tools!;
      assert.deepEqual(
        tools.map((x) => x.name ?? x.function?.name),
        ["search"],
      );
      const messages = second.messages as Record<string, unknown>[];
      if (api === "openai") {
        const results = messages.filter((m) => m.role === "tool");
        assert.equal(results.length, 3);
        assert.equal(results[0]!.content, JSON.stringify({ hits: ["doc-keel"] }));
        assert.match(String(results[1]!.content), /not JSON/);
        assert.match(String(results[2]!.content), /there is no tool 'browse'/);
      } else {
        const last = messages.at(-1) as {
          role: string;
          content: { type: string; content: string }[];
        };
        assert.equal(last.role, "user");
        assert.deepEqual(
          last.content.map((b) => b.type),
          ["tool_result", "tool_result", "tool_result"],
        );
        assert.equal(last.content[0]!.content, JSON.stringify({ hits: ["doc-keel"] }));
      }
    });
  }

  test(`${api}: a stream cut in the middle of a tool call is a server_error, retried; nothing half-read runs`, async (t) => {
    const server = await serve(t);
    server.script([
      {
        truncatedStream: true,
        toolCalls: [{ name: "search", arguments: { q: "a long query text" } }],
      },
      { toolCalls: [{ name: "search", arguments: { q: "keel" } }] },
      { reply: "done" },
    ]);
    const base = api === "openai" ? server.openaiBaseURL : server.anthropicBaseURL;
    const { result, store } = await runText(
      flow(api, base, "    stream: true\n    retry: { max_attempts: 2, initial: 10ms }\n"),
      { files: TOOLS, secrets: { KEY: "sk-test" } },
    );
    assert.equal(result.status, "succeeded", JSON.stringify(result));
    const first = (await store.attempts(result.runId)).filter((a) => a.scope === "#1");
    assert.deepEqual(
      first.map((a) => [a.attempt, a.status, a.errorKind]),
      [
        [1, "failed", "server_error"],
        [2, "succeeded", null],
      ],
    );
    const calls = (result.outputs!.turns as { tool_calls: { args: unknown }[] }[])[0]!.tool_calls;
    assert.deepEqual(
      calls.map((c) => c.args),
      [{ q: "keel" }],
    );
  });

  test(`${api}: a provider that fails every time fails the agent at its turn, with the kind`, async (t) => {
    const server = await serve(t);
    server.setDefault({ status: 500 });
    const base = api === "openai" ? server.openaiBaseURL : server.anthropicBaseURL;
    const { result } = await runText(flow(api, base), {
      files: TOOLS,
      secrets: { KEY: "sk-test" },
    });
    assert.equal(result.status, "failed");
    const step = result.steps.find((s) => s.id === "research")!;
    assert.equal(step.error?.kind, "server_error");
    assert.match(step.error!.message, /^turn 1: /);
  });
}

test("a second run of an unchanged agent answers every model call from the cache; a changed tool result goes live from that turn", async (t) => {
  const server = await serve(t);
  const script = () =>
    server.script([
      { toolCalls: [{ name: "search", arguments: { q: "keel" } }] },
      { toolCalls: [{ name: "search", arguments: { q: "more" } }] },
      { reply: "done" },
    ]);
  script();
  const { MemoryStore } = await import("@keel/core/store/memory-store");
  const store = new MemoryStore();
  const text = flow("openai", server.openaiBaseURL);
  const options = { files: TOOLS, secrets: { KEY: "sk-test" }, store };
  const first = await runText(text, options);
  assert.equal(first.result.status, "succeeded", JSON.stringify(first.result));
  assert.equal(server.count(), 3);
  server.reset();
  const second = await runText(text, { ...options, path: first.loaded.path });
  assert.equal(second.result.status, "succeeded");
  assert.equal(server.count(), 0);
  const cached = (await store.attempts(second.result.runId)).filter((a) => a.origin === "cached");
  assert.deepEqual(cached.map((a) => a.scope).sort(), ["#1", "#2", "#3"]);
  // The tool now answers otherwise: turn 1 still comes from the cache, turn 2 is asked live.
  server.reset();
  const { writeFileSync } = await import("node:fs");
  const { join, dirname } = await import("node:path");
  writeFileSync(
    join(dirname(first.loaded.path), "tools.mjs"),
    "export function search(args) { return { hits: ['page-' + args.q] }; }\n",
  );
  server.script([{ toolCalls: [{ name: "search", arguments: { q: "more" } }] }, { reply: "done" }]);
  const third = await runText(text, { ...options, path: first.loaded.path });
  assert.equal(third.result.status, "succeeded", JSON.stringify(third.result));
  assert.equal(server.count(), 2);
  const origins = (await store.attempts(third.result.runId))
    .filter((a) => a.scope !== null && !a.scope.includes("/"))
    .map((a) => `${a.scope} ${a.origin}`);
  assert.deepEqual(origins, ["#1 cached", "#2 live", "#3 live"]);
});
