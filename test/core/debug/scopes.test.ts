// The replay debugger over a run with maps, child workflows and a loop (docs/debugger.md, "Items,
// iterations and child runs"): items and iterations in flight are threads with stable ids, an
// item's frame sits above its step's, Step Into enters an item and Step Out leaves it to the map's
// end, breakpoint conditions read `key`, `index` and `iteration` (hit counts too), and an item's
// scope shows its `item`, `index` and `key`.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import type { DebugProtocol } from "@vscode/debugprotocol";
import type { DebugClient } from "@vscode/debugadapter-testsupport";
import type { EventRecord } from "@keel/core/record/records";
import { MemoryStore } from "@keel/core/store/memory-store";
import { runText } from "../runner/harness";
import { moveBy, named, recordRun, Sessions, stopAfter, type Config } from "./harness";

/** The child workflow of both the map of child runs and the loop: a score, then its label. */
const GRADE = `keel: 1
name: grade
inputs:
  n: { type: number }
steps:
  score:
    type: transform
    expr: inputs.n * 30
  label:
    type: transform
    expr: '"score " & $string(steps.score.output)'
outputs:
  score: steps.score.output
`;

const FLOW = `keel: 1
name: scoped replay
providers:
  local: { type: scripted, default: fine }
steps:
  docs:
    type: transform
    expr: '[{"id": "a", "t": "one"}, {"id": "b", "t": "two"}, {"id": "c", "t": "three"}]'
  summarize:
    type: llm
    provider: local
    for_each: steps.docs.output
    key: item.id
    prompt: "Summarize \${{ item.t }}"
  per_doc:
    type: workflow
    needs: [summarize]
    uses: ./grade.keel.yaml
    for_each: steps.docs.output
    key: item.id
    concurrency: 1
    with: { n: "\${{ index + 1 }}" }
  refine:
    type: workflow
    needs: [per_doc]
    uses: ./grade.keel.yaml
    with: { n: 2 }
    repeat:
      until: output.score >= 90
      with: { n: "\${{ previous.output.score / 30 + 1 }}" }
      max: 4
`;

/** The one-based line of a step's key in FLOW. */
const keyLine = (id: string) => FLOW.split("\n").indexOf(`  ${id}:`) + 1;

let store: MemoryStore;
let runId: string;
let path: string;
let events: EventRecord[];
const sessions = new Sessions();

before(async () => {
  ({ store, runId, path, events } = await recordRun(FLOW, { "grade.keel.yaml": GRADE }));
});
after(() => sessions.close());

const open = (config: Config = {}) => sessions.open(store, { runId, workflow: path }, config);

/** The seq of the event of `type` on step `stepId` with `scope`. */
function seqOf(type: string, stepId: string, scope: string | null): number {
  const e = events.find((x) => x.type === type && x.stepId === stepId && x.scope === scope);
  assert.ok(e, `no ${type} of ${stepId}${scope ?? ""}`);
  return e.seq;
}

const goto = (dc: DebugClient, seq: number) =>
  stopAfter(dc, () => dc.customRequest("keel/goto", { seq }));

async function threads(dc: DebugClient): Promise<Map<string, number>> {
  const t = (await dc.threadsRequest()).body.threads;
  return new Map(t.map((x) => [x.name, x.id]));
}

const trace = async (dc: DebugClient, threadId: number) =>
  (await dc.stackTraceRequest({ threadId })).body.stackFrames;

test("items in flight are threads named by unit and place in the list; an item keeps its thread id while it runs; with no item in flight only the run's thread", async () => {
  const { dc } = await open();
  await goto(dc, seqOf("step_succeeded", "docs", null));
  assert.deepEqual([...(await threads(dc)).keys()], [`run ${runId} (replay)`]);

  const b = await goto(dc, seqOf("step_started", "summarize", "[b]"));
  const at = await threads(dc);
  assert.deepEqual(
    [...at.keys()],
    [`run ${runId} (replay)`, "summarize[a] (item 1 of 3)", "summarize[b] (item 2 of 3)"],
  );
  // The stop is on the thread of the event's item.
  assert.equal(b.body.threadId, at.get("summarize[b] (item 2 of 3)"));
  assert.notEqual(b.body.threadId, 1);

  await goto(dc, seqOf("step_started", "summarize", "[c]"));
  const later = await threads(dc);
  assert.equal(later.get("summarize[a] (item 1 of 3)"), at.get("summarize[a] (item 1 of 3)"));
  assert.equal(later.get("summarize[b] (item 2 of 3)"), at.get("summarize[b] (item 2 of 3)"));
  assert.ok(later.has("summarize[c] (item 3 of 3)"));

  // An ended item leaves (the event that ends it still shows on its thread).
  await goto(dc, seqOf("step_succeeded", "summarize", "[a]") + 1);
  assert.ok(!(await threads(dc)).has("summarize[a] (item 1 of 3)"));

  // Iterations of a loop are threads too.
  await goto(dc, seqOf("step_started", "refine", "#2"));
  assert.ok((await threads(dc)).has("refine#2 (iteration 2)"));
});

