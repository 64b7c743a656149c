// The replay debugger steps into child runs (docs/debugger.md, "Child runs"): Step Into a
// workflow step (or an item or iteration that runs a child) enters the child run's own recorded
// log, shown in the child's file above the parent's frames; Step Over at its last event and Step
// Out leave it at the parent's event after `child_finished`, Step Back at its first event at its
// `child_started`; breakpoints in a child workflow's file stop Continue and Reverse Continue from
// the parent; a child of a child works the same. Over the real adapter, on a real recorded run.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import type { DebugClient } from "@vscode/debugadapter-testsupport";
import type { EventRecord } from "@keel/core/record/records";
import { MemoryStore } from "@keel/core/store/memory-store";
import { runText } from "../runner/harness";
import { moveBy, named, recordRun, Sessions, stopAfter, type Config } from "./harness";

/** Two deep: the child of the child. */
const LEAF = `keel: 1
name: leaf
inputs:
  n: { type: number }
steps:
  inner:
    type: transform
    expr: inputs.n + 1
outputs:
  inner: steps.inner.output
`;

/** The child: a score, a child run of its own, then a label. */
const GRADE = `keel: 1
name: grade
inputs:
  n: { type: number }
steps:
  score:
    type: transform
    expr: inputs.n * 30
  deeper:
    type: workflow
    needs: [score]
    uses: ./leaf.keel.yaml
    with: { n: "\${{ steps.score.output }}" }
  label:
    type: transform
    needs: [deeper]
    expr: '"score " & $string(steps.score.output)'
outputs:
  score: steps.score.output
`;

const FLOW = `keel: 1
name: parent
steps:
  first:
    type: transform
    expr: '["a", "b"]'
  sub:
    type: workflow
    needs: [first]
    uses: ./grade.keel.yaml
    with: { n: 2 }
  per_doc:
    type: workflow
    needs: [sub]
    uses: ./grade.keel.yaml
    for_each: steps.first.output
    key: item
    concurrency: 1
    with: { n: "\${{ index + 1 }}" }
  last:
    type: transform
    needs: [per_doc]
    expr: steps.sub.output.score
`;

/** The one-based line of a step's key in a workflow's text. */
const keyLine = (text: string, id: string) => text.split("\n").indexOf(`  ${id}:`) + 1;

let store: MemoryStore;
let runId: string;
let path: string;
let gradePath: string;
let leafPath: string;
let events: EventRecord[];
const sessions = new Sessions();

before(async () => {
  ({ store, runId, path, events } = await recordRun(FLOW, {
    "grade.keel.yaml": GRADE,
    "leaf.keel.yaml": LEAF,
  }));
  gradePath = join(dirname(path), "grade.keel.yaml");
  leafPath = join(dirname(path), "leaf.keel.yaml");
});
after(() => sessions.close());

const open = (config: Config = {}) => sessions.open(store, { runId, workflow: path }, config);

/** The event of `type` on step `stepId` with `scope` in a log. */
function find(log: EventRecord[], type: string, stepId: string, scope: string | null = null) {
  const e = log.find((x) => x.type === type && x.stepId === stepId && x.scope === scope);
  assert.ok(e, `no ${type} of ${stepId}${scope ?? ""}`);
  return e;
}

/** The events of the child run a unit of the parent's log started. */
async function childLog(log: EventRecord[], stepId: string, scope: string | null = null) {
  const id = find(log, "child_started", stepId, scope).data?.childRun;
  assert.equal(typeof id, "string");
  return { id: id as string, log: await store.events(id as string) };
}

const goto = (dc: DebugClient, seq: number) =>
  stopAfter(dc, () => dc.customRequest("keel/goto", { seq }));

const trace = async (dc: DebugClient, threadId = 1) =>
  (await dc.stackTraceRequest({ threadId })).body.stackFrames;

const described = (prefix: string, e: EventRecord, label: string) =>
  `${prefix}event ${e.seq} · ${e.stepId}${e.scope ?? ""} · ${label}`;

