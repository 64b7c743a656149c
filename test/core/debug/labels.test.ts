// How the debugger names events in the Call Stack and the step-through: an item's or iteration's
// event names its unit, and the events of maps and child runs say what happened.
import { test } from "node:test";
import assert from "node:assert/strict";
import { describeEvent } from "@keel/core/debug/moves";
import type { EventRecord } from "@keel/core/record/records";

const ev = (over: Partial<EventRecord>): EventRecord => ({
  runId: "r",
  seq: 1,
  type: "step_started",
  stepId: "summarize",
  scope: null,
  attempt: null,
  at: "2026-12-07T10:00:00.000Z",
  data: null,
  ...over,
});

test("events of items, iterations, maps and child runs are named by their unit", () => {
  assert.equal(describeEvent(ev({ type: "step_started" })), "summarize · started");
  assert.equal(
    describeEvent(ev({ type: "step_succeeded", scope: "[doc-17]", attempt: 2 })),
    "summarize[doc-17] · succeeded on attempt 2",
  );
  assert.equal(
    describeEvent(ev({ type: "expanded", data: { count: 42 } })),
    "summarize · 42 items",
  );
  assert.equal(
    describeEvent(
      ev({ type: "child_started", stepId: "refine", scope: "#2", data: { childRun: "01C" } }),
    ),
    "refine#2 · child run 01C started",
  );
  assert.equal(
    describeEvent(
      ev({ type: "child_finished", stepId: "refine", scope: "#2", data: { status: "failed" } }),
    ),
    "refine#2 · child run failed",
  );
});
