// Spans built from a run's record (docs/cli.md, "OpenTelemetry"): attempts as child spans with
// their errors, a cache hit marked as such and without token usage, the served model of a fallback.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildSpans, traceIdOf } from "@keel/core/otel/export";
import { spansOfRun, type SpanSpec } from "@keel/core/otel/spans";
import type { Effects } from "@keel/core/runner/effects";
import { StepError } from "@keel/core/runner/errors";
import { readRecordedRun } from "@keel/core/replay/record";
import { MemoryStore } from "@keel/core/store/memory-store";
import { runText } from "../runner/harness";

const FLOW = `keel: 1
name: retries
providers:
  flaky:
    type: scripted
    model: big-1
    responses: [{ match: notes, error: rate_limit }]
    retry: { max_attempts: 2, backoff: fixed, initial: 10ms }
    fallback: steady
  steady:
    type: scripted
    model: small-1
    default: "fine notes"
steps:
  notes: { type: llm, provider: flaky, prompt: "Write the notes", cache: true }
  shout: { type: transform, expr: '$uppercase(steps.notes.output)' }
`;

async function spansOf(store: MemoryStore, runId: string): Promise<SpanSpec> {
  const record = await readRecordedRun(store, runId);
  assert.ok(record);
  return spansOfRun(record);
}

test("a step's attempts are its child spans; a failed attempt is an error with its kind; after a fallback the step is the fallback's call", async () => {
  const store = new MemoryStore();
  const { result } = await runText(FLOW, { store });
  assert.equal(result.status, "succeeded");
  const root = await spansOf(store, result.runId);
  assert.deepEqual(
    root.children.map((c) => c.name),
    ["chat small-1", "transform shout"],
  );
  const chat = root.children[0]!;
  assert.equal(chat.kind, "client");
  assert.equal(chat.error, null);
  assert.deepEqual(
    chat.children.map((a) => [
      a.name,
      a.attributes["keel.attempt.status"],
      a.attributes["error.type"],
      a.error,
    ]),
    [
      ["attempt 1", "failed", "rate_limit", "rate_limit"],
      ["attempt 2", "failed", "rate_limit", "rate_limit"],
      ["attempt 3", "succeeded", undefined, null],
    ],
  );
  assert.equal(chat.attributes["gen_ai.request.model"], "small-1");
  assert.equal(chat.attributes["gen_ai.response.model"], "small-1");
  assert.ok(Number(chat.attributes["gen_ai.usage.output_tokens"]) > 0);
  for (const span of [root, ...root.children, ...chat.children]) {
    assert.ok(span.startedAt <= span.endedAt, span.name);
    assert.equal(span.attributes["keel.run.id"], result.runId);
  }
  for (const child of root.children) {
    assert.ok(root.startedAt <= child.startedAt && child.endedAt <= root.endedAt, child.name);
  }
});

test("a cache hit's span says cached, names the run it came from, and counts no tokens", async () => {
  const flow = FLOW.replace("provider: flaky", "provider: steady");
  const store = new MemoryStore();
  await runText(flow, { store });
  const { result } = await runText(flow, { store });
  const chat = (await spansOf(store, result.runId)).children[0]!;
  assert.equal(chat.attributes["keel.step.status"], "cached");
  assert.equal(chat.attributes["gen_ai.usage.input_tokens"], undefined);
  assert.equal(chat.children.length, 1);
  assert.equal(chat.children[0]!.attributes["keel.attempt.origin"], "cached");
  assert.equal(typeof chat.children[0]!.attributes["keel.source_run.id"], "string");
});

// Maps, loops and child runs (docs/dev/scopes.md): one span per item or iteration, the child runs
// a workflow step started inside the parent's tree.

const DOCS = `[{"id": "a", "t": "one"}, {"id": "b", "t": "two"}, {"id": "c", "t": "three"}]`;
const mapFlow = (extra: string) => `keel: 1
name: digest
providers:
  fake: { type: scripted, model: tiny-1, default: fine }
steps:
  docs: { type: transform, expr: '${DOCS}' }
  summarize:
    type: llm
    for_each: steps.docs.output
    key: item.id
${extra}
    prompt: "Summarize \${{ item.t }}"
`;

/** Effects whose model calls fail (server_error) for a prompt naming one of `failing`. */
function failingOn(...failing: string[]) {
  return (base: Effects): Effects => ({
    ...base,
    llm: async (request, signal, key) => {
      const prompt = request.messages.map((m) => m.content).join("\n");
      if (failing.some((f) => prompt.includes(f)))
        throw new StepError("server_error", `the provider failed on '${prompt}'`);
      return base.llm(request, signal, key);
    },
  });
}

/** Every span of a tree, depth first, with its parent. */
function flatten(root: SpanSpec, parent: SpanSpec | null = null): [SpanSpec, SpanSpec | null][] {
  return [[root, parent], ...root.children.flatMap((c) => flatten(c, root))];
}

const named = (spans: readonly SpanSpec[], name: string) => {
  const found = spans.filter((s) => s.name === name);
  assert.equal(found.length, 1, `one '${name}' in ${spans.map((s) => s.name).join(", ")}`);
  return found[0]!;
};