test("Step Into a workflow step's start enters its child run at the child's first step, shown in the child's file above the parent's frames, with the child step's variables", async () => {
  const { dc } = await open();
  const sub = await childLog(events, "sub");
  await goto(dc, find(events, "step_started", "sub").seq);
  const into = await moveBy(dc, "stepIn");
  assert.equal(
    into.body.description,
    described("sub › ", find(sub.log, "step_started", "score"), "started"),
  );
  assert.equal(into.body.threadId, 1);

  const frames = await trace(dc);
  assert.deepEqual(
    frames.slice(0, 2).map((f) => [f.name, f.source?.path, f.line, f.presentationHint]),
    [
      ["sub › score · started", gradePath, keyLine(GRADE, "score"), undefined],
      // Below the child's frames, the parent's: the workflow step at its child_started.
      [`sub · child run ${sub.id} started`, path, keyLine(FLOW, "sub"), undefined],
    ],
  );
  assert.equal(frames[2]!.name, "first · succeeded");

  // The child step's own variables; the Run scope is the child run's.
  await moveBy(dc, "next");
  const [top] = await trace(dc);
  assert.equal(top!.name, "sub › score · succeeded");
  const scopes = (await dc.scopesRequest({ frameId: top!.id })).body.scopes;
  assert.deepEqual(
    scopes.map((s) => s.name),
    ["Step score", "Run"],
  );
  const step = await named(dc, scopes[0]!.variablesReference);
  assert.equal(step.get("output")?.value, "60");
  const run = await named(dc, scopes[1]!.variablesReference);
  assert.equal(run.get("id")?.value, `"${sub.id}"`);
  const evaluated = await dc.evaluateRequest({
    expression: "steps.score.output + 1",
    frameId: top!.id,
  });
  assert.equal(evaluated.body.result, "61");
  // The parent's frame still reads the parent's run.
  const parentScopes = (await dc.scopesRequest({ frameId: (await trace(dc))[1]!.id })).body.scopes;
  assert.equal(parentScopes[0]!.name, "Step sub");

  // Jump to Cursor in the child's file lists the child's events; in the parent's file, the
  // parent's, and going there leaves the child.
  const inChild = await dc.gotoTargetsRequest({
    source: { path: gradePath },
    line: keyLine(GRADE, "label"),
  });
  assert.deepEqual(
    inChild.body.targets.map((t) => t.label),
    sub.log
      .filter((e) => e.stepId === "label")
      .map(
        (e) => `event ${e.seq} · label · ${e.type === "step_started" ? "started" : "succeeded"}`,
      ),
  );
  const inParent = await dc.gotoTargetsRequest({ source: { path }, line: keyLine(FLOW, "last") });
  const jumped = await stopAfter(dc, () =>
    dc.gotoRequest({ threadId: 1, targetId: inParent.body.targets[0]!.id }),
  );
  assert.equal(
    jumped.body.description,
    `event ${find(events, "step_started", "last").seq} · last · started`,
  );
  assert.equal((await trace(dc))[0]!.source?.path, path);
});

test("Step Out in a child run ends its step, then returns to the parent at the event after child_finished; Step Over at the child's last event returns there too", async () => {
  const { dc } = await open();
  const sub = await childLog(events, "sub");
  const finished = find(events, "child_finished", "sub");
  // The workflow step's end follows its child's end.
  const ended = find(events, "step_succeeded", "sub");
  assert.equal(events[events.indexOf(finished) + 1], ended);
  await goto(dc, find(events, "step_started", "sub").seq);
  await moveBy(dc, "stepIn");
  assert.equal(
    (await moveBy(dc, "stepOut")).body.description,
    described("sub › ", find(sub.log, "step_succeeded", "score"), "succeeded"),
  );
  const out = await moveBy(dc, "stepOut");
  assert.equal(out.body.description, `event ${ended.seq} · sub · succeeded`);
  assert.equal((await trace(dc))[0]!.name, "sub · succeeded");
  assert.equal((await trace(dc))[0]!.source?.path, path);

  // Step Over from the child's last event (its run finished).
  await goto(dc, find(events, "step_started", "sub").seq);
  await moveBy(dc, "stepIn");
  let stop = await moveBy(dc, "stepOut");
  for (let i = 0; i < 20 && !/run finished/.test(stop.body.description ?? ""); i++)
    stop = await moveBy(dc, "next");
  assert.equal(
    stop.body.description,
    `sub › event ${sub.log.at(-1)!.seq} · run finished (succeeded)`,
  );
  assert.equal((await moveBy(dc, "next")).body.description, `event ${ended.seq} · sub · succeeded`);
  // Step Back from there stays in the parent: its child_finished.
  assert.equal(
    (await moveBy(dc, "stepBack")).body.description,
    `event ${finished.seq} · sub · child run succeeded`,
  );
});

