// OpenTelemetry export (docs/cli.md, "OpenTelemetry") as a user runs it: `keel run --otel` and
// `keel export --otel` send a run's spans to an OTLP/HTTP receiver this test starts on 127.0.0.1;
// the spans have the GenAI conventions' names, kinds and attributes, the record's token usage and
// timings, one trace per run, and carry no secret's value and no prompt or reply unless
// `--otel-content` is given.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { traceIdOf } from "@keel/core/otel/export";
import { keel, workspace } from "../helpers/cli";
import { keelAsync, startReceiver, type ReceivedSpan, type Receiver } from "../helpers/otlp";

const SECRET = "tok-9f8e7d6c5b4a";
const FLOW = `keel: 1
name: otel check
inputs:
  question: { type: string, default: "What is the capital of Atlantis?" }
providers:
  model:
    type: scripted
    model: scripted-m1
    responses:
      - { match: Atlantis, reply: Poseidonia }
steps:
  ask:
    type: llm
    provider: model
    system: "Answer briefly. Caller \${{ secrets.API_TOKEN }}"
    prompt: "Question: \${{ inputs.question }}"
    params: { temperature: 0.2, max_tokens: 20, stop: ["\\n"] }
  lookup:
    type: tool
    uses: ./tool.js#lookup
    with: { city: "\${{ steps.ask.output }}" }
  check:
    type: assert
    that: steps.lookup.output.found = true
outputs:
  city: steps.lookup.output.city
`;
const TOOL = `exports.lookup = async (args) => ({ found: true, city: args.city });\n`;

let receiver: Receiver;
let dir: string;
before(async () => {
  receiver = await startReceiver();
  dir = workspace({ "flow.keel.yaml": FLOW, "tool.js": TOOL });
});
after(() => receiver.close());

const env = { KEEL_SECRET_API_TOKEN: SECRET };
const byName = (spans: readonly ReceivedSpan[], name: string) => {
  const found = spans.filter((s) => s.name === name);
  assert.equal(
    found.length,
    1,
    `one span named '${name}' in ${spans.map((s) => s.name).join(", ")}`,
  );
  return found[0]!;
};
const toNanos = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;

