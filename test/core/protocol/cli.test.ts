// The CLI ↔ extension messages (core/protocol/cli.ts) against what the built CLI really writes:
// a sample workflow run offline (its scripted provider) in a throw-away workspace, then each
// command the extension reads. Each answer parses with its schema and the schema keeps all of it
// (parsing drops unknown fields, so an answer equal to its parse has no field the schema lacks):
// the CLI and the schemas cannot drift apart unnoticed. Needs the bundles (`npm run build`).
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { z } from "zod";
import {
  EventsLine,
  ReplayResult,
  RerunPlan,
  RunDiff,
  RunList,
  RunSummary,
} from "@keel/core/protocol/cli";
import { keel, workspace } from "../../helpers/cli";

const SAMPLE = "support-triage.keel.yaml";
/** A ticket the classifier is not sure of: the confidence gate fails and escalate runs. */
const UNSURE = "ticket=Your app is great, just saying hi";

let dir: string;
before(() => {
  dir = workspace({ [SAMPLE]: readFileSync(join("samples", SAMPLE), "utf8") });
});

/** Runs `keel args…` in the workspace; its stdout, parsed as JSON. */
function answer(args: string[], codes: readonly number[] = [0]): unknown {
  const r = keel(args, dir);
  assert.ok(codes.includes(r.code!), `keel ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown;
}

/** Parses with the schema, and checks the parse kept every field the CLI wrote. */
function roundTrip<T>(schema: z.ZodType<T>, json: unknown): T {
  const parsed = schema.parse(json);
  assert.deepEqual(parsed, json, "the CLI writes a field the schema does not define");
  return parsed;
}

test("keel run --json and every line of keel run --events parse as RunSummary and EventsLine", () => {
  const summary = roundTrip(RunSummary, answer(["run", SAMPLE, "--json"]));
  assert.equal(summary.status, "succeeded");
  assert.deepEqual(Object.fromEntries(summary.steps.map((s) => [s.id, s.status])), {
    classify: "succeeded",
    confidence_gate: "succeeded",
    draft_reply: "succeeded",
    ticket_update: "succeeded",
    escalate: "skipped",
  });

  const r = keel(["run", SAMPLE, "--events", "--input", UNSURE], dir);
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stdout
    .trimEnd()
    .split("\n")
    .map((l) => roundTrip(EventsLine, JSON.parse(l)));
  const last = lines.pop()!;
  assert.ok("result" in last, "the last line is the result");
  assert.equal(last.result.status, "failed");
  assert.match(last.result.error ?? "", /confidence_gate/);
  const events = lines.map((l) => ("event" in l ? l.event : assert.fail("an event line")));
  assert.deepEqual(
    events.map((e) => e.seq),
    events.map((_, i) => i + 1),
  );
  assert.equal(events[0]!.type, "run_started");
  assert.equal(events.at(-1)!.type, "run_finished");
  assert.ok(events.some((e) => e.type === "step_failed" && e.stepId === "confidence_gate"));
});

test("keel runs --json, keel diff --json and keel rerun --plan parse as RunList, RunDiff and RerunPlan", () => {
  const runs = roundTrip(RunList, answer(["runs", SAMPLE, "--json"]));
  assert.ok(runs.length >= 2, "the two runs of the test before");
  const [failed, succeeded] = runs;
  assert.equal(failed!.status, "failed");
  assert.equal(succeeded!.status, "succeeded");
  assert.equal(failed!.mode, "run");

  const diff = roundTrip(RunDiff, answer(["diff", succeeded!.id, failed!.id, "--json"], [1]));
  assert.equal(diff.firstDivergence, "classify");
  assert.deepEqual(diff.steps.find((s) => s.step === "escalate")?.status, ["skipped", "succeeded"]);

  const plan = roundTrip(
    RerunPlan,
    answer(["rerun", succeeded!.id, "--from", "draft_reply", "--plan"]),
  );
  assert.equal(plan.from, "draft_reply");
  assert.ok(plan.reused.includes("classify"));
  assert.ok(plan.live.includes("draft_reply"));
  assert.deepEqual(plan.changed, []);
});

test("keel replay --json parses as ReplayResult, with and without a divergence", () => {
  const [, succeeded] = RunList.parse(answer(["runs", SAMPLE, "--json"]));
  const same = roundTrip(ReplayResult, answer(["replay", succeeded!.id, "--json"]));
  assert.equal(same.divergence, null);
  assert.equal(same.effectsExecuted, 0);

  const path = join(dir, SAMPLE);
  const text = readFileSync(path, "utf8");
  writeFileSync(path, text.replace("Ticket category: ${{", "Ticket category (triaged): ${{"));
  try {
    const edited = roundTrip(
      ReplayResult,
      answer(["replay", succeeded!.id, "--current", "--json"], [1]),
    );
    assert.equal(edited.divergence?.step, "draft_reply");
    assert.equal(typeof edited.divergence?.line, "number");
  } finally {
    writeFileSync(path, text);
  }
});
