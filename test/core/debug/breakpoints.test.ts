// Breakpoints, failure filters and the moves of the replay debugger on one recorded run: line
// breakpoints verify on the step's key line or are refused with a reason, function breakpoints
// stop on their step, both still stop after the step moved in the file, failures stop with their
// kind and message, Reverse Continue returns to `run started`; Step Into, Step Out, Jump to
// Cursor, Restart Frame, the upstream frames and the graph panel's keel/goto (#9 "Done when").
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DebugProtocol } from "@vscode/debugprotocol";
import { MemoryStore } from "@keel/core/store/memory-store";
import { runText } from "../runner/harness";
import { frames, hostOf, inProcess, launch, moveBy, stopAfter, type Adapter } from "./harness";

const FLOW = `keel: 1
name: breakpoints
providers:
  flaky:
    type: scripted
    responses: [{ match: "sum", error: rate_limit }]
    retry: { max_attempts: 2, backoff: fixed, initial: 1ms }
    fallback: steady
  steady: { type: scripted, model: steady-1, default: done }
steps:
  fetch:
    type: transform
    expr: '"data"'

  summarize:
    type: llm
    provider: flaky
    prompt: "sum \${{ steps.fetch.output }}"
  check:
    type: assert
    that: steps.summarize.output = "nope"
    on_error: continue
  final:
    type: transform
    needs: [check]
    expr: steps.summarize.output
`;
// One-based lines, as the client sends them.
const LINE = { keel: 1, fetchKey: 11, blank: 14, summarizeKey: 15, summarizeProvider: 17 };

let dir: string;
let path: string;
let store: MemoryStore;
let runId: string;
let adapter: Adapter | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "keel-debug-bp-"));
  mkdirSync(join(dir, ".git"));
  path = join(dir, "flow.keel.yaml");
  writeFileSync(path, FLOW);
  store = new MemoryStore();
  runId = (await runText(FLOW, { path, store })).result.runId;
});
after(async () => {
  await adapter?.close();
});

async function open(config: Parameters<typeof launch>[2] = {}) {
  await adapter?.close();
  writeFileSync(path, FLOW);
  adapter = await inProcess(hostOf(store));
  return { dc: adapter.dc, ...(await launch(adapter.dc, { runId, workflow: path }, config)) };
}

const source = (): DebugProtocol.Source => ({ path });

test("a breakpoint inside a step verifies on its key line; outside a step it is refused with a reason", async () => {
  const { breakpoints } = await open({
    breakpoints: [
      {
        source: source(),
        breakpoints: [
          { line: LINE.summarizeProvider },
          { line: LINE.keel },
          { line: LINE.blank },
          { line: LINE.fetchKey },
        ],
      },
    ],
  });
  const [inside, top, blank, key] = breakpoints[0]!;
  assert.deepEqual([inside!.verified, inside!.line], [true, LINE.summarizeKey]);
  assert.deepEqual([key!.verified, key!.line], [true, LINE.fetchKey]);
  for (const b of [top!, blank!]) {
    assert.equal(b.verified, false);
    assert.match(b.message ?? "", /not inside a step/);
  }
});

