// Maps, child runs and loops through the built CLI: the digest sample (samples/digest.keel.yaml)
// runs offline with its children, `keel replay latest` replays it (not one of its child runs)
// with no divergence, and `keel diff` compares its map item by item and its loop iteration by
// iteration (docs/replay.md, "Diff").
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { RunDiff } from "@keel/core/protocol/cli";
import { keel, workspace } from "../helpers/cli";

/** A workspace holding a copy of the samples folder. */
function withSamples(): string {
  const dir = workspace({});
  cpSync("samples", join(dir, "samples"), { recursive: true });
  return dir;
}

const SAMPLE = "samples/digest.keel.yaml";

test("the digest sample runs offline: each document summarized by a child run, the empty one skipped, the draft good on round 2; keel replay latest finds no divergence", () => {
  const dir = withSamples();
  const r = keel(["run", SAMPLE, "--json"], dir);
  assert.equal(r.code, 0, r.stderr);
  const run = JSON.parse(r.stdout) as {
    runId: string;
    status: string;
    outputs: Record<string, unknown>;
  };
  assert.equal(run.status, "succeeded");
  assert.deepEqual(run.outputs.summaries, [
    "3.8 ships on December 2nd, with offline sync still flagged on Android.",
    "Crash-free sessions rose to 99.6% after the Android sync fix.",
    "Two mobile engineers start in January; interviews for a designer go on.",
  ]);
  assert.deepEqual(run.outputs.skipped, ["doc-3"]);
  assert.equal(run.outputs.rounds, 2);
  assert.equal(run.outputs.score, 9);
  assert.match(String(run.outputs.digest), /^Mobile weekly\. Release: 3\.8 ships/);
  const replay = keel(["replay", "latest", "--json"], dir);
  assert.equal(replay.code, 0, replay.stderr);
  const report = JSON.parse(replay.stdout) as Record<string, unknown>;
  assert.equal(report.replayOf, run.runId);
  assert.equal(report.divergence, null);
  assert.equal(report.effectsExecuted, 0);
  assert.deepEqual(report.outputs, run.outputs);
});

test("keel diff of two digests: the map step says which items differ and which were added, the loop which iterations; --json carries them as RunDiff", () => {
  const dir = withSamples();
  const first = keel(["run", SAMPLE, "--json"], dir);
  assert.equal(first.code, 0, first.stderr);
  const notes = [
    "Release 3.8",
    "Version 3.8 ships on December 2nd. Offline sync stays behind a flag on Android until the",
    "crash fix is out.",
    "---",
    "Crash report",
    "Crash-free sessions rose from 99.0% to 99.6% after the Android sync fix.",
    "---",
    "Offsite",
    "---",
    "Hiring",
    "Two mobile engineers start in January. Interviews for a product designer go on.",
    "---",
    "Design review",
    "The new onboarding screens are approved.",
  ].join("\n");
  const second = keel(["run", SAMPLE, "--json", "--input", `notes=${notes}`], dir);
  assert.equal(second.code, 0, second.stderr);
  const a = (JSON.parse(first.stdout) as { runId: string }).runId;
  const b = (JSON.parse(second.stdout) as { runId: string }).runId;

  const text = keel(["diff", a, b], dir);
  assert.equal(text.code, 1, text.stderr);
  const line = (step: string) =>
    text.stdout.split("\n").find((l) => new RegExp(`^  ≠ ${step} `).test(l)) ?? "";
  assert.match(line("summarize"), /1 of 4 items differs \(doc-2\), 1 item added \(doc-5\)/);
  assert.match(line("refine"), /2 of 2 iterations differ \(#1, #2\)/);

  const json = keel(["diff", a, b, "--json"], dir);
  assert.equal(json.code, 1, json.stderr);
  const raw = JSON.parse(json.stdout) as unknown;
  const diff = RunDiff.parse(raw);
  assert.deepEqual(diff, raw, "the schema keeps every field keel diff --json prints");
  const summarize = diff.steps.find((s) => s.step === "summarize")!;
  assert.deepEqual(
    summarize.items!.map((u) => [u.key, u.status, u.inputEqual, u.outputEqual, u.differs]),
    [
      ["doc-1", ["succeeded", "succeeded"], true, true, false],
      ["doc-2", ["succeeded", "succeeded"], false, true, true],
      ["doc-3", ["failed", "failed"], true, true, false],
      ["doc-4", ["succeeded", "succeeded"], true, true, false],
      ["doc-5", ["absent", "succeeded"], false, false, true],
    ],
  );
  const refine = diff.steps.find((s) => s.step === "refine")!;
  assert.deepEqual(
    refine.iterations!.map((u) => [u.key, u.status, u.inputEqual, u.differs]),
    [
      ["1", ["succeeded", "succeeded"], false, true],
      ["2", ["succeeded", "succeeded"], false, true],
    ],
  );
});

test("a child run started by keel run reads the env.NAME values it names itself, not only its parent's", () => {
  const dir = workspace({
    "child.keel.yaml": `keel: 1
name: child
steps:
  read: { type: transform, expr: "env.KEEL_TEST_CHILD_ONLY" }
outputs:
  value: steps.read.output
`,
    "parent.keel.yaml": `keel: 1
name: parent
steps:
  child: { type: workflow, uses: ./child.keel.yaml }
outputs:
  value: steps.child.output.value
`,
  });
  const r = keel(["run", "parent.keel.yaml", "--json"], dir, {
    KEEL_TEST_CHILD_ONLY: "from the environment",
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as { outputs: unknown }).outputs, {
    value: "from the environment",
  });
});
