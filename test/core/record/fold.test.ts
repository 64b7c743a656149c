// The step-through fold: a recorded run's state at any event, moved to forwards and backwards.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { RunFold, foldToEnd, type StepAt, type Tally } from "@keel/core/record/fold";
import {
  STEP_STATUSES,
  type AttemptRecord,
  type EventRecord,
  type EventType,
  type StepStatus,
} from "@keel/core/record/records";
import { runText, type TestRun } from "../runner/harness";

const FLOW = readFileSync("test/fixtures/runs/mixed.keel.yaml", "utf8");

let recorded: Promise<TestRun> | undefined;
const run = () => (recorded ??= runText(FLOW));

async function foldOf(r: TestRun): Promise<RunFold> {
  const id = r.result.runId;
  return new RunFold(await r.store.events(id), await r.store.attempts(id), r.loaded.graph.ids);
}

/** The run's, every step's and every step's units' states at the fold's position. */
function snapshot(fold: RunFold): { run: unknown; steps: StepAt[]; units: StepAt[][] } {
  const steps = [...fold.steps()].sort((x, y) => (x.id < y.id ? -1 : 1));
  return { run: fold.run, steps, units: steps.map((s) => fold.units(s.id)) };
}

type Move =
  | { kind: "forward" }
  | { kind: "back" }
  | { kind: "seek"; to: number }
  | { kind: "next"; step: string };

/** Moves through a log of n events whose events name the given steps or units. */
function movesOf(n: number, ids: readonly string[]): fc.Arbitrary<Move[]> {
  const move = fc.oneof(
    fc.constant({ kind: "forward" as const }),
    fc.constant({ kind: "back" as const }),
    fc.record({ kind: fc.constant("seek" as const), to: fc.integer({ min: -2, max: n + 1 }) }),
    fc.record({ kind: fc.constant("next" as const), step: fc.constantFrom(...ids) }),
  );
  return fc.array(move, { maxLength: 60 });
}

function applyMoves(fold: RunFold, moves: readonly Move[]): void {
  for (const m of moves) {
    if (m.kind === "forward") fold.forward();
    else if (m.kind === "back") fold.back();
    else if (m.kind === "seek") fold.seek(m.to);
    else {
      const k = fold.nextEventOf(m.step);
      if (k >= 0) fold.seek(k);
    }
  }
}

/** Every step's state in the fold is the runner's summary of it. */
function assertSummary(fold: RunFold, r: TestRun): void {
  for (const s of r.result.steps) {
    const at = fold.step(s.id)!;
    assert.deepEqual(
      [at.status, at.origin, at.attempts, at.continued],
      [s.status, s.origin, s.attempts, s.continued],
      s.id,
    );
  }
}

