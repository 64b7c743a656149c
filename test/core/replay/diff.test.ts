// keel diff's core: two recorded runs compared step by step, the first divergence first; a
// map step's items by key and a repeated step's iterations by number.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStore } from "@keel/core/store/memory-store";
import { diffRuns } from "@keel/core/replay/diff";
import { readRecordedRun } from "@keel/core/replay/record";
import { runText } from "../runner/harness";

const FLOW = (model: string, prompt: string) => `keel: 1
name: d
providers:
  p: { type: scripted, model: ${model}, default: "same answer" }
defaults: { cache: false }
steps:
  a: { type: transform, expr: '"x"' }
  ask: { type: llm, provider: p, prompt: "${prompt} \${{ steps.a.output }}" }
  echo: { type: transform, expr: 'steps.ask.output & "!"' }
`;

async function twoRuns(b: string) {
  const store = new MemoryStore();
  const first = await runText(FLOW("m1", "Hello"), { store });
  const second = await runText(b, { store });
  return diffRuns(
    (await readRecordedRun(store, first.result.runId))!,
    (await readRecordedRun(store, second.result.runId))!,
  );
}

test("two runs of the same workflow have no divergence", async () => {
  const diff = await twoRuns(FLOW("m1", "Hello"));
  assert.equal(diff.firstDivergence, null);
  assert.deepEqual(
    diff.steps.map((s) => [s.step, s.inputEqual, s.outputEqual, s.differs]),
    [
      ["a", true, true, false],
      ["ask", true, true, false],
      ["echo", true, true, false],
    ],
  );
  assert.ok(diff.steps.every((s) => s.latencyMs.every((l) => typeof l === "number")));
});

test("a changed prompt and model: the step comes first with its input equal flag and model change", async () => {
  const diff = await twoRuns(FLOW("m2", "Bonjour"));
  assert.equal(diff.firstDivergence, "ask");
  const [first] = diff.steps;
  assert.equal(first!.step, "ask");
  assert.equal(first!.inputEqual, false);
  assert.equal(first!.outputEqual, true);
  assert.deepEqual(first!.model, ["m1", "m2"]);
  assert.equal(diff.steps.find((s) => s.step === "echo")!.differs, false);
});

/** A map of an llm step over documents given as JSON; its prompt shows each document's text. */
const MAP = (docs: string) => `keel: 1
name: m
providers:
  p: { type: scripted, default: "fine" }
defaults: { cache: false }
steps:
  docs: { type: transform, expr: '${docs}' }
  summarize:
    type: llm
    for_each: steps.docs.output
    key: item.id
    prompt: "Summarize \${{ item.t }}"
`;

async function runsOf(a: string, b: string, files: Record<string, string> = {}) {
  const store = new MemoryStore();
  const first = await runText(a, { store, files });
  const second = await runText(b, { store, files });
  return diffRuns(
    (await readRecordedRun(store, first.result.runId))!,
    (await readRecordedRun(store, second.result.runId))!,
  );
}

test("a map step is compared item by item by key: a changed item differs, added and removed keys are absent on one side", async () => {
  const diff = await runsOf(
    MAP(
      `[{"id": "a", "t": "one"}, {"id": "b", "t": "two"}, {"id": "c", "t": "three"}, {"id": "d", "t": "four"}]`,
    ),
    MAP(
      `[{"id": "a", "t": "one"}, {"id": "b", "t": "TWO"}, {"id": "c", "t": "three"}, {"id": "e", "t": "five"}]`,
    ),
  );
  const row = diff.steps.find((s) => s.step === "summarize")!;
  assert.deepEqual(
    row.items!.map((u) => [u.key, u.status, u.inputEqual, u.outputEqual, u.differs]),
    [
      ["a", ["succeeded", "succeeded"], true, true, false],
      ["b", ["succeeded", "succeeded"], false, true, true],
      ["c", ["succeeded", "succeeded"], true, true, false],
      ["d", ["succeeded", "absent"], false, false, true],
      ["e", ["absent", "succeeded"], false, false, true],
    ],
  );
  assert.ok(row.items!.every((u) => u.latencyMs.some((l) => typeof l === "number")));
  assert.equal(row.items!.find((u) => u.key === "d")!.latencyMs[1], null);
  assert.equal(row.differs, true);
  assert.equal(row.iterations, undefined);
  // The docs step changed first: it is the first divergence, the map step comes after it.
  assert.equal(diff.firstDivergence, "docs");
});