test("Step Back at a child run's first event returns to the parent's child_started; Reverse Continue leaves the child for the parent", async () => {
  const { dc } = await open();
  const sub = await childLog(events, "sub");
  const started = find(events, "child_started", "sub");
  await goto(dc, started.seq);
  // Step Into on child_started itself enters too.
  assert.equal(
    (await moveBy(dc, "stepIn")).body.description,
    described("sub › ", find(sub.log, "step_started", "score"), "started"),
  );
  assert.equal(
    (await moveBy(dc, "stepBack")).body.description,
    `sub › event ${sub.log[0]!.seq} · run started`,
  );
  const back = await moveBy(dc, "stepBack");
  assert.equal(back.body.description, `event ${started.seq} · sub · child run ${sub.id} started`);
  assert.equal((await trace(dc))[0]!.source?.path, gradePath, "the child's frame above");
  // From inside the child with nothing to stop at: back to the root's first event.
  await moveBy(dc, "stepIn");
  assert.equal((await moveBy(dc, "reverseContinue")).body.description, "start of recording");
  assert.equal((await trace(dc))[0]!.source?.path, path);
});

test("a breakpoint in the child workflow's file stops Continue from the parent in each child run, and Reverse Continue back through them", async () => {
  const { dc, breakpoints } = await open({
    breakpoints: [
      { source: { path: gradePath }, breakpoints: [{ line: keyLine(GRADE, "label") + 1 }] },
    ],
  });
  assert.deepEqual(
    breakpoints[0]!.map((b) => [b.verified, b.line]),
    [[true, keyLine(GRADE, "label")]],
  );
  const runs = [
    ["sub › ", await childLog(events, "sub")],
    ["per_doc[a] › ", await childLog(events, "per_doc", "[a]")],
    ["per_doc[b] › ", await childLog(events, "per_doc", "[b]")],
  ] as const;
  for (const [prefix, child] of runs) {
    const stop = await moveBy(dc, "continue");
    assert.equal(stop.body.reason, "breakpoint");
    assert.equal(
      stop.body.description,
      described(prefix, find(child.log, "step_started", "label"), "started"),
    );
    const [top] = await trace(dc, stop.body.threadId);
    assert.deepEqual(
      [top!.name, top!.source?.path, top!.line],
      [`${prefix}label · started`, gradePath, keyLine(GRADE, "label")],
    );
  }
  // The item's child run stops on the item's thread, the item's frames below the child's.
  const last = await trace(dc, (await dc.threadsRequest()).body.threads.at(-1)!.id);
  assert.ok(last.some((f) => f.name === `per_doc[b] · child run ${runs[2][1].id} started`));
  assert.equal((await moveBy(dc, "continue")).body.description, "end of recording");
  for (const [prefix, child] of [...runs].reverse()) {
    const stop = await moveBy(dc, "reverseContinue");
    assert.equal(
      stop.body.description,
      described(prefix, find(child.log, "step_started", "label"), "started"),
    );
  }
  assert.equal((await moveBy(dc, "reverseContinue")).body.description, "start of recording");
  // A file that is no child workflow of the run is refused.
  const other = await dc.setBreakpointsRequest({
    source: { path: join(dirname(path), "nowhere.keel.yaml") },
    breakpoints: [{ line: 3 }],
  });
  assert.match(other.body.breakpoints[0]!.message ?? "", /nor a child workflow it uses/);
});

test("Step Into an item of a map of child runs enters that item's child run, on the item's thread", async () => {
  const { dc } = await open();
  const b = await childLog(events, "per_doc", "[b]");
  await goto(dc, find(events, "step_started", "per_doc", "[b]").seq);
  const into = await moveBy(dc, "stepIn");
  assert.equal(
    into.body.description,
    described("per_doc[b] › ", find(b.log, "step_started", "score"), "started"),
  );
  const threads = new Map((await dc.threadsRequest()).body.threads.map((t) => [t.name, t.id]));
  assert.equal(into.body.threadId, threads.get("per_doc[b] (item 2 of 2)"));
  const frames = await trace(dc, into.body.threadId);
  const names = frames.map((f) => f.name);
  assert.equal(names[0], "per_doc[b] › score · started");
  const own = names.indexOf(`per_doc[b] · child run ${b.id} started`);
  assert.ok(own > 0, names.join("\n"));
  assert.equal(names[own + 1], "per_doc · running");
  // Restart Frame on the item's frame leaves the child for the item's first event.
  const restarted = await stopAfter(dc, () => dc.restartFrameRequest({ frameId: frames[own]!.id }));
  assert.equal(
    restarted.body.description,
    `event ${find(events, "step_started", "per_doc", "[b]").seq} · per_doc[b] · started`,
  );
  // Step Out from the item's child returns to the item's event after its child_finished: its end.
  await moveBy(dc, "stepIn");
  await moveBy(dc, "stepOut");
  const out = await moveBy(dc, "stepOut");
  assert.equal(
    out.body.description,
    `event ${find(events, "step_succeeded", "per_doc", "[b]").seq} · per_doc[b] · succeeded`,
  );
  assert.equal(out.body.threadId, into.body.threadId);
});