test("an item's thread shows the item's current event above its map step's frame; an iteration's above its loop step's", async () => {
  const { dc } = await open();
  await goto(dc, seqOf("step_started", "summarize", "[b]"));
  const t = await threads(dc);
  const a = await trace(dc, t.get("summarize[a] (item 1 of 3)")!);
  assert.deepEqual(
    a.slice(0, 3).map((f) => [f.name, f.line, f.source?.path]),
    [
      ["summarize[a] · started", keyLine("summarize"), path],
      ["summarize · running", keyLine("summarize"), path],
      ["docs · succeeded", keyLine("docs"), path],
    ],
  );
  // The run's thread is as without maps: the current event's step, then its upstream.
  const run = await trace(dc, 1);
  assert.deepEqual(
    run.map((f) => f.name),
    ["summarize[b] · started", "docs · succeeded"],
  );
  // Frame ids are unique across threads.
  const b = await trace(dc, t.get("summarize[b] (item 2 of 3)")!);
  const ids = [...a, ...run, ...b].map((f) => f.id);
  assert.equal(new Set(ids).size, ids.length);
  // Restart Frame on an item's frame goes to the item's first event.
  const restarted = await stopAfter(dc, () => dc.restartFrameRequest({ frameId: a[0]!.id }));
  assert.equal(
    restarted.body.description,
    `event ${seqOf("step_started", "summarize", "[a]")} · summarize[a] · started`,
  );

  await goto(dc, seqOf("step_started", "refine", "#2"));
  const it = await trace(dc, (await threads(dc)).get("refine#2 (iteration 2)")!);
  assert.deepEqual(
    it.slice(0, 2).map((f) => f.name),
    ["refine#2 · started", "refine · running"],
  );
});