test("keel run --otel sends the run's spans: names, kinds, parents, GenAI attributes and usage from the record, nothing private", async () => {
  const r = await keelAsync(
    ["run", "flow.keel.yaml", "--json", "--otel", receiver.endpoint],
    dir,
    env,
  );
  assert.equal(r.code, 0, r.stderr);
  const runId = JSON.parse(r.stdout).runId as string;
  assert.match(
    r.stderr,
    new RegExp(`sent 7 spans of run ${runId} to ${receiver.endpoint}/v1/traces`),
  );
  assert.ok(receiver.paths.every((p) => p === "/v1/traces"));
  const spans = receiver.spans.filter((s) => s.attributes["keel.run.id"] === runId);
  assert.equal(spans.length, 7);
  assert.equal(new Set(spans.map((s) => s.traceId)).size, 1);
  assert.ok(spans.every((s) => s.service === "keel"));

  const root = byName(spans, "invoke_workflow otel check");
  assert.equal(root.parentSpanId, undefined);
  assert.equal(root.kind, 1);
  assert.equal(root.attributes["gen_ai.operation.name"], "invoke_workflow");
  assert.equal(root.attributes["gen_ai.workflow.name"], "otel check");
  assert.equal(root.attributes["keel.run.status"], "succeeded");

  const chat = byName(spans, "chat scripted-m1");
  const tool = byName(spans, "execute_tool lookup");
  const check = byName(spans, "assert check");
  for (const step of [chat, tool, check]) assert.equal(step.parentSpanId, root.spanId);
  assert.equal(chat.kind, 3);
  const attempts = spans.filter((s) => s.name === "attempt 1");
  assert.deepEqual(
    attempts.map((a) => a.parentSpanId).sort(),
    [chat.spanId, tool.spanId, check.spanId].sort(),
  );
  for (const s of spans.filter((x) => x !== root)) {
    assert.equal(typeof s.attributes["keel.step.id"], "string");
    assert.equal(s.attributes["keel.step.status"], "succeeded");
  }

  // The record says what the spans must say.
  const shown = JSON.parse(keel(["show", runId, "--json"], dir).stdout);
  const call = shown.attempts.find((a: { stepId: string }) => a.stepId === "ask");
  assert.deepEqual(
    {
      op: chat.attributes["gen_ai.operation.name"],
      provider: chat.attributes["gen_ai.provider.name"],
      model: chat.attributes["gen_ai.request.model"],
      temperature: chat.attributes["gen_ai.request.temperature"],
      maxTokens: chat.attributes["gen_ai.request.max_tokens"],
      stop: chat.attributes["gen_ai.request.stop_sequences"],
      output: chat.attributes["gen_ai.output.type"],
      served: chat.attributes["gen_ai.response.model"],
      id: chat.attributes["gen_ai.response.id"],
      input: chat.attributes["gen_ai.usage.input_tokens"],
      outputTokens: chat.attributes["gen_ai.usage.output_tokens"],
    },
    {
      op: "chat",
      provider: "keel.scripted",
      model: "scripted-m1",
      temperature: 0.2,
      maxTokens: 20,
      stop: ["\n"],
      output: "text",
      served: call.meta.model,
      id: call.meta.responseId,
      input: call.meta.usage.input,
      outputTokens: call.meta.usage.output,
    },
  );
  assert.ok(call.meta.usage.input > 0);
  assert.equal(tool.attributes["gen_ai.operation.name"], "execute_tool");
  assert.equal(tool.attributes["gen_ai.tool.name"], "lookup");
  const chatAttempt = attempts.find((a) => a.parentSpanId === chat.spanId)!;
  assert.equal(chatAttempt.start, toNanos(call.startedAt));
  assert.equal(chatAttempt.end, toNanos(call.endedAt));
  assert.ok(root.start <= chat.start && chat.end <= root.end);

  const all = receiver.bodies.join("\n");
  for (const privateText of [SECRET, "Atlantis", "Answer briefly", "Poseidonia"]) {
    assert.equal(all.includes(privateText), false, `the spans contain '${privateText}'`);
  }
});

test("keel export --otel-content: prompts and replies go in (secrets redacted), in the run's one trace", async () => {
  const r = keel(["run", "flow.keel.yaml", "--json"], dir, env);
  assert.equal(r.code, 0, r.stderr);
  const runId = JSON.parse(r.stdout).runId as string;
  const first = await keelAsync(["export", runId, "--otel", receiver.endpoint], dir);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, "", "no golden file on stdout");
  const exported = await keelAsync(
    ["export", runId, "--otel", `${receiver.endpoint}/v1/traces`, "--otel-content"],
    dir,
  );
  assert.equal(exported.code, 0, exported.stderr);
  const spans = receiver.spans.filter((s) => s.attributes["keel.run.id"] === runId);
  assert.equal(spans.length, 14);
  assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, "every export of a run is one trace");
  const chats = spans.filter((s) => s.name === "chat scripted-m1");
  const withContent = chats.find((s) => s.attributes["gen_ai.input.messages"] !== undefined)!;
  const without = chats.find((s) => s !== withContent)!;
  assert.equal(without.attributes["gen_ai.input.messages"], undefined);
  assert.deepEqual(JSON.parse(String(withContent.attributes["gen_ai.input.messages"])), [
    {
      role: "user",
      parts: [{ type: "text", content: "Question: What is the capital of Atlantis?" }],
    },
  ]);
  assert.deepEqual(JSON.parse(String(withContent.attributes["gen_ai.system_instructions"])), [
    { type: "text", content: "Answer briefly. Caller «secret:API_TOKEN»" },
  ]);
  assert.deepEqual(JSON.parse(String(withContent.attributes["gen_ai.output.messages"])), [
    { role: "assistant", parts: [{ type: "text", content: "Poseidonia" }] },
  ]);
  const tools = spans.filter((s) => s.name === "execute_tool lookup");
  assert.ok(
    tools.some((s) => s.attributes["gen_ai.tool.call.arguments"] === '{"city":"Poseidonia"}'),
  );
  assert.equal(receiver.bodies.join("\n").includes(SECRET), false);
});

