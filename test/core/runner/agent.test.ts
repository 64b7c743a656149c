// The agent loop (docs/format.md, "Agents"): turns and tool calls as scopes of the record, the
// limits, invalid calls returned to the model, transcripts stored by reference.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runText } from "./harness";
import type { RunResult } from "@keel/core/runner/types";
import type { RunStore } from "@keel/core/store/run-store";
import { foldToEnd } from "@keel/core/record/fold";

const TOOLS = {
  "tools.mjs": `
export async function search(args) { return { hits: ["doc-" + args.query] }; }
export async function fail() { throw new Error("the index is down"); }
`,
};

/** A model that asks for a search on every turn and never answers. */
const NEVER_STOPS = `      - match: Question
        tool_calls: [{ name: search, arguments: { query: again } }]`;

/** The error the agent step `research` failed the run with, checked to be of `kind`. */
function agentError(result: RunResult, kind: string): string {
  assert.equal(result.status, "failed");
  const step = result.steps.find((s) => s.id === "research")!;
  assert.equal(step.error?.kind, kind);
  return step.error!.message;
}

/** The resolved input of the first attempt of `research` at `scope`, read back whole. */
async function inputOf<T>(store: RunStore, runId: string, scope: string): Promise<T> {
  const attempt = (await store.attempts(runId)).find(
    (a) => a.stepId === "research" && a.scope === scope,
  )!;
  return JSON.parse((await store.blob(attempt.inputHash))!) as T;
}

function agentFlow(extra: string, responses: string, tools = ""): string {
  return `keel: 1
name: agent
providers:
  model:
    type: scripted
    responses:
${responses}
steps:
  research:
    type: agent
    prompt: "Question: what is keel?"
    max_turns: 3
${extra}    tools:
      search:
        description: Search the knowledge base.
        uses: ./tools.mjs#search
        parameters:
          type: object
          required: [query]
          properties: { query: { type: string } }
${tools}outputs:
  answer: steps.research.output
  turns: steps.research.turns
  stop: steps.research.stop_reason
`;
}

test("an agent calls a tool, gets its result and answers; turns and calls are scopes of the record", async () => {
  const { result, store } = await runText(
    agentFlow(
      "",
      `      - turn: 1
        tool_calls: [{ name: search, arguments: { query: keel } }]
      - turn: 2
        match: doc-keel
        reply: Keel runs workflows.`,
    ),
    { files: TOOLS },
  );
  assert.equal(result.status, "succeeded", JSON.stringify(result));
  assert.equal(result.outputs!.answer, "Keel runs workflows.");
  assert.equal(result.outputs!.stop, "answer");
  const turns = result.outputs!.turns as {
    turn: number;
    tool_calls: { name: string; args: unknown; status: string; output: unknown }[];
  }[];
  assert.equal(turns.length, 2);
  assert.deepEqual(turns[0]!.tool_calls, [
    {
      name: "search",
      args: { query: "keel" },
      status: "succeeded",
      output: { hits: ["doc-keel"] },
    },
  ]);
  assert.deepEqual(turns[1]!.tool_calls, []);
  const fold = foldToEnd(await store.events(result.runId), await store.attempts(result.runId));
  assert.deepEqual(
    fold.units("research").map((u) => [u.id, u.status]),
    [
      ["research#1", "succeeded"],
      ["research#1/search.0", "succeeded"],
      ["research#2", "succeeded"],
    ],
  );
  // The second model call got the tool's result after the assistant's call.
  const input = await inputOf<{
    messages: { role: string; content: string; tool_calls?: unknown[]; tool_call_id?: string }[];
    tools: { name: string }[];
  }>(store, result.runId, "#2");
  assert.deepEqual(
    input.messages.map((m) => m.role),
    ["user", "assistant", "tool"],
  );
  assert.equal(input.messages[2]!.content, JSON.stringify({ hits: ["doc-keel"] }));
  assert.equal(
    input.messages[2]!.tool_call_id,
    (input.messages[1]!.tool_calls![0] as { id: string }).id,
  );
  assert.deepEqual(
    input.tools.map((t) => t.name),
    ["search"],
  );
});