test("a map's span holds one span per item, named by its key, with the item's attempts; a failed item under on_item_error: continue shows its retries", async () => {
  const store = new MemoryStore();
  const { result } = await runText(
    mapFlow("    on_item_error: continue\n    retry: { max_attempts: 2, initial: 1ms }"),
    { store, wrap: failingOn("two") },
  );
  assert.equal(result.status, "succeeded");
  const root = await spansOf(store, result.runId);
  const map = named(root.children, "llm summarize");
  assert.equal(map.kind, "internal");
  assert.equal(map.attributes["gen_ai.operation.name"], undefined, "the items are the calls");
  assert.equal(map.attributes["keel.step.items"], 3);
  assert.equal(map.attributes["keel.step.units.succeeded"], 2);
  assert.equal(map.attributes["keel.step.units.failed"], 1);
  assert.deepEqual(
    map.children.map((c) => [
      c.name,
      c.attributes["keel.step.id"],
      c.attributes["keel.scope"],
      c.attributes["keel.item.key"],
      c.attributes["keel.item.index"],
      c.attributes["keel.step.status"],
      c.error,
    ]),
    [
      ["summarize[a]", "summarize", "[a]", "a", 0, "succeeded", null],
      ["summarize[b]", "summarize", "[b]", "b", 1, "failed", "server_error"],
      ["summarize[c]", "summarize", "[c]", "c", 2, "succeeded", null],
    ],
  );
  const [a, b] = map.children;
  // An item of a model call is the call: the GenAI attributes are on it.
  assert.equal(a!.kind, "client");
  assert.equal(a!.attributes["gen_ai.request.model"], "tiny-1");
  assert.ok(Number(a!.attributes["gen_ai.usage.output_tokens"]) > 0);
  assert.equal(a!.attributes["gen_ai.input.messages"], undefined, "content is opt-in");
  assert.deepEqual(
    b!.children.map((t) => [t.name, t.attributes["keel.scope"], t.attributes["error.type"]]),
    [
      ["attempt 1", "[b]", "server_error"],
      ["attempt 2", "[b]", "server_error"],
    ],
  );
  for (const [span, parent] of flatten(root)) {
    assert.ok(span.startedAt <= span.endedAt, span.name);
    if (parent) assert.ok(parent.startedAt <= span.startedAt, `${span.name} in ${parent.name}`);
    if (parent) assert.ok(span.endedAt <= parent.endedAt, `${span.name} in ${parent.name}`);
  }
  // With content, each item's own prompt (and only with content: the error's message).
  const record = (await readRecordedRun(store, result.runId))!;
  const full = named(spansOfRun(record, { content: true }).children, "llm summarize");
  assert.match(String(full.children[2]!.attributes["gen_ai.input.messages"]), /Summarize three/);
  assert.match(full.children[1]!.error!, /^server_error: the provider failed on 'Summarize two'/);
});

test("items a failed map never started are left out; the map's span counts them", async () => {
  const store = new MemoryStore();
  const { result } = await runText(mapFlow("    concurrency: 1"), {
    store,
    wrap: failingOn("two"),
  });
  assert.equal(result.status, "failed");
  const map = named((await spansOf(store, result.runId)).children, "llm summarize");
  assert.deepEqual(
    map.children.map((c) => [c.name, c.attributes["keel.step.status"]]),
    [
      ["summarize[a]", "succeeded"],
      ["summarize[b]", "failed"],
    ],
  );
  assert.equal(map.error, "item_failures");
  assert.equal(map.attributes["keel.step.units.cancelled"], 1);
  assert.equal(map.attributes["keel.step.units.not_started"], 1);
});

const LEAF = `keel: 1
name: leaf
inputs:
  n: { type: number }
steps:
  grade: { type: transform, expr: '{"score": inputs.n * 30}' }
outputs:
  score: steps.grade.output.score
`;
const MIDDLE = `keel: 1
name: middle
inputs:
  ticket: { type: object }
steps:
  inner:
    type: workflow
    uses: ./leaf.keel.yaml
    with: { n: "\${{ inputs.ticket.n }}" }
outputs:
  score: steps.inner.output.score
`;
const FILES = { "leaf.keel.yaml": LEAF, "middle.keel.yaml": MIDDLE };

/** The child run spans under an attempt span, with the run id each names. */
const childRunsUnder = (span: SpanSpec) =>
  span.children.filter((c) => c.name.startsWith("invoke_workflow "));