test("Step Into on a map step's event enters its first item; Step Out from an item goes to the map step's end", async () => {
  const { dc } = await open();
  await goto(dc, seqOf("step_started", "summarize", null));
  const into = await moveBy(dc, "stepIn");
  assert.match(into.body.description ?? "", /summarize\[a\] · started/);
  const out = await moveBy(dc, "stepOut");
  assert.equal(
    out.body.description,
    `event ${seqOf("step_succeeded", "summarize", null)} · summarize · succeeded`,
  );
  // Into a loop: its first iteration.
  await goto(dc, seqOf("step_started", "refine", null));
  assert.match((await moveBy(dc, "stepIn")).body.description ?? "", /refine#1 · started/);
});

test("breakpoint conditions read the item's key and index and the iteration; a hit count counts where the condition held", async () => {
  const { dc, capabilities } = await open({
    functions: [],
  });
  assert.equal(capabilities.supportsConditionalBreakpoints, true);
  assert.equal(capabilities.supportsHitConditionalBreakpoints, true);
  const set = (b: DebugProtocol.FunctionBreakpoint[]) =>
    dc.setFunctionBreakpointsRequest({ breakpoints: b });

  await set([{ name: "summarize", condition: 'key = "b"' }]);
  let stop = await moveBy(dc, "continue");
  assert.equal(
    stop.body.description,
    `event ${seqOf("step_started", "summarize", "[b]")} · summarize[b] · started`,
  );
  assert.equal(stop.body.reason, "function breakpoint");
  // Nothing further holds: the end of the recording.
  assert.equal((await moveBy(dc, "continue")).body.description, "end of recording");

  await set([{ name: "per_doc", condition: "index = 2" }]);
  stop = await moveBy(dc, "reverseContinue");
  assert.match(stop.body.description ?? "", /per_doc\[c\] · started/);

  await set([{ name: "refine", condition: "iteration >= 2" }]);
  await goto(dc, 1);
  assert.match((await moveBy(dc, "continue")).body.description ?? "", /refine#2 · started/);

  // Hit counts: the step's own start is the first hit, then each item's.
  await set([{ name: "summarize", hitCondition: "3" }]);
  await goto(dc, 1);
  assert.match((await moveBy(dc, "continue")).body.description ?? "", /summarize\[b\] · started/);
  // A hit count over a condition counts only where the condition held.
  await set([{ name: "summarize", condition: "index >= 0", hitCondition: ">= 2" }]);
  await goto(dc, 1);
  assert.match((await moveBy(dc, "continue")).body.description ?? "", /summarize\[b\] · started/);
  assert.match((await moveBy(dc, "continue")).body.description ?? "", /summarize\[c\] · started/);
  // A line breakpoint takes a condition too.
  await set([]);
  const line = await dc.setBreakpointsRequest({
    source: { path },
    breakpoints: [{ line: keyLine("per_doc") + 1, condition: 'key = "c"' }],
  });
  assert.equal(line.body.breakpoints[0]!.verified, true);
  await goto(dc, 1);
  assert.match((await moveBy(dc, "continue")).body.description ?? "", /per_doc\[c\] · started/);

  // A condition that is not JSONata, or a hit count that is not a count, is refused with why.
  const refused = (
    await set([
      { name: "summarize", condition: "key = " },
      { name: "summarize", hitCondition: "often" },
    ])
  ).body.breakpoints;
  assert.deepEqual(
    refused.map((b) => b.verified),
    [false, false],
  );
  assert.match(refused[0]!.message ?? "", /the condition `key =` is not JSONata/);
  assert.match(refused[1]!.message ?? "", /the hit count `often` is not a count: write 3/);
});

test("an item's frame has an Item scope with its item, index and key, and its own state; evaluate on that frame sees them", async () => {
  const { dc } = await open();
  await goto(dc, seqOf("step_started", "summarize", "[b]"));
  const t = await threads(dc);
  const [top] = await trace(dc, t.get("summarize[b] (item 2 of 3)")!);
  const scopes = (await dc.scopesRequest({ frameId: top!.id })).body.scopes;
  assert.deepEqual(
    scopes.map((s) => s.name),
    ["Item summarize[b]", "Step summarize", "Run"],
  );
  const item = await named(dc, scopes[0]!.variablesReference);
  assert.equal(item.get("key")?.value, '"b"');
  assert.equal(item.get("index")?.value, "1");
  const value = await named(dc, item.get("item")!.variablesReference);
  assert.equal(value.get("t")?.value, '"two"');
  assert.equal(value.get("t")?.evaluateName, "item.t");
  const unit = await named(dc, item.get("unit")!.variablesReference);
  assert.equal(unit.get("status")?.value, '"running"');
  const evaluated = await dc.evaluateRequest({ expression: "item.t & key", frameId: top!.id });
  assert.equal(evaluated.body.result, '"twob"');

  // An iteration's scope says which.
  await goto(dc, seqOf("step_succeeded", "refine", "#2"));
  const it = await trace(dc, (await threads(dc)).get("refine#2 (iteration 2)")!);
  const itScopes = (await dc.scopesRequest({ frameId: it[0]!.id })).body.scopes;
  assert.equal(itScopes[0]!.name, "Iteration refine#2");
  const vars = await named(dc, itScopes[0]!.variablesReference);
  assert.equal(vars.get("iteration")?.value, "2");
  assert.equal(
    (await named(dc, vars.get("unit")!.variablesReference)).get("status")?.value,
    '"succeeded"',
  );
});

test("a child run in flight shows its step above the item or iteration that started it, in the child's file at that step's key line", async () => {
  const { dc } = await open();
  const child = join(dirname(path), "grade.keel.yaml");
  const childLine = (id: string) => GRADE.split("\n").indexOf(`  ${id}:`) + 1;
  for (const [step, scope, thread] of [
    ["per_doc", "[b]", "per_doc[b] (item 2 of 3)"],
    ["refine", "#2", "refine#2 (iteration 2)"],
  ] as const) {
    await goto(dc, seqOf("child_started", step, scope));
    const [top, own, parent] = await trace(dc, (await threads(dc)).get(thread)!);
    const m = new RegExp(`^${step}\\${scope} › (score|label) · `).exec(top!.name);
    assert.ok(m, top!.name);
    assert.equal(top!.source?.path, child);
    assert.equal(top!.line, childLine(m[1]!));
    assert.match(own!.name, new RegExp(`^${step}\\${scope} · child run .* started$`));
    assert.equal(parent!.name, `${step} · running`);
    // Once the child run finished, its frame is gone.
    await goto(dc, seqOf("child_finished", step, scope));
    const after = await trace(dc, (await threads(dc)).get(thread)!);
    assert.equal(after[0]!.name, `${step}${scope} · child run succeeded`);
  }
  // The run's thread shows no child frame for an item's child run.
  await goto(dc, seqOf("child_started", "per_doc", "[b]"));
  assert.match((await trace(dc, 1))[0]!.name, /^per_doc\[b\] · child run/);
});

test("a breakpoint stops where an item that never started begins: its cancellation", async () => {
  const failing = new MemoryStore();
  const run = await runText(
    `keel: 1
name: stops early
steps:
  check:
    type: transform
    for_each: '["a", "b", "c"]'
    key: item
    concurrency: 1
    expr: 'item = "b" ? $error("no b") : item'
`,
    { store: failing },
  );
  assert.equal(run.result.status, "failed");
  const { dc } = await sessions.open(failing, {
    runId: run.result.runId,
    workflow: run.loaded.path,
  });
  await dc.setFunctionBreakpointsRequest({
    breakpoints: [{ name: "check", condition: 'key = "c"' }],
  });
  assert.match((await moveBy(dc, "continue")).body.description ?? "", /check\[c\] · cancelled/);
});
