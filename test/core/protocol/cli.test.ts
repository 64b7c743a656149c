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
  ShowRun,
  ShowStep,
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

test("keel show --json of a run and of a step parse as ShowRun and ShowStep", () => {
  const [, succeeded] = RunList.parse(answer(["runs", SAMPLE, "--json"]));
  const run = roundTrip(ShowRun, answer(["show", succeeded!.id, "--json"]));
  assert.equal(run.run.id, succeeded!.id);
  assert.ok(run.steps.every((s) => s.agent === null));
  const step = roundTrip(ShowStep, answer(["show", succeeded!.id, "classify", "--json"]));
  assert.equal(step.attempts.length, 1);
  assert.deepEqual([step.agent, step.turns, step.turn, step.call], [null, null, null, null]);
});

/** An agent whose first turn asks for a call that is refused and one that runs, then answers. */
const AGENT = `keel: 1
name: agent
providers:
  model:
    type: scripted
    responses:
      - turn: 1
        tool_calls:
          - { name: search, arguments: { query: 7 } }
          - { name: search, arguments: { query: tides } }
      - { turn: 2, reply: The moon. }
steps:
  research:
    type: agent
    prompt: Why are there tides?
    max_turns: 3
    tools:
      search:
        uses: ./tools.mjs#search
        parameters: { type: object, required: [query], properties: { query: { type: string } } }
`;

test("keel show --json of an agent run, the agent, a turn and a call parse as ShowRun and ShowStep", () => {
  const w = workspace({
    "agent.keel.yaml": AGENT,
    "tools.mjs": "export const search = ({ query }) => ['page-' + query];\n",
  });
  const json = (args: string[]) => {
    const r = keel(args, w);
    assert.equal(r.code, 0, `keel ${args.join(" ")}: ${r.stderr}`);
    return JSON.parse(r.stdout) as unknown;
  };
  assert.equal(keel(["run", "agent.keel.yaml"], w).code, 0);
  const run = roundTrip(ShowRun, json(["show", "latest", "--json"]));
  assert.deepEqual(run.steps[0]!.agent, {
    turns: 2,
    toolCalls: 2,
    costUsd: null,
    stopReason: "answer",
  });
  const agent = roundTrip(ShowStep, json(["show", "latest", "research", "--json"]));
  assert.deepEqual(
    agent.turns!.map((t) => t.calls.map((c) => [c.unit, c.status, c.error?.kind ?? null])),
    [
      [
        ["research#1/search.0", "failed", "invalid_arguments"],
        ["research#1/search.1", "succeeded", null],
      ],
      [],
    ],
  );
  const turn = roundTrip(ShowStep, json(["show", "latest", "research#1", "--json"]));
  assert.equal(turn.turn!.calls.length, 2);
  const call = roundTrip(ShowStep, json(["show", "latest", "research#1/search.0", "--json"]));
  assert.equal(call.call!.arguments, '{"query":7}');
});