test("a map whose one item's input changed but whose outputs are all equal still differs, by that item alone", async () => {
  const docs = (t: string) =>
    MAP(`[{"id": "a", "t": "one"}, {"id": "b", "t": "${t}"}, {"id": "c", "t": "three"}]`);
  const diff = await runsOf(docs("two"), docs("deux"));
  const row = diff.steps.find((s) => s.step === "summarize")!;
  assert.equal(row.outputEqual, true);
  assert.equal(row.differs, true);
  assert.deepEqual(
    row.items!.filter((u) => u.differs).map((u) => u.key),
    ["b"],
  );
  // The map step has no attempt of its own: its input is not an item's.
  assert.equal(row.inputEqual, true);
});

/** A child that counts: its output `k` is its input plus one. */
const COUNT = `keel: 1
name: count
inputs:
  k: { type: number, default: 0 }
steps:
  next: { type: transform, expr: "inputs.k + 1" }
outputs:
  k: steps.next.output
`;

/** Counts with the child until `k` reaches `until`: that many iterations. */
const LOOP = (until: number) => `keel: 1
name: loop
steps:
  refine:
    type: workflow
    uses: ./count.keel.yaml
    repeat: { max: 5, until: "output.k >= ${until}", with: { k: "\${{ previous.output.k }}" } }
`;

test("a repeated step's iterations are compared by number: one iteration fewer is absent in run B", async () => {
  const diff = await runsOf(LOOP(3), LOOP(2), { "count.keel.yaml": COUNT });
  const row = diff.steps.find((s) => s.step === "refine")!;
  assert.deepEqual(
    row.iterations!.map((u) => [u.key, u.status, u.outputEqual, u.differs]),
    [
      ["1", ["succeeded", "succeeded"], true, false],
      ["2", ["succeeded", "succeeded"], true, false],
      ["3", ["succeeded", "absent"], false, true],
    ],
  );
  assert.equal(row.items, undefined);
  assert.equal(diff.firstDivergence, "refine");
});

test("the same map and loop twice: no item or iteration differs", async () => {
  const docs = MAP(`[{"id": "a", "t": "one"}, {"id": "b", "t": "two"}]`);
  const map = await runsOf(docs, docs);
  assert.equal(map.firstDivergence, null);
  assert.deepEqual(
    map.steps.find((s) => s.step === "summarize")!.items!.map((u) => [u.key, u.differs]),
    [
      ["a", false],
      ["b", false],
    ],
  );
  const loop = await runsOf(LOOP(3), LOOP(3), { "count.keel.yaml": COUNT });
  assert.equal(loop.firstDivergence, null);
  assert.equal(loop.steps.find((s) => s.step === "refine")!.iterations!.length, 3);
});

/** A map whose items each count with the child until `k` reaches the item's number. */
const MAP_OF_LOOPS = (start: string) => `keel: 1
name: loops
steps:
  refine:
    type: workflow
    uses: ./count.keel.yaml
    for_each: "[1, 2]"
    key: '"t" & $string(item)'
    with: { ${start} }
    repeat: { max: 5, until: "output.k >= item", with: { k: "\${{ previous.output.k }}" } }
`;

test("a map whose items loop: one row per item, which differs when one of its iterations does, even with the same output", async () => {
  const files = { "count.keel.yaml": COUNT };
  // Giving k: 0 explicitly changes each item's first iteration's input, not what it computes.
  const diff = await runsOf(MAP_OF_LOOPS(""), MAP_OF_LOOPS("k: 0"), files);
  const row = diff.steps.find((s) => s.step === "refine")!;
  assert.deepEqual(
    row.items!.map((u) => [u.key, u.status, u.inputEqual, u.outputEqual, u.differs]),
    [
      ["t1", ["succeeded", "succeeded"], true, true, true],
      ["t2", ["succeeded", "succeeded"], true, true, true],
    ],
  );
  assert.equal(row.iterations, undefined, "an item's iterations are not the step's");
  assert.equal(row.differs, true);
  const same = await runsOf(MAP_OF_LOOPS(""), MAP_OF_LOOPS(""), files);
  assert.deepEqual(
    same.steps[0]!.items!.map((u) => u.differs),
    [false, false],
  );
});
