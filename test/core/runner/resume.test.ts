// Resume reads a run's log through the fold (core/record/fold.ts): cut a recorded log after any event,
// as a crash would, and the resume point must be what a plain scan of that log says.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { loadResumePoint } from "@keel/core/runner/resume";
import { readRecordedRun } from "@keel/core/replay/record";
import { MemoryStore } from "@keel/core/store/memory-store";
import type { EventRecord } from "@keel/core/record/records";
import { runText } from "./harness";

const ENDS: Record<string, "succeeded" | "failed" | "skipped"> = {
  step_succeeded: "succeeded",
  step_cached: "succeeded",
  step_reused: "succeeded",
  step_failed: "failed",
  step_skipped: "skipped",
};

/** The steps a log says had ended (with their end event) and those started and not ended. */
function scan(events: readonly EventRecord[]) {
  const ended = new Map<string, EventRecord>();
  const started: string[] = [];
  for (const e of events) {
    if (!e.stepId) continue;
    if (e.type === "step_started" && !started.includes(e.stepId)) started.push(e.stepId);
    if (ENDS[e.type]) ended.set(e.stepId, e);
  }
  return { ended, inFlight: started.filter((id) => !ended.has(id)) };
}

for (const path of ["test/fixtures/runs/mixed.keel.yaml", "samples/rag-answer.keel.yaml"]) {
  test(`${path}: the resume point of its log cut after any event is what the log says`, async () => {
    const full = resolve(path);
    const run = await runText(readFileSync(full, "utf8"), { path: full });
    const record = (await readRecordedRun(run.store, run.result.runId))!;
    const blobs = [...new Set(record.attempts.flatMap((a) => [a.inputHash, a.outputHash]))]
      .concat(
        record.events.map((e) => e.data?.output as string),
        [record.run.sourceHash, record.run.inputsHash],
      )
      .filter((ref): ref is string => typeof ref === "string" && !ref.startsWith("="))
      .map((hash) => ({ hash, text: record.text(hash)! }));
    const seen = new Set<string>();
    for (let k = 1; k <= record.events.length; k++) {
      const events = record.events.slice(0, k);
      const store = new MemoryStore();
      await store.commit({
        runs: [{ ...record.run, status: "running" }],
        events,
        attempts: record.attempts,
        blobs,
      });
      const point = (await loadResumePoint(store, record.run.id))!.point;
      const expected = scan(events);
      if (expected.inFlight.length > 0) seen.add("in flight");
      assert.deepEqual(point.inFlight, expected.inFlight, `after event ${k}`);
      assert.deepEqual([...point.ended.keys()].sort(), [...expected.ended.keys()].sort());
      for (const [id, e] of expected.ended) {
        const got = point.ended.get(id)!;
        assert.equal(got.status, ENDS[e.type], `${id} after event ${k}`);
        seen.add(got.status);
        if (got.snapshot) seen.add("snapshot");
        if (got.meta) seen.add("meta");
        const output = got.status === "succeeded" ? record.value(String(e.data?.output)) : null;
        assert.deepEqual(got.output, output ?? null, `${id} after event ${k}`);
        assert.equal(got.continued, e.data?.continued === true);
        assert.deepEqual(got.snapshot, e.data?.snapshot);
        const attempt = record.attempts.find((a) => a.stepId === id && a.attempt === e.attempt);
        assert.deepEqual(got.meta, got.status === "succeeded" ? (attempt?.meta ?? null) : null);
      }
      assert.equal(point.lastSeq, events[k - 1]!.seq);
    }
    // The cuts met steps in flight and ended, and what each kind of end carries.
    const kinds = path.includes("mixed")
      ? ["in flight", "succeeded", "failed", "skipped", "meta"]
      : ["in flight", "succeeded", "snapshot"];
    for (const kind of kinds) assert.ok(seen.has(kind), kind);
  });
}