test("Continue stops at a line breakpoint's step with it named in the Call Stack and its upstream below, then at a function breakpoint; Reverse Continue returns to run started", async () => {
  const { dc, functions } = await open({
    breakpoints: [{ source: source(), breakpoints: [{ line: LINE.summarizeProvider }] }],
    functions: ["final", "no_such_step"],
  });
  assert.equal(functions[0]!.verified, true);
  assert.equal(functions[1]!.verified, false);
  assert.match(functions[1]!.message ?? "", /no step 'no_such_step'/);

  const first = await moveBy(dc, "continue");
  assert.equal(first.body.reason, "breakpoint");
  const stack = await frames(dc);
  assert.equal(stack[0]!.name, "summarize · started");
  assert.equal(stack[0]!.line, LINE.summarizeKey);
  assert.equal(stack[0]!.source?.path, path);
  assert.deepEqual(
    stack.slice(1).map((f) => [f.name, f.presentationHint]),
    [["fetch · succeeded", "subtle"]],
  );

  const second = await moveBy(dc, "continue");
  assert.equal(second.body.reason, "function breakpoint");
  const top = await frames(dc);
  assert.equal(top[0]!.name, "final · started");
  // The upstream critical path: the dependency that ended last (check), then its own.
  assert.deepEqual(
    top.map((f) => f.name.split(" · ")[0]),
    ["final", "check", "summarize", "fetch"],
  );

  const end = await moveBy(dc, "continue");
  assert.equal(end.body.description, "end of recording");
  assert.equal((await moveBy(dc, "reverseContinue")).body.reason, "function breakpoint");
  assert.equal((await moveBy(dc, "reverseContinue")).body.reason, "breakpoint");
  const start = await moveBy(dc, "reverseContinue");
  assert.equal(start.body.reason, "entry");
  assert.equal((await frames(dc))[0]!.name, "run started");
});

test("after the step is moved in the file both kinds of breakpoint still stop on it, and the change is said once", async () => {
  const { dc } = await open();
  // Another step above summarize: every line below moves down by three.
  const moved = FLOW.replace(
    "  summarize:\n",
    "  added:\n    type: transform\n    expr: '1'\n  summarize:\n",
  );
  writeFileSync(path, moved);
  const output: string[] = [];
  dc.on("output", (e: DebugProtocol.OutputEvent) => output.push(e.body.output));
  const set = await dc.setBreakpointsRequest({
    source: source(),
    breakpoints: [{ line: LINE.summarizeProvider + 3 }],
  });
  assert.deepEqual(
    [set.body.breakpoints[0]!.verified, set.body.breakpoints[0]!.line],
    [true, LINE.summarizeKey + 3],
  );
  await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: "check" }] });
  const hit = await moveBy(dc, "continue");
  assert.equal(hit.body.reason, "breakpoint");
  const [top] = await frames(dc);
  assert.equal(top!.name, "summarize · started");
  assert.equal(top!.line, LINE.summarizeKey + 3, "the frame points at the step where it is now");
  assert.equal((await moveBy(dc, "continue")).body.reason, "function breakpoint");
  assert.equal((await frames(dc))[0]!.name, "check · started");
  assert.equal(output.filter((o) => /has changed since run/.test(o)).length, 1);
});

test("a step that is no longer in the file shows from the recorded text, read-only", async () => {
  const { dc } = await open();
  writeFileSync(path, FLOW.replace(/ {2}fetch:\n.*\n.*\n\n/, ""));
  await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: "fetch" }] });
  await moveBy(dc, "continue");
  const [top] = await frames(dc);
  assert.equal(top!.name, "fetch · started");
  assert.equal(top!.source?.path, undefined);
  assert.ok(top!.source?.sourceReference, "a recorded source");
  assert.equal(top!.line, LINE.fetchKey);
  const text = await dc.sourceRequest({
    source: top!.source!,
    sourceReference: top!.source!.sourceReference!,
  });
  assert.equal(text.body.content, FLOW);
});

test("with the failure filters on, Continue stops at failures with reason exception and exceptionInfo gives the error kind and message", async () => {
  const { dc } = await open({ filters: ["attempt-failed"] });
  const attempt = await moveBy(dc, "continue");
  assert.equal(attempt.body.reason, "exception");
  assert.match(attempt.body.text ?? "", /^rate_limit: /);
  assert.equal((await frames(dc))[0]!.name, "summarize · attempt 1 failed (rate_limit)");
  const info = await dc.exceptionInfoRequest({ threadId: 1 });
  assert.equal(info.body.exceptionId, "rate_limit");
  assert.match(info.body.description ?? "", /rate_limit/);

  await dc.setExceptionBreakpointsRequest({ filters: ["step-failed"] });
  const step = await moveBy(dc, "continue");
  assert.equal(step.body.reason, "exception");
  assert.equal((await frames(dc))[0]!.name, "check · failed (assertion), continued");
  const failed = await dc.exceptionInfoRequest({ threadId: 1 });
  assert.equal(failed.body.exceptionId, "assertion");
  assert.equal((await moveBy(dc, "continue")).body.description, "end of recording");

  await dc.setExceptionBreakpointsRequest({ filters: [] });
  assert.equal((await moveBy(dc, "reverseContinue")).body.reason, "entry");
});