test("a model still calling tools after max_turns fails the step with max_turns, never a success", async () => {
  const { result } = await runText(agentFlow("", NEVER_STOPS), { files: TOOLS });
  assert.match(agentError(result, "max_turns"), /max_turns 3 \(turn 3 asked for search\)/);
});

test("on_max_turns: answer makes one last call without tools, and says so in stop_reason", async () => {
  const { result, store } = await runText(
    agentFlow(
      "    on_max_turns: answer\n",
      `      - turn: 4
        reply: My best answer.
      - match: Question
        tool_calls: [{ name: search, arguments: { query: again } }]`,
    ),
    { files: TOOLS },
  );
  assert.equal(result.status, "succeeded", JSON.stringify(result));
  assert.equal(result.outputs!.answer, "My best answer.");
  assert.equal(result.outputs!.stop, "max_turns");
  const input = await inputOf<{ toolChoice?: string }>(store, result.runId, "#4");
  assert.equal(input.toolChoice, "none");
});

test("an unknown tool, malformed arguments and arguments that fail the schema go back to the model as errors", async () => {
  const { result, store } = await runText(
    agentFlow(
      "",
      `      - turn: 1
        tool_calls:
          - { name: lookup, arguments: { query: x } }
          - { name: search, arguments: "{not json" }
          - { name: search, arguments: { query: 3 } }
      - turn: 2
        reply: done`,
    ),
    { files: TOOLS },
  );
  assert.equal(result.status, "succeeded", JSON.stringify(result));
  const turns = result.outputs!.turns as {
    tool_calls: { status: string; error?: { kind: string; message: string } }[];
  }[];
  const calls = turns[0]!.tool_calls;
  assert.deepEqual(
    calls.map((c) => [c.status, c.error?.kind]),
    [
      ["failed", "invalid_arguments"],
      ["failed", "invalid_arguments"],
      ["failed", "invalid_arguments"],
    ],
  );
  assert.match(calls[0]!.error!.message, /there is no tool 'lookup': the tools are search/);
  assert.match(calls[1]!.error!.message, /not JSON/);
  assert.match(calls[2]!.error!.message, /\/query must be string/);
  const input = await inputOf<{ messages: { role: string; content: string }[] }>(
    store,
    result.runId,
    "#2",
  );
  const tool = input.messages.filter((m) => m.role === "tool");
  assert.equal(tool.length, 3);
  assert.match(tool[0]!.content, /there is no tool 'lookup'/);
  const fold = foldToEnd(await store.events(result.runId), await store.attempts(result.runId));
  assert.deepEqual(
    fold.units("research").map((u) => u.id),
    [
      "research#1",
      "research#1/lookup.0",
      "research#1/search.1",
      "research#1/search.2",
      "research#2",
    ],
  );
});

test("a failing tool is returned to the model, or fails the agent with tool_errors: fail", async () => {
  const flow = (extra: string) =>
    agentFlow(
      extra,
      `      - turn: 1
        tool_calls: [{ name: broken, arguments: {} }]
      - turn: 2
        reply: recovered`,
      `      broken:
        uses: ./tools.mjs#fail
        parameters: { type: object }
`,
    );
  const returned = await runText(flow(""), { files: TOOLS });
  assert.equal(returned.result.status, "succeeded");
  assert.equal(returned.result.outputs!.answer, "recovered");
  const failing = await runText(flow("    tool_errors: fail\n"), { files: TOOLS });
  assert.match(
    agentError(failing.result, "tool_error"),
    /turn 1, call broken\.0: the index is down/,
  );
});

test("a budget in tokens stops an agent that would go on, with the budget error", async () => {
  const { result } = await runText(agentFlow("    budget: { tokens: 5 }\n", NEVER_STOPS), {
    files: TOOLS,
  });
  assert.match(agentError(result, "budget"), /budget of 5 tokens was spent by turn 1/);
});