test("a child of a child: Step Into enters two deep, the stack holds the three runs, a breakpoint in the deepest file stops Continue, and Step Out climbs back", async () => {
  const { dc } = await open({
    breakpoints: [{ source: { path: leafPath }, breakpoints: [{ line: keyLine(LEAF, "inner") }] }],
  });
  const sub = await childLog(events, "sub");
  const leaf = await childLog(sub.log, "deeper");
  const stop = await moveBy(dc, "continue");
  assert.equal(stop.body.reason, "breakpoint");
  assert.equal(
    stop.body.description,
    described("sub › deeper › ", find(leaf.log, "step_started", "inner"), "started"),
  );
  const frames = await trace(dc);
  const lead = frames.filter((f) => f.presentationHint !== "subtle");
  assert.deepEqual(
    lead.map((f) => [f.name, f.source?.path]),
    [
      ["sub › deeper › inner · started", leafPath],
      [`sub › deeper · child run ${leaf.id} started`, gradePath],
      [`sub · child run ${sub.id} started`, path],
    ],
  );
  // Out: the leaf's step ends, then grade's `deeper` ends (after its child_finished), then the root's
  // `sub` ends (after its child_finished).
  assert.match(
    (await moveBy(dc, "stepOut")).body.description ?? "",
    /^sub › deeper › event \d+ · inner · succeeded$/,
  );
  assert.equal(
    (await moveBy(dc, "stepOut")).body.description,
    described("sub › ", find(sub.log, "step_succeeded", "deeper"), "succeeded"),
  );
  assert.equal(
    (await moveBy(dc, "stepOut")).body.description,
    `event ${find(events, "step_succeeded", "sub").seq} · sub · succeeded`,
  );
  // And in again by Step Into twice: `sub`'s start, then (keel/goto moves within the innermost
  // run) grade's `deeper` start.
  await goto(dc, find(events, "step_started", "sub").seq);
  await moveBy(dc, "stepIn");
  const moved = await stopAfter(dc, () =>
    dc.customRequest("keel/goto", { seq: find(sub.log, "step_started", "deeper").seq }),
  );
  assert.equal(
    moved.body.description,
    described("sub › ", find(sub.log, "step_started", "deeper"), "started"),
  );
  assert.equal(
    (await moveBy(dc, "stepIn")).body.description,
    described("sub › deeper › ", find(leaf.log, "step_started", "inner"), "started"),
  );
  // Reverse stepping leaves both: Step Back twice, then the parent of the parent.
  await moveBy(dc, "stepBack");
  assert.equal(
    (await moveBy(dc, "stepBack")).body.description,
    described("sub › ", find(sub.log, "child_started", "deeper"), `child run ${leaf.id} started`),
  );
  const back = await moveBy(dc, "reverseContinue");
  assert.equal(back.body.description, "start of recording");
});

test("Continue without breakpoints in child files does not read the child runs", async () => {
  let reads = 0;
  const counting = new Proxy(store, {
    get: (target, key) =>
      key === "events"
        ? (id: string) => {
            reads++;
            return target.events(id);
          }
        : (Reflect.get(target, key) as unknown),
  });
  const { dc } = await sessions.open(counting, { runId, workflow: path });
  assert.equal(reads, 1);
  assert.equal((await moveBy(dc, "continue")).body.description, "end of recording");
  assert.equal(reads, 1);
});

test("with the Step failed filter, Continue stops first where a child run's step failed, then at the parent's failure", async () => {
  const failing = new MemoryStore();
  const run = await runText(
    `keel: 1
name: fails in its child
steps:
  sub:
    type: workflow
    uses: ./bad.keel.yaml
`,
    {
      store: failing,
      files: {
        "bad.keel.yaml": `keel: 1
name: bad
steps:
  boom:
    type: transform
    expr: '$error("no")'
`,
      },
    },
  );
  assert.equal(run.result.status, "failed");
  const { dc } = await sessions.open(
    failing,
    { runId: run.result.runId, workflow: run.loaded.path },
    { filters: ["step-failed"] },
  );
  const inChild = await moveBy(dc, "continue");
  assert.equal(inChild.body.reason, "exception");
  assert.match(inChild.body.description ?? "", /^sub › event \d+ · boom · failed/);
  const info = await dc.exceptionInfoRequest({ threadId: 1 });
  assert.match(info.body.description ?? "", /no/);
  const inParent = await moveBy(dc, "continue");
  assert.match(inParent.body.description ?? "", /^event \d+ · sub · failed/);
});