test("Step Into goes to the same step's next event, Step Out to the event that ends it", async () => {
  const { dc } = await open({ functions: ["summarize"] });
  await moveBy(dc, "continue");
  await moveBy(dc, "stepIn");
  assert.equal((await frames(dc))[0]!.name, "summarize · attempt 1 failed (rate_limit)");
  await moveBy(dc, "stepIn");
  assert.equal((await frames(dc))[0]!.name, "summarize · attempt 2 failed (rate_limit)");
  await moveBy(dc, "stepOut");
  assert.equal((await frames(dc))[0]!.name, "summarize · succeeded on attempt 3");
  await moveBy(dc, "stepOut");
  assert.equal(
    (await frames(dc))[0]!.name,
    "check · started",
    "out of an ended step: the next event",
  );
});

test("Jump to Cursor lists the events of the step under the cursor; Restart Frame goes to the step's first event; an upstream frame shows that step", async () => {
  const { dc } = await open();
  const targets = await dc.gotoTargetsRequest({ source: source(), line: LINE.summarizeProvider });
  const labels = targets.body.targets.map((t) => t.label.replace(/^event \d+ · /, ""));
  assert.deepEqual(labels, [
    "summarize · started",
    "summarize · attempt 1 failed (rate_limit)",
    "summarize · attempt 2 failed (rate_limit)",
    "summarize · succeeded on attempt 3",
  ]);
  const none = await dc.gotoTargetsRequest({ source: source(), line: LINE.keel });
  assert.deepEqual(none.body.targets, []);
  const jumped = await stopAfter(dc, () =>
    dc.gotoRequest({ threadId: 1, targetId: targets.body.targets[2]!.id }),
  );
  assert.equal(jumped.body.reason, "goto");
  const stack = await frames(dc);
  assert.equal(stack[0]!.name, "summarize · attempt 2 failed (rate_limit)");

  // The upstream frame (fetch) shows fetch at this moment: succeeded, with its output.
  const upstream = stack[1]!;
  const scopes = (await dc.scopesRequest({ frameId: upstream.id })).body.scopes;
  assert.equal(scopes[0]!.name, "Step fetch");
  const vars = (await dc.variablesRequest({ variablesReference: scopes[0]!.variablesReference }))
    .body.variables;
  const byName = new Map(vars.map((v) => [v.name, v]));
  assert.equal(byName.get("status")!.value, '"succeeded"');
  assert.equal(byName.get("output")!.value, '"data"');

  const restarted = await stopAfter(dc, () => dc.restartFrameRequest({ frameId: stack[0]!.id }));
  assert.equal(restarted.body.reason, "restart");
  assert.equal((await frames(dc))[0]!.name, "summarize · started");
});

test("every stop sends keel/position; keel/goto (the graph panel) moves the debugger to an event", async () => {
  const { dc } = await open();
  const [position] = await Promise.all([dc.waitForEvent("keel/position"), moveBy(dc, "next")]);
  assert.deepEqual(
    { seq: position.body.seq, runId: position.body.runId, workflow: position.body.workflow },
    { seq: 2, runId, workflow: path },
  );
  const [moved, stopped] = await Promise.all([
    dc.waitForEvent("keel/position"),
    dc.waitForEvent("stopped"),
    dc.customRequest("keel/goto", { seq: 5 }),
  ]);
  assert.equal(stopped.body.reason, "goto");
  assert.equal(moved.body.seq, 5);
  await assert.rejects(dc.customRequest("keel/goto", { seq: 999 }), /no event 999/);
});