test("a long conversation is stored by reference: linear in its turns, read back whole", async () => {
  const turns = 30;
  const responses = Array.from(
    { length: turns - 1 },
    (_, i) => `      - turn: ${i + 1}
        tool_calls: [{ name: search, arguments: { query: "q${i}-${"x".repeat(200)}" } }]`,
  ).join("\n");
  const { result, store } = await runText(
    agentFlow("", `${responses}\n      - turn: ${turns}\n        reply: enough`).replace(
      "max_turns: 3",
      `max_turns: ${turns}`,
    ),
    { files: TOOLS },
  );
  assert.equal(result.status, "succeeded", JSON.stringify(result));
  // What the store holds: the memory store keeps the stored texts as they came.
  const blobs = (store as unknown as { blobs: Map<string, string> }).blobs;
  let stored = 0;
  let whole = 0;
  for (const a of await store.attempts(result.runId)) {
    if (a.stepId !== "research" || a.scope?.includes("/")) continue;
    stored += blobs.get(a.inputHash)!.length;
    const text = (await store.blob(a.inputHash))!;
    whole += text.length;
    // The reference is the whole input's hash: what a by-value record would have.
    const { createHash } = await import("node:crypto");
    assert.equal(createHash("sha256").update(text).digest("hex"), a.inputHash);
  }
  assert.ok(stored * 5 < whole, `stored ${stored} bytes for ${whole} bytes of inputs`);
});

test("Python, HTTP and workflow tools: parameters derived from type hints and the child's inputs, each run as its kind", async () => {
  const { createServer } = await import("node:http");
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ path: req.url, got: body ? (JSON.parse(body) as unknown) : null }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  try {
    const { result, store } = await runText(
      `keel: 1
name: tools
providers:
  model:
    type: scripted
    responses:
      - turn: 1
        tool_calls:
          - { name: rank, arguments: { items: [b, a], reverse: true } }
          - { name: fetch, arguments: { id: 7 } }
          - { name: summarize, arguments: { text: hello } }
      - turn: 2
        reply: done
steps:
  research:
    type: agent
    prompt: go
    max_turns: 2
    tools:
      rank:
        uses: ./rank.py#rank
      fetch:
        http: { method: POST, url: "http://127.0.0.1:${port}/doc/\${{ args.id }}" }
        parameters: { type: object, properties: { id: { type: integer } } }
      summarize:
        workflow: ./summarize.keel.yaml
outputs:
  turns: steps.research.turns
`,
      {
        files: {
          "rank.py": `def rank(items: list[str], reverse: bool = False) -> list[str]:
    """Rank the items.

    Args:
        items: what to rank
    """
    return sorted(items, reverse=reverse)
`,
          "summarize.keel.yaml": `keel: 1
name: summarize
description: Summarize a text.
inputs:
  text: { type: string }
steps:
  short:
    type: transform
    expr: "$uppercase(inputs.text)"
outputs:
  summary: steps.short.output
`,
        },
      },
    );
    assert.equal(result.status, "succeeded", JSON.stringify(result));
    const calls = (
      result.outputs!.turns as { tool_calls: { name: string; output: unknown }[] }[]
    )[0]!.tool_calls;
    assert.deepEqual(calls[0]!.output, ["b", "a"]);
    assert.deepEqual((calls[1]!.output as { body: unknown }).body, {
      path: "/doc/7",
      got: { id: 7 },
    });
    assert.deepEqual(calls[2]!.output, { summary: "HELLO" });
    const input = await inputOf<{
      tools: { name: string; description: string | null; parameters: Record<string, unknown> }[];
    }>(store, result.runId, "#1");
    const rank = input.tools.find((t) => t.name === "rank")!;
    assert.equal(rank.description, "Rank the items.");
    assert.deepEqual((rank.parameters as { required?: string[] }).required, ["items"]);
    const summarize = input.tools.find((t) => t.name === "summarize")!;
    assert.equal(summarize.description, "Summarize a text.");
    assert.deepEqual((summarize.parameters as { required?: string[] }).required, ["text"]);
    // The model is told an HTTP tool's body, not the whole response.
    const sent = await inputOf<{ messages: { role: string; content: string }[] }>(
      store,
      result.runId,
      "#2",
    );
    const tool = sent.messages.filter((m) => m.role === "tool");
    assert.equal(tool[1]!.content, JSON.stringify({ path: "/doc/7", got: { id: 7 } }));
  } finally {
    server.close();
  }
});