test("a repeat's span holds one span per iteration, each attempt with the child run it started", async () => {
  const store = new MemoryStore();
  const { result } = await runText(
    `keel: 1
name: refine
steps:
  refine:
    type: workflow
    uses: ./leaf.keel.yaml
    with: { n: 1 }
    repeat:
      max: 5
      until: output.score >= 80
      with: { n: "\${{ previous.output.score / 30 + 1 }}" }
`,
    { store, files: FILES },
  );
  assert.equal(result.status, "succeeded", result.error ?? "");
  const loop = named((await spansOf(store, result.runId)).children, "workflow refine");
  assert.equal(loop.attributes["keel.step.units.succeeded"], 3);
  assert.deepEqual(
    loop.children.map((c) => [c.name, c.attributes["keel.iteration"], c.attributes["keel.scope"]]),
    [
      ["refine#1", 1, "#1"],
      ["refine#2", 2, "#2"],
      ["refine#3", 3, "#3"],
    ],
  );
  const children = (await store.listRuns()).filter((r) => r.parentId === result.runId);
  for (const iteration of loop.children) {
    const attempt = named(iteration.children, "attempt 1");
    const [child] = childRunsUnder(attempt);
    assert.ok(child, `a child run under ${iteration.name}`);
    const recorded = children.find((r) => r.parentScope === iteration.name)!;
    assert.equal(child.attributes["keel.run.id"], recorded.id);
    assert.deepEqual(attempt.attributes["keel.child_run.ids"], [recorded.id]);
    assert.equal(child.attributes["keel.run.parent_scope"], iteration.name);
    assert.deepEqual(
      child.children.map((s) => s.name),
      ["transform grade"],
    );
  }
});

const mapOfChildren = `keel: 1
name: triage all
steps:
  tickets: { type: transform, expr: '[{"id": "t1", "n": 1}, {"id": "t2", "n": 2}]' }
  per_ticket:
    type: workflow
    uses: ./middle.keel.yaml
    for_each: steps.tickets.output
    key: item.id
    with: { ticket: "\${{ item }}" }
  one:
    type: workflow
    uses: ./leaf.keel.yaml
    with: { n: 3 }
`;

test("a child run sits under the attempt that started it, with its steps and its own children (depth 2); each item of a map of a child workflow has its child", async () => {
  const store = new MemoryStore();
  const { result } = await runText(mapOfChildren, { store, files: FILES });
  assert.equal(result.status, "succeeded", result.error ?? "");
  const root = await spansOf(store, result.runId);
  const runs = await store.listRuns();
  const childOf = (parent: string, scope: string) =>
    runs.find((r) => r.parentId === parent && r.parentScope === scope)!;

  const one = named(root.children, "workflow one");
  const [oneChild] = childRunsUnder(named(one.children, "attempt 1"));
  assert.equal(oneChild!.attributes["keel.run.id"], childOf(result.runId, "one").id);
  assert.equal(oneChild!.attributes["keel.run.parent_id"], result.runId);

  const map = named(root.children, "workflow per_ticket");
  assert.deepEqual(
    map.children.map((c) => c.name),
    ["per_ticket[t1]", "per_ticket[t2]"],
  );
  for (const item of map.children) {
    const middle = childOf(result.runId, item.name);
    const [child] = childRunsUnder(named(item.children, "attempt 1"));
    assert.equal(child!.name, "invoke_workflow middle");
    assert.equal(child!.attributes["keel.run.id"], middle.id);
    // Its own workflow step's attempt holds the grandchild.
    const inner = named(child!.children, "workflow inner");
    const [leaf] = childRunsUnder(named(inner.children, "attempt 1"));
    assert.equal(leaf!.name, "invoke_workflow leaf");
    assert.equal(leaf!.attributes["keel.run.id"], childOf(middle.id, "inner").id);
    assert.equal(
      named(leaf!.children, "transform grade").attributes["keel.run.id"],
      leaf!.attributes["keel.run.id"],
    );
  }
  // Exported alone, a child run is its own tree: its run's span is the root.
  const alone = await spansOf(store, childOf(result.runId, "per_ticket[t1]").id);
  assert.equal(alone.name, "invoke_workflow middle");
  assert.equal(alone.attributes["keel.run.parent_scope"], "per_ticket[t1]");
  // In SDK spans: one trace, each child run's span the child of its attempt's.
  const sdk = buildSpans(root, result.runId);
  assert.equal(sdk.length, flatten(root).length);
  assert.ok(sdk.every((s) => s.spanContext().traceId === traceIdOf(result.runId)));
});

test("a child run missing from the store is an event and an attribute on the attempt that started it, not a failure", async () => {
  const store = new MemoryStore();
  const { result } = await runText(mapOfChildren, { store, files: FILES });
  const record = (await readRecordedRun(store, result.runId))!;
  const lost = [...record.children.keys()];
  const root = spansOfRun({ ...record, children: new Map() });
  const map = named(root.children, "workflow per_ticket");
  const attempt = named(map.children[0]!.children, "attempt 1");
  assert.equal(childRunsUnder(attempt).length, 0);
  const [id] = attempt.attributes["keel.child_run.missing"] as string[];
  assert.ok(id && lost.includes(id));
  assert.deepEqual(attempt.events, [
    {
      name: "keel.child_run.missing",
      at: attempt.startedAt,
      attributes: { "keel.child_run.id": id },
    },
  ]);
  const sdk = buildSpans(root, result.runId);
  const exported = sdk.filter((s) => s.events.some((e) => e.name === "keel.child_run.missing"));
  assert.equal(exported.length, 3, "both items' attempts and the step one's");
});
