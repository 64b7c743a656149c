// Spans built from a run's record (docs/cli.md, "OpenTelemetry"): attempts as child spans with
// their errors, a cache hit marked as such and without token usage, the served model of a fallback.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spansOfRun, type SpanSpec } from "@keel/core/otel/spans";
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