test("parallel_tool_calls: true runs a turn's calls at once; results still go back in call order", async () => {
  const files = {
    "slow.mjs": `
export async function wait(args) {
  await new Promise((r) => setTimeout(r, args.ms));
  return { ms: args.ms };
}
`,
  };
  const flow = (parallel: boolean) => `keel: 1
name: parallel
providers:
  model:
    type: scripted
    responses:
      - turn: 1
        tool_calls: [{ name: wait, arguments: { ms: 300 } }, { name: wait, arguments: { ms: 10 } }]
      - turn: 2
        reply: done
steps:
  research:
    type: agent
    prompt: go
    max_turns: 2
    parallel_tool_calls: ${parallel}
    tools:
      wait:
        uses: ./slow.mjs#wait
        parameters: { type: object, properties: { ms: { type: integer } } }
outputs:
  turns: steps.research.turns
`;
  const at = await runText(flow(true), { files });
  assert.equal(at.result.status, "succeeded", JSON.stringify(at.result));
  const outputs = (
    at.result.outputs!.turns as { tool_calls: { output: { ms: number } }[] }[]
  )[0]!.tool_calls.map((c) => c.output.ms);
  assert.deepEqual(outputs, [300, 10]);
  const second = (await at.store.attempts(at.result.runId)).find((a) => a.scope === "#2")!;
  const input = JSON.parse((await at.store.blob(second.inputHash))!) as {
    messages: { role: string; content: string }[];
    parallelToolCalls?: boolean;
  };
  assert.equal(input.parallelToolCalls, true);
  assert.deepEqual(
    input.messages
      .filter((m) => m.role === "tool")
      .map((m) => (JSON.parse(m.content) as { ms: number }).ms),
    [300, 10],
  );
  // The two calls overlapped: the short one ended while the long one ran.
  const events = (await at.store.events(at.result.runId)).filter((e) => e.scope?.startsWith("#1/"));
  const order = events.map((e) => `${e.type} ${e.scope}`);
  assert.ok(
    order.indexOf("step_succeeded #1/wait.1") < order.indexOf("step_succeeded #1/wait.0"),
    order.join("; "),
  );
  const one = await runText(flow(false), { files });
  const seq = (await one.store.events(one.result.runId))
    .filter((e) => e.scope?.startsWith("#1/"))
    .map((e) => `${e.type} ${e.scope}`);
  assert.ok(
    seq.indexOf("step_succeeded #1/wait.0") < seq.indexOf("step_started #1/wait.1"),
    seq.join("; "),
  );
});

test("an agent's failure routes like any failure: on_error: continue lets dependents run and see why", async () => {
  const { result } = await runText(
    agentFlow("    on_error: continue\n", NEVER_STOPS).replace(
      "outputs:",
      `  report:
    type: transform
    expr: '{"status": steps.research.status, "stop": steps.research.stop_reason, "turns": $count(steps.research.turns)}'
outputs:
  report: steps.report.output
`,
    ),
    { files: TOOLS },
  );
  assert.equal(result.status, "succeeded", JSON.stringify(result));
  assert.deepEqual(result.outputs!.report, { status: "failed", stop: "max_turns", turns: 3 });
});

test("a tool that hangs is ended by its timeout and the model is told", async () => {
  const { result } = await runText(
    agentFlow(
      "",
      `      - turn: 1
        tool_calls: [{ name: hang, arguments: {} }]
      - turn: 2
        match: timeout
        reply: the tool timed out`,
      `      hang:
        uses: ./hang.mjs#hang
        parameters: { type: object }
        timeout: 200ms
`,
    ),
    {
      files: { ...TOOLS, "hang.mjs": "export function hang() { return new Promise(() => {}); }\n" },
    },
  );
  assert.equal(result.status, "succeeded", JSON.stringify(result));
  assert.equal(result.outputs!.answer, "the tool timed out");
  const call = (
    result.outputs!.turns as { tool_calls: { status: string; error?: { kind: string } }[] }[]
  )[0]!.tool_calls[0]!;
  assert.deepEqual([call.status, call.error?.kind], ["failed", "timeout"]);
});