test("at the end of the log every step's state is the runner's own summary", async () => {
  const r = await run();
  const fold = await foldOf(r);
  fold.seek(fold.length - 1);
  assertSummary(fold, r);
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
  fc.assert(
    fc.property(movesOf(events.length, r.loaded.graph.ids), (moves) => {
      const fold = new RunFold(events, attempts, r.loaded.graph.ids);
      applyMoves(fold, moves);
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

test("at the end of a map's run, the steps and the items are the runner's own summary", async () => {
  const r = await runText(`keel: 1
name: digest
steps:
  docs: { type: transform, expr: '[{"id": "a", "n": 1}, {"id": "b", "n": 2}, {"id": "c", "n": 3}]' }
  up:
    type: transform
    for_each: steps.docs.output
    key: item.id
    on_item_error: continue
    expr: 'item.n = 2 ? $error("two") : item.n * 10'
  report:
    type: transform
    expr: '{"keys": steps.up.items.key, "statuses": steps.up.items.status}'
outputs:
  report: steps.report.output
`);
  const fold = await foldOf(r);
  fold.seek(fold.length - 1);
  assertSummary(fold, r);
  const report = r.result.outputs!.report as { keys: string[]; statuses: string[] };
  assert.deepEqual(report.statuses, ["succeeded", "failed", "succeeded"]);
  assert.deepEqual(
    fold.units("up").map((u) => [u.scope, u.status]),
    report.keys.map((k, i) => [`[${k}]`, report.statuses[i]]),
  );
  assert.equal(fold.step("up")!.items, 3);
  assert.deepEqual([fold.step("up")!.tally!.succeeded, fold.step("up")!.tally!.failed], [2, 1]);
  assert.equal(fold.unit("up[c]")!.attempt!.attempt, 1);
});

test("the fold is browser-safe: it imports types, and records.ts, which imports nothing", () => {
  const text = readFileSync("core/record/fold.ts", "utf8");
  const imports = text.match(/^import [^;]*;/gm) ?? [];
  assert.ok(imports.length > 0);
  for (const line of imports) assert.match(line, /^import type |from "\.\/records";$/);
  assert.doesNotMatch(readFileSync("core/record/records.ts", "utf8"), /^import /m);
});

// Scopes (docs/dev/scopes.md): logs with items and iterations, built by hand.

type Row = [
  type: EventType,
  stepId: string | null,
  scope: string | null,
  attempt?: number | null,
  data?: Record<string, unknown>,
];

function logOf(rows: readonly Row[]): EventRecord[] {
  return rows.map(([type, stepId, scope, attempt = null, data = null], i) => ({
    runId: "01R",
    seq: i + 1,
    type,
    stepId,
    scope,
    attempt,
    at: new Date(Date.UTC(2026, 11, 7, 10) + i * 1000).toISOString(),
    data,
  }));
}

function attemptOf(
  stepId: string,
  scope: string | null,
  n: number,
  status: "succeeded" | "failed",
): AttemptRecord {
  return {
    runId: "01R",
    stepId,
    scope,
    attempt: n,
    status,
    origin: "live",
    inputHash: `=${JSON.stringify(`${stepId}${scope ?? ""} ${n}`)}`,
    outputHash: status === "succeeded" ? "=1" : null,
    errorKind: status === "failed" ? "timeout" : null,
    errorMessage: status === "failed" ? "slow" : null,
    startedAt: "2026-12-07T10:00:00.000Z",
    endedAt: "2026-12-07T10:00:01.000Z",
    cacheKey: null,
    sourceRunId: null,
    meta: null,
  };
}

/**
 * A 3-item map (`summarize` over keys a, b, c: b starts first, a retries, c fails) and a loop
 * of two iterations each starting a child run (`refine`).
 */
const MAP_LOG = logOf([
  ["run_started", null, null],
  ["step_started", "fetch", null],
  ["step_succeeded", "fetch", null, 1, { output: "=[1,2,3]" }],
  ["step_started", "summarize", null],
  ["expanded", "summarize", null, null, { count: 3, keys: ["a", "b", "c"], list: "=[1,2,3]" }],
  ["step_started", "summarize", "[b]"],
  ["step_started", "summarize", "[a]"],
  ["attempt_failed", "summarize", "[a]", 1, { kind: "timeout", message: "slow" }],
  ["step_succeeded", "summarize", "[b]", 1, { output: '="B"' }],
  ["step_started", "summarize", "[c]"],
  ["step_failed", "summarize", "[c]", 1, { kind: "timeout", message: "slow" }],
  ["step_succeeded", "summarize", "[a]", 2, { output: '="A"' }],
  ["step_succeeded", "summarize", null, null, { output: '=["A","B",null]' }],
  ["step_started", "refine", null],
  ["step_started", "refine", "#1"],
  ["child_started", "refine", "#1", null, { childRun: "01C1" }],
  ["child_finished", "refine", "#1", null, { childRun: "01C1", status: "succeeded" }],
  ["step_succeeded", "refine", "#1", null, { output: "=1" }],
  ["step_started", "refine", "#2"],
  ["child_started", "refine", "#2", null, { childRun: "01C2" }],
  ["child_finished", "refine", "#2", null, { childRun: "01C2", status: "succeeded" }],
  ["step_succeeded", "refine", "#2", null, { output: "=2" }],
  ["step_succeeded", "refine", null, null, { output: "=2" }],
  ["run_finished", null, null, null, { status: "succeeded" }],
]);
const MAP_ATTEMPTS = [
  attemptOf("fetch", null, 1, "succeeded"),
  attemptOf("summarize", "[a]", 1, "failed"),
  attemptOf("summarize", "[b]", 1, "succeeded"),
  attemptOf("summarize", "[c]", 1, "failed"),
  attemptOf("summarize", "[a]", 2, "succeeded"),
];

const STATUS_AFTER: Partial<Record<EventType, StepStatus>> = {
  step_started: "running",
  step_succeeded: "succeeded",
  step_cached: "succeeded",
  step_reused: "succeeded",
  step_failed: "failed",
  step_skipped: "skipped",
  step_cancelled: "cancelled",
};

/**
 * A step's units and their statuses after events[0..k], read from scratch: the items a passed
 * `expanded` named (pending until their first event) and every scope with an event, in the order
 * they first showed; `tally` null when there is none.
 */
function unitsFromScratch(
  events: readonly EventRecord[],
  stepId: string,
  k: number,
): { units: [string, StepStatus][]; tally: Tally | null } {
  const units = new Map<string, StepStatus>();
  let any = false;
  for (const e of events.slice(0, k + 1)) {
    if (e.stepId !== stepId) continue;
    if (e.scope === null && e.type === "expanded") {
      any = true;
      for (const key of e.data!.keys as string[]) {
        if (!units.has(`[${key}]`)) units.set(`[${key}]`, "pending");
      }
    } else if (e.scope !== null) {
      any = true;
      units.set(e.scope, STATUS_AFTER[e.type] ?? units.get(e.scope) ?? "pending");
    }
  }
  const tally = Object.fromEntries(STEP_STATUSES.map((s) => [s, 0])) as Record<StepStatus, number>;
  for (const status of units.values()) tally[status]++;
  return { units: [...units], tally: any ? tally : null };
}

/** Checks every step's units and tally at the fold's position against a fold from scratch. */
function assertUnitsAt(fold: RunFold, stepIds: readonly string[]): void {
  for (const id of stepIds) {
    const want = unitsFromScratch(fold.events, id, fold.position);
    const where = `${id} at ${fold.position}`;
    assert.deepEqual(
      fold.units(id).map((u) => [u.scope, u.status]),
      want.units,
      where,
    );
    assert.deepEqual(fold.step(id)!.tally, want.tally, where);
  }
}

/** Folds a log to every position forwards, then backwards, checking each against scratch. */
function assertEveryPosition(
  events: readonly EventRecord[],
  attempts: readonly AttemptRecord[],
  ids: readonly string[],
): void {
  const fold = new RunFold(events, attempts, ids);
  const check = () => {
    const fresh = new RunFold(events, attempts, ids);
    fresh.seek(fold.position);
    assert.deepEqual(snapshot(fold), snapshot(fresh), `at ${fold.position}`);
    assertUnitsAt(fold, ids);
  };
  check();
  while (fold.forward()) check();
  assert.equal(fold.position, events.length - 1);
  while (fold.back()) check();
  assert.equal(fold.position, -1);
}

test("a map folded to every position forwards, then backwards, is the fold from scratch there", () => {
  assertEveryPosition(MAP_LOG, MAP_ATTEMPTS, ["fetch", "summarize", "refine"]);
});

test("a map expanded again on resume counts each item once", () => {
  const log = logOf([
    ["run_started", null, null],
    ["step_started", "m", null],
    ["expanded", "m", null, null, { count: 2, keys: ["a", "b"] }],
    ["step_started", "m", "[a]"],
    ["step_succeeded", "m", "[a]", 1, { output: "=1" }],
    ["run_resumed", null, null],
    ["step_started", "m", null],
    ["expanded", "m", null, null, { count: 2, keys: ["a", "b"] }],
    ["step_started", "m", "[b]"],
    ["step_succeeded", "m", "[b]", 1, { output: "=2" }],
    ["step_succeeded", "m", null, null, { output: "=[1,2]" }],
  ]);
  assertEveryPosition(log, [], ["m"]);
  assert.deepEqual(foldToEnd(log).step("m")!.tally, {
    pending: 0,
    running: 0,
    succeeded: 2,
    failed: 0,
    skipped: 0,
    cancelled: 0,
  });
});

test("a map's units: the order of expanded's keys, their own states, attempts and tally", () => {
  const fold = new RunFold(MAP_LOG, MAP_ATTEMPTS, ["fetch", "summarize", "refine"]);
  const at = (type: EventType, stepId: string, scope: string | null) =>
    MAP_LOG.findIndex((e) => e.type === type && e.stepId === stepId && e.scope === scope);
  fold.seek(at("expanded", "summarize", null) - 1);
  assert.deepEqual(fold.units("summarize"), []);
  assert.equal(fold.step("summarize")!.items, null);
  assert.equal(fold.unit("summarize[a]")!.status, "pending");
  fold.forward();
  // Named by `expanded`, not started: pending, in the list's order.
  assert.deepEqual(
    fold.units("summarize").map((u) => [u.id, u.scope, u.status]),
    [
      ["summarize[a]", "[a]", "pending"],
      ["summarize[b]", "[b]", "pending"],
      ["summarize[c]", "[c]", "pending"],
    ],
  );
  assert.equal(fold.step("summarize")!.items, 3);
  fold.seek(at("attempt_failed", "summarize", "[a]"));
  assert.equal(fold.unit("summarize[a]")!.attempt!.attempt, 1);
  assert.equal(fold.unit("summarize[a]")!.error!.kind, "timeout");
  // b started first; the list's order holds.
  assert.deepEqual(
    fold.units("summarize").map((u) => [u.scope, u.status]),
    [
      ["[a]", "running"],
      ["[b]", "running"],
      ["[c]", "pending"],
    ],
  );
  assert.deepEqual(fold.step("summarize")!.tally, {
    pending: 1,
    running: 2,
    succeeded: 0,
    failed: 0,
    skipped: 0,
    cancelled: 0,
  });
  fold.seek(fold.length - 1);
  const a = fold.unit("summarize[a]")!;
  assert.deepEqual(
    [a.status, a.attempts, a.attempt?.attempt, a.output],
    ["succeeded", 2, 2, '="A"'],
  );
  // Each item's attempt 1 is its own.
  assert.equal(fold.attemptOf("summarize[b]", 1)!.status, "succeeded");
  assert.equal(fold.attemptOf("summarize[c]", 1)!.status, "failed");
  assert.equal(fold.unit("summarize[c]")!.status, "failed");
  assert.deepEqual(fold.step("summarize")!.tally, {
    pending: 0,
    running: 0,
    succeeded: 2,
    failed: 1,
    skipped: 0,
    cancelled: 0,
  });
  // The items' events leave the step's own state alone.
  const own = fold.step("summarize")!;
  assert.deepEqual(
    [own.id, own.scope, own.status, own.output, own.attempt],
    ["summarize", null, "succeeded", '=["A","B",null]', null],
  );
  assert.equal(own.lastSeq, at("step_succeeded", "summarize", null) + 1);
  assert.equal(fold.unit("summarize"), own);
  assert.equal(fold.unit("summarize[zzz]"), undefined);
  assert.deepEqual(fold.units("fetch"), []);
  assert.equal(fold.step("fetch")!.tally, null);
});

test("steps() lists the steps' own states only; the units' events are found by unit key", () => {
  const fold = foldToEnd(MAP_LOG, MAP_ATTEMPTS);
  assert.deepEqual(
    [...fold.steps()].map((s) => [s.id, s.status]),
    [
      ["fetch", "succeeded"],
      ["summarize", "succeeded"],
      ["refine", "succeeded"],
    ],
  );
  const started = fold.nextEventOf("summarize[c]", -1);
  assert.deepEqual([MAP_LOG[started]!.type, MAP_LOG[started]!.scope], ["step_started", "[c]"]);
  assert.equal(fold.previousEventOf("summarize[c]", started), -1);
  // A step's id still names every event of the step, its units' too.
  assert.equal(fold.nextEventOf("summarize", started), started + 1);
});

test("iterations list by number; a child run is recorded on the unit that started it", () => {
  const fold = foldToEnd(MAP_LOG, MAP_ATTEMPTS);
  assert.deepEqual(
    fold.units("refine").map((u) => [u.id, u.status, u.childRun]),
    [
      ["refine#1", "succeeded", "01C1"],
      ["refine#2", "succeeded", "01C2"],
    ],
  );
  assert.equal(fold.step("refine")!.childRun, null);
  assert.equal(fold.step("refine")!.items, null);
  // Out of order in the log (a resumed loop), still by number: #10 after #9, not after #1.
  const log = logOf([
    ["step_started", "loop", "#10"],
    ["step_started", "loop", "#9"],
    ["step_started", "loop", "#1"],
  ]);
  assert.deepEqual(
    foldToEnd(log)
      .units("loop")
      .map((u) => u.scope),
    ["#1", "#9", "#10"],
  );
});

test("unitKeys: the keys of units(), the same array while the known units stay (a move within a map)", () => {
  const fold = new RunFold(MAP_LOG, MAP_ATTEMPTS);
  const expanded = MAP_LOG.findIndex((e) => e.type === "expanded");
  fold.seek(expanded - 1);
  assert.deepEqual(fold.unitKeys("summarize"), []);
  fold.seek(expanded);
  const keys = fold.unitKeys("summarize");
  assert.deepEqual(keys, ["summarize[a]", "summarize[b]", "summarize[c]"]);
  // Every item's move, forwards and back: the known items stay, so does the array.
  for (const k of [expanded + 3, expanded + 7, expanded + 1, expanded]) {
    fold.seek(k);
    assert.equal(fold.unitKeys("summarize"), keys, `at ${k}`);
    assert.deepEqual(
      fold.units("summarize").map((u) => u.id),
      keys,
    );
  }
  // A loop's known iterations grow one by one: a new array each time.
  const first = MAP_LOG.findIndex((e) => e.scope === "#1");
  const second = MAP_LOG.findIndex((e) => e.scope === "#2");
  fold.seek(first);
  const one = fold.unitKeys("refine");
  assert.deepEqual(one, ["refine#1"]);
  fold.seek(second);
  assert.deepEqual(fold.unitKeys("refine"), ["refine#1", "refine#2"]);
  fold.seek(first + 1);
  assert.deepEqual(fold.unitKeys("refine"), one);
});

const OUTCOMES = ["succeeded", "failed", "retried", "cancelled", "unstarted"] as const;

/** A map's log: its items' events interleaved as `picks` say, then a loop of `loops` iterations. */
function mapLog(
  outcomes: readonly (typeof OUTCOMES)[number][],
  picks: readonly number[],
  loops: number,
): { events: EventRecord[]; attempts: AttemptRecord[] } {
  const keys = outcomes.map((_, i) => `k${i}`);
  const attempts: AttemptRecord[] = [];
  const queues = outcomes.map((o, i): Row[] => {
    const scope = `[${keys[i]}]`;
    const q: Row[] = o === "unstarted" ? [] : [["step_started", "m", scope]];
    if (o === "retried") {
      attempts.push(attemptOf("m", scope, 1, "failed"), attemptOf("m", scope, 2, "succeeded"));
      q.push(["attempt_failed", "m", scope, 1, { kind: "timeout", message: "slow" }]);
      q.push(["step_succeeded", "m", scope, 2, { output: "=2" }]);
    } else if (o === "succeeded" || o === "failed") {
      attempts.push(attemptOf("m", scope, 1, o));
      q.push(
        o === "failed"
          ? ["step_failed", "m", scope, 1, { kind: "timeout", message: "slow" }]
          : ["step_succeeded", "m", scope, 1, { output: "=1" }],
      );
    } else if (o === "cancelled") q.push(["step_cancelled", "m", scope]);
    return q;
  });
  const rows: Row[] = [
    ["run_started", null, null],
    ["step_started", "m", null],
    ["expanded", "m", null, null, { count: keys.length, keys }],
  ];
  for (let j = 0; queues.some((q) => q.length > 0); j++) {
    const open = queues.filter((q) => q.length > 0);
    rows.push(open[(picks[j % Math.max(1, picks.length)] ?? 0) % open.length]!.shift()!);
  }
  rows.push(["step_succeeded", "m", null, null, { output: "=[]" }], ["step_started", "loop", null]);
  for (let n = 1; n <= loops; n++) {
    // The fold takes a unit's events as they come: an even iteration's first event leaves it pending.
    const child: Row = ["child_started", "loop", `#${n}`, null, { childRun: `01C${n}` }];
    if (n % 2 === 0) rows.push(child);
    rows.push(
      ["step_started", "loop", `#${n}`],
      ...(n % 2 === 0 ? [] : [child]),
      ["child_finished", "loop", `#${n}`, null, { childRun: `01C${n}`, status: "succeeded" }],
      ["step_succeeded", "loop", `#${n}`, null, { output: "=1" }],
    );
  }
  rows.push(["run_finished", null, null, null, { status: "succeeded" }]);
  return { events: logOf(rows), attempts };
}

test("any sequence of moves over a log of items and iterations ends in the fold from scratch", () => {
  const logs = fc.record({
    outcomes: fc.array(fc.constantFrom(...OUTCOMES), { maxLength: 6 }),
    picks: fc.array(fc.nat(), { maxLength: 30 }),
    loops: fc.integer({ min: 0, max: 3 }),
  });
  fc.assert(
    fc.property(
      logs.chain((l) => {
        const log = mapLog(l.outcomes, l.picks, l.loops);
        const units = [...new Set(log.events.map((e) => `${e.stepId}${e.scope ?? ""}`))];
        return fc.tuple(fc.constant(log), movesOf(log.events.length, units));
      }),
      ([{ events, attempts }, moves]) => {
        const fold = new RunFold(events, attempts);
        applyMoves(fold, moves);
        const fresh = new RunFold(events, attempts);
        fresh.seek(fold.position);
        assert.deepEqual(snapshot(fold), snapshot(fresh));
        assertUnitsAt(fold, ["m", "loop"]);
      },
    ),
    { numRuns: 300 },
  );
});