test("a failed step's span is an error with its kind; the message only with content", async () => {
  const failing = workspace({
    "flow.keel.yaml": `keel: 1
name: failing
steps:
  check: { type: assert, that: 'false', message: "private detail" }
`,
  });
  const r = await keelAsync(
    ["run", "flow.keel.yaml", "--json", "--otel", receiver.endpoint],
    failing,
  );
  assert.equal(r.code, 1, r.stderr);
  const runId = JSON.parse(r.stdout).runId as string;
  const spans = receiver.spans.filter((s) => s.attributes["keel.run.id"] === runId);
  const step = byName(spans, "assert check");
  assert.equal(step.status.code, 2);
  assert.equal(step.attributes["error.type"], step.status.message);
  assert.equal(byName(spans, "invoke_workflow failing").status.code, 2);
  assert.equal(receiver.bodies.join("\n").includes("private detail"), false);
});

test("a collector that does not answer: keel run still records and exits by the run; keel export --otel exits 1", async () => {
  const closed = await startReceiver();
  await closed.close();
  // The exporter's own timeout setting, read from the environment as the SDK's are.
  const quick = { ...env, OTEL_EXPORTER_OTLP_TIMEOUT: "1000" };
  const r = await keelAsync(
    ["run", "flow.keel.yaml", "--json", "--otel", closed.endpoint],
    dir,
    quick,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /could not send the spans of run/);
  const runId = JSON.parse(r.stdout).runId as string;
  const e = await keelAsync(["export", runId, "--otel", closed.endpoint], dir, quick);
  assert.equal(e.code, 1);
  assert.match(e.stderr, /could not send/);
  const bad = await keelAsync(["export", runId, "--otel", "not a url"], dir);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--otel takes a URL/);
});

test("a map of a child workflow: each item's attempt holds its child run's spans, all in the parent's trace; a child exported alone is a trace of its own", async () => {
  const nested = workspace({
    "parent.keel.yaml": `keel: 1
name: triage all
steps:
  tickets: { type: transform, expr: '[{"id": "t1", "text": "refund"}, {"id": "t2", "text": "login"}]' }
  per_ticket:
    type: workflow
    uses: ./child.keel.yaml
    for_each: steps.tickets.output
    key: item.id
    with: { ticket: "\${{ item }}" }
`,
    "child.keel.yaml": `keel: 1
name: triage one
inputs:
  ticket: { type: object }
providers:
  model: { type: scripted, model: scripted-m1, default: billing }
steps:
  classify: { type: llm, provider: model, prompt: "Classify \${{ inputs.ticket.text }}" }
outputs:
  label: steps.classify.output
`,
  });
  const r = await keelAsync(
    ["run", "parent.keel.yaml", "--json", "--otel", receiver.endpoint],
    nested,
  );
  assert.equal(r.code, 0, r.stderr);
  const runId = JSON.parse(r.stdout).runId as string;
  const trace = traceIdOf(runId);
  const spans = receiver.spans.filter((s) => s.traceId === trace);
  // The run; tickets and its attempt; the map; per item: its span, its attempt, the child run,
  // its step and that step's attempt.
  assert.equal(spans.length, 1 + 2 + 1 + 2 * 5);
  assert.match(r.stderr, new RegExp(`sent 14 spans of run ${runId}`));
  const root = byName(spans, "invoke_workflow triage all");
  const map = byName(spans, "workflow per_ticket");
  assert.equal(map.parentSpanId, root.spanId);
  const children = new Set<string>();
  for (const key of ["t1", "t2"]) {
    const item = byName(spans, `per_ticket[${key}]`);
    assert.equal(item.parentSpanId, map.spanId);
    assert.equal(item.attributes["keel.item.key"], key);
    const attempt = spans.find((s) => s.parentSpanId === item.spanId)!;
    assert.equal(attempt.name, "attempt 1");
    const child = spans.find(
      (s) =>
        s.name === "invoke_workflow triage one" &&
        s.attributes["keel.run.parent_scope"] === `per_ticket[${key}]`,
    )!;
    assert.equal(child.parentSpanId, attempt.spanId);
    assert.deepEqual(attempt.attributes["keel.child_run.ids"], [child.attributes["keel.run.id"]]);
    const chat = spans.find((s) => s.parentSpanId === child.spanId)!;
    assert.equal(chat.name, "chat scripted-m1");
    assert.equal(chat.attributes["keel.run.id"], child.attributes["keel.run.id"]);
    children.add(String(child.attributes["keel.run.id"]));
  }
  assert.equal(children.size, 2);
  assert.equal(receiver.bodies.join("\n").includes("refund"), false, "no content without the flag");

  const childId = [...children][0]!;
  const alone = await keelAsync(["export", childId, "--otel", receiver.endpoint], nested);
  assert.equal(alone.code, 0, alone.stderr);
  const own = receiver.spans.filter((s) => s.traceId === traceIdOf(childId));
  assert.equal(own.length, 3);
  const childRoot = byName(own, "invoke_workflow triage one");
  assert.equal(childRoot.parentSpanId, undefined);
  assert.equal(childRoot.attributes["keel.run.parent_id"], runId);
});