test("an llm step's messages written bare build the conversation at run time; system alone is a prompt", async () => {
  const { result, store } = await runText(`keel: 1
name: chat
providers:
  model: { type: scripted, default: ok }
steps:
  history:
    type: transform
    expr: '[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "and?"}]'
  reply:
    type: llm
    system: Be brief.
    messages: steps.history.output
  alone:
    type: llm
    system: Say a greeting.
`);
  assert.equal(result.status, "succeeded", JSON.stringify(result));
  const attempts = await store.attempts(result.runId);
  const input = async (id: string) =>
    JSON.parse((await store.blob(attempts.find((a) => a.stepId === id)!.inputHash))!) as {
      system: string | null;
      messages: { role: string; content: string }[];
    };
  assert.deepEqual(
    (await input("reply")).messages.map((m) => m.content),
    ["hi", "hello", "and?"],
  );
  const alone = await input("alone");
  assert.equal(alone.system, "Say a greeting.");
  assert.deepEqual(alone.messages, []);
});

test("stream: true on an agent streams each model call's reply, with its turn's scope", async () => {
  const chunks: { scope: string | null; text: string }[] = [];
  const { result, store } = await runText(
    agentFlow(
      "    stream: true\n",
      `      - turn: 1
        tool_calls: [{ name: search, arguments: { query: keel } }]
      - turn: 2
        chunks: ["Keel ", "runs ", "workflows."]`,
    ),
    {
      files: TOOLS,
      wrap: (e) => ({
        ...e,
        llm: (req, signal, key, stream) =>
          e.llm(
            req,
            signal,
            key,
            stream && {
              scope: stream.scope && {
                ...stream.scope,
                chunk: (text: string) => chunks.push({ scope: stream.scope!.scope ?? null, text }),
              },
            },
          ),
      }),
    },
  );
  assert.equal(result.status, "succeeded", JSON.stringify(result));
  assert.equal(result.outputs!.answer, "Keel runs workflows.");
  assert.deepEqual(
    chunks.map((c) => `${c.scope}:${c.text}`),
    ["#2:Keel ", "#2:runs ", "#2:workflows."],
  );
  const last = (await store.attempts(result.runId)).find((a) => a.scope === "#2")!;
  assert.equal((last.meta as { stream?: { chunks: number } }).stream?.chunks, 3);
});

test("hostile input: the model's arguments are never rendered as templates, and a secret a tool returns is never stored", async () => {
  const secret = "sk-live-0123456789abcdef";
  const { result, store } = await runText(
    `keel: 1
name: hostile
providers:
  model:
    type: scripted
    responses:
      - turn: 1
        tool_calls:
          - { name: echo, arguments: { q: "\${{ secrets.TOKEN }}" } }
          - { name: wrapped, arguments: { q: "\${{ secrets.TOKEN }}" } }
          - { name: leak, arguments: {} }
      - turn: 2
        reply: done
steps:
  research:
    type: agent
    prompt: go
    max_turns: 2
    tools:
      echo:
        uses: ./tools.mjs#echo
        parameters: { type: object, properties: { q: { type: string } } }
      wrapped:
        uses: ./tools.mjs#echo
        parameters: { type: object, properties: { q: { type: string } } }
        with: { q: "\${{ args.q }}" }
      leak:
        uses: ./tools.mjs#echo
        parameters: { type: object }
        with: { q: "\${{ secrets.TOKEN }}" }
outputs:
  turns: steps.research.turns
`,
    {
      files: { "tools.mjs": "export function echo(args) { return { got: args.q }; }\n" },
      secrets: { TOKEN: secret },
    },
  );
  assert.equal(result.status, "succeeded", JSON.stringify(result));
  const calls = (result.outputs!.turns as { tool_calls: { output: { got: string } }[] }[])[0]!
    .tool_calls;
  // What the model wrote reached the tools as text, never evaluated.
  assert.equal(calls[0]!.output.got, "${{ secrets.TOKEN }}");
  assert.equal(calls[1]!.output.got, "${{ secrets.TOKEN }}");
  // Nothing recorded holds the secret: not the tool's output, nor the next turn's conversation.
  const blobs = (store as unknown as { blobs: Map<string, string> }).blobs;
  for (const [hash, text] of blobs)
    assert.ok(!text.includes(secret), `blob ${hash} holds the secret`);
  for (const e of await store.events(result.runId))
    assert.ok(!JSON.stringify(e).includes(secret), `event ${e.type} holds the secret`);
  for (const a of await store.attempts(result.runId)) {
    assert.ok(
      !JSON.stringify(a).includes(secret),
      `attempt ${a.stepId}${a.scope} holds the secret`,
    );
    assert.ok(!(await store.blob(a.inputHash))!.includes(secret));
  }
});

