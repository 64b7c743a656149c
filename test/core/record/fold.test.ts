// The step-through fold: a recorded run's state at any event, moved to forwards and backwards.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { RunFold, foldToEnd, type StepAt } from "@keel/core/record/fold";
import { runText, type TestRun } from "../runner/harness";

const FLOW = readFileSync("test/fixtures/runs/mixed.keel.yaml", "utf8");

let recorded: Promise<TestRun> | undefined;
const run = () => (recorded ??= runText(FLOW));

async function foldOf(r: TestRun): Promise<RunFold> {
  const id = r.result.runId;
  return new RunFold(await r.store.events(id), await r.store.attempts(id), r.loaded.graph.ids);
}

function snapshot(fold: RunFold): { run: unknown; steps: StepAt[] } {
  return { run: fold.run, steps: [...fold.steps()].sort((x, y) => (x.id < y.id ? -1 : 1)) };
}

test("at the end of the log every step's state is the runner's own summary", async () => {
  const r = await run();
  const fold = await foldOf(r);
  fold.seek(fold.length - 1);
  for (const s of r.result.steps) {
    const at = fold.step(s.id)!;
    assert.equal(at.status, s.status, s.id);
    assert.equal(at.origin, s.origin, s.id);
    assert.equal(at.attempts, s.attempts, s.id);
    assert.equal(at.continued, s.continued, s.id);
  }
  assert.equal(fold.run.status, r.result.status);
  assert.equal(fold.step("ask")!.attempt!.meta!.provider, "steady");
  assert.equal(fold.step("skipped")!.status, "skipped");
});

test("before the first event every step is pending; moving back from the end returns there", async () => {
  const fold = await foldOf(await run());
  const start = snapshot(fold);
  assert.ok(start.steps.every((s) => s.status === "pending"));
  fold.seek(fold.length - 1);
  while (fold.back());
  assert.equal(fold.position, -1);
  assert.deepEqual(snapshot(fold), start);
});

test("the next event of a step, the previous one, and the first failure", async () => {
  const fold = await foldOf(await run());
  const first = fold.nextEventOf("ask");
  assert.equal(fold.events[first]!.type, "step_started");
  assert.equal(fold.events[first]!.stepId, "ask");
  const second = fold.nextEventOf("ask", first);
  assert.equal(fold.events[second]!.type, "attempt_failed");
  assert.equal(fold.previousEventOf("ask", second), first);
  assert.equal(fold.previousEventOf("ask", first), -1);
  assert.equal(fold.nextEventOf("no-such-step"), -1);
  const failure = fold.firstFailure();
  const failures = fold.events
    .map((e, i) => [e.type, i] as const)
    .filter(([t]) => t === "attempt_failed" || t === "step_failed");
  assert.ok(failures.length >= 3);
  assert.equal(failure, failures[0]![1]);
  fold.seek(failure);
  const at = fold.step(fold.events[failure]!.stepId!)!;
  assert.ok(at.error !== null);
  // Just before it, the same step had no error.
  fold.back();
  assert.equal(fold.step(at.id)!.error, null);
});

test("any sequence of moves ends in the state folded from scratch to that position", async () => {
  const r = await run();
  const events = await r.store.events(r.result.runId);
  const attempts = await r.store.attempts(r.result.runId);
  const n = events.length;
  const move = fc.oneof(
    fc.constant({ kind: "forward" as const }),
    fc.constant({ kind: "back" as const }),
    fc.record({ kind: fc.constant("seek" as const), to: fc.integer({ min: -2, max: n + 1 }) }),
    fc.record({
      kind: fc.constant("next" as const),
      step: fc.constantFrom(...r.loaded.graph.ids),
    }),
  );
  fc.assert(
    fc.property(fc.array(move, { maxLength: 60 }), (moves) => {
      const fold = new RunFold(events, attempts, r.loaded.graph.ids);
      for (const m of moves) {
        if (m.kind === "forward") fold.forward();
        else if (m.kind === "back") fold.back();
        else if (m.kind === "seek") fold.seek(m.to);
        else {
          const k = fold.nextEventOf(m.step);
          if (k >= 0) fold.seek(k);
        }
      }
      const fresh = new RunFold(events, attempts, r.loaded.graph.ids);
      fresh.seek(fold.position);
      assert.deepEqual(snapshot(fold), snapshot(fresh));
    }),
    { numRuns: 300 },
  );
});

test("foldToEnd of every sample's log agrees with the run's summary", async () => {
  for (const name of ["rag-answer", "support-triage", "meeting-actions"]) {
    const path = `samples/${name}.keel.yaml`;
    const r = await runText(readFileSync(path, "utf8"), { path: `${process.cwd()}/${path}` });
    const id = r.result.runId;
    const fold = foldToEnd(await r.store.events(id), await r.store.attempts(id));
    for (const s of r.result.steps) assert.equal(fold.step(s.id)?.status ?? "pending", s.status);
  }
});

test("the fold is browser-safe: it imports types only", () => {
  const text = readFileSync("core/record/fold.ts", "utf8");
  const imports = text.match(/^import .*$/gm) ?? [];
  assert.ok(imports.length > 0);
  for (const line of imports) assert.match(line, /^import type /);
});