test("an agent's spans as a collector gets them: invoke_agent under the run, its turns' chat spans and tool calls under it, arguments and results only with --otel-content", async () => {
  const agentDir = workspace({
    "agent.keel.yaml": `keel: 1
name: agent otel
providers:
  model:
    type: scripted
    model: scripted-m1
    responses:
      - turn: 1
        tool_calls:
          - { name: search, arguments: { query: Lemuria } }
          - { name: search, arguments: { query: 3 } }
      - turn: 2
        reply: Sunken
steps:
  research:
    type: agent
    prompt: "Where is Lemuria?"
    max_turns: 2
    tools:
      search:
        uses: ./tools.mjs#search
        parameters: { type: object, required: [query], properties: { query: { type: string } } }
`,
    "tools.mjs": `export async function search(args) { return { hit: "Mu-" + args.query }; }\n`,
  });
  const r = await keelAsync(
    ["run", "agent.keel.yaml", "--json", "--otel", receiver.endpoint],
    agentDir,
  );
  assert.equal(r.code, 0, r.stderr);
  const runId = JSON.parse(r.stdout).runId as string;
  const spans = receiver.spans.filter((s) => s.attributes["keel.run.id"] === runId);
  const root = byName(spans, "invoke_workflow agent otel");
  const agent = byName(spans, "invoke_agent research");
  assert.equal(agent.parentSpanId, root.spanId);
  assert.equal(agent.kind, 1);
  assert.equal(agent.attributes["gen_ai.agent.name"], "research");
  const under = spans
    .filter((s) => s.parentSpanId === agent.spanId)
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  assert.deepEqual(
    under.map((s) => [s.name, s.attributes["keel.scope"], s.status.code ?? 0]),
    [
      ["chat scripted-m1", "#1", 0],
      ["execute_tool search", "#1/search.0", 0],
      ["execute_tool search", "#1/search.1", 2],
      ["chat scripted-m1", "#2", 0],
    ],
  );
  assert.equal(under[1]!.attributes["gen_ai.tool.call.id"], "call_1_0");
  assert.equal(under[2]!.attributes["error.type"], "invalid_arguments");
  assert.equal(spans.filter((s) => s.parentSpanId === under[2]!.spanId).length, 0);
  assert.equal(spans.filter((s) => s.parentSpanId === under[1]!.spanId).length, 1);
  const sent = receiver.bodies.join("\n");
  for (const privateText of ["Lemuria", "Mu-", "Sunken"])
    assert.equal(sent.includes(privateText), false, `the spans contain '${privateText}'`);

  const exported = await keelAsync(
    ["export", runId, "--otel", receiver.endpoint, "--otel-content"],
    agentDir,
  );
  assert.equal(exported.code, 0, exported.stderr);
  const calls = receiver.spans.filter(
    (s) =>
      s.attributes["keel.run.id"] === runId &&
      s.attributes["gen_ai.tool.call.arguments"] === '{"query":"Lemuria"}',
  );
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.attributes["gen_ai.tool.call.result"], '{"hit":"Mu-Lemuria"}');
});