test("an agent mapped over a list runs one loop per item, each at its item's scopes", async () => {
  const { result, store } = await runText(
    `keel: 1
name: mapped
providers:
  model:
    type: scripted
    responses:
      - turn: 1
        match: "/Question: (a|b)/"
        tool_calls: [{ name: search, arguments: { query: x } }]
      - turn: 2
        reply: answered
steps:
  research:
    type: agent
    for_each: '["a", "b"]'
    key: item
    prompt: "Question: \${{ item }}"
    max_turns: 2
    tools:
      search:
        uses: ./tools.mjs#search
        parameters: { type: object, required: [query], properties: { query: { type: string } } }
outputs:
  answers: steps.research.output
`,
    { files: TOOLS },
  );
  assert.equal(result.status, "succeeded", JSON.stringify(result));
  assert.deepEqual(result.outputs!.answers, ["answered", "answered"]);
  const fold = foldToEnd(await store.events(result.runId), await store.attempts(result.runId));
  const scopes = fold.units("research").map((u) => u.scope);
  for (const key of ["[a]", "[b]"])
    for (const s of ["", "#1", "#1/search.0", "#2"])
      assert.ok(scopes.includes(key + s), `${key}${s}: ${scopes.join(" ")}`);
});

test("a $trajectory assertion that does not hold says what the agent called", async () => {
  const { result } = await runText(
    agentFlow(
      "",
      `      - turn: 1
        tool_calls: [{ name: search, arguments: { query: keel } }, { name: search, arguments: { query: more } }]
      - turn: 2
        reply: done`,
    ).replace(
      "outputs:",
      `  path:
    type: assert
    that: '$trajectory(steps.research, ["search"], "strict")'
outputs:`,
    ),
    { files: TOOLS },
  );
  assert.equal(result.status, "failed");
  const step = result.steps.find((s) => s.id === "path")!;
  assert.match(step.error!.message, /is false \(research called: search, search\)$/);
});

test("a failed agent's end records its stop reason and its turns, as an answered agent's does", async () => {
  const { result, store } = await runText(agentFlow("", NEVER_STOPS), { files: TOOLS });
  assert.equal(result.status, "failed");
  const end = (await store.events(result.runId)).find(
    (e) => e.type === "step_failed" && e.stepId === "research" && e.scope === null,
  )!;
  assert.equal(end.data!.stopReason, "max_turns");
  assert.equal(end.data!.turns, 3);
  const turns = JSON.parse((await store.blob(String(end.data!.transcript)))!) as unknown[];
  assert.equal(turns.length, 3);
});

test("a resumed run gives an agent that had ended its turns and stop reason, for the steps still to run", async () => {
  const { loadResumePoint } = await import("@keel/core/runner/resume");
  const text = agentFlow(
    "",
    `      - turn: 1
        tool_calls: [{ name: search, arguments: { query: keel } }]
      - turn: 2
        reply: done`,
  ).replace(
    "outputs:",
    `  report:
    type: transform
    expr: '{"calls": $count(steps.research.turns.tool_calls), "stop": steps.research.stop_reason}'
outputs:
  report: steps.report.output
`,
  );
  const first = await runText(text, { files: TOOLS });
  assert.equal(first.result.status, "succeeded", JSON.stringify(first.result));
  const point = (await loadResumePoint(first.store, first.result.runId))!.point;
  assert.equal(point.ended.get("research")!.stopReason, "answer");
  // As if the run had died before `report`: only the agent had ended.
  const resumed = await runText(text, {
    path: first.loaded.path,
    store: first.store,
    resume: {
      ...point,
      ended: new Map([...point.ended].filter(([id]) => id === "research")),
      inFlight: ["report"],
    },
  });
  assert.equal(resumed.result.status, "succeeded", JSON.stringify(resumed.result));
  assert.deepEqual(resumed.result.outputs!.report, { calls: 1, stop: "answer" });
});
