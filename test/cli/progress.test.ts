// The live progress view: one row per step, redrawn in place, never wider than the terminal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Progress } from "../../cli/progress";
import { styleFor } from "../../cli/output";
import type { EventRecord } from "@keel/core/record/records";

const event = (
  seq: number,
  type: EventRecord["type"],
  stepId: string,
  data: Record<string, unknown> | null = null,
): EventRecord => ({
  runId: "r",
  seq,
  type,
  scope: null,
  stepId,
  attempt: 1,
  at: new Date().toISOString(),
  data,
});

test("on a terminal each step is one row no wider than the terminal, redrawn in place", () => {
  let written = "";
  const out = {
    isTTY: true,
    columns: 60,
    write: (s: string) => ((written += s), true),
  } as unknown as NodeJS.WriteStream;
  const progress = new Progress(out, styleFor(out), ["fetch", "summarise_the_long_document"], true);
  progress.onEvent(event(1, "step_started", "fetch"));
  progress.onEvent(event(2, "step_succeeded", "fetch"));
  progress.onEvent(event(3, "step_started", "summarise_the_long_document"));
  progress.onEvent(
    event(4, "step_failed", "summarise_the_long_document", {
      kind: "server_error",
      message: "provider 'main': 503 Service Unavailable ".repeat(5),
    }),
  );
  progress.stop();
  const frames = written.split("\u001b[2A");
  const codes = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[mK]`, "g");
  const last = frames[frames.length - 1]!.replace(codes, "");
  const rows = last.split("\n").filter((r) => r.length > 0);
  assert.equal(rows.length, 2);
  for (const row of rows) assert.ok(row.length <= 60, `${row.length}: ${row}`);
  assert.match(
    rows[1]!,
    /^✗ {2}summarise_the_long_document {2}\d+ms {2}server_error: provi[^…]*…$/,
  );
});

test("on a terminal a map step's row counts its items as their events arrive; items make no row of their own and do not end it", (t) => {
  let written = "";
  const out = {
    isTTY: true,
    columns: 80,
    write: (s: string) => ((written += s), true),
  } as unknown as NodeJS.WriteStream;
  const progress = new Progress(out, styleFor(out), ["docs", "summarize"], true);
  t.after(() => progress.stop()); // its timer would keep the test alive after a failed assertion
  const codes = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[mK]`, "g");
  /** The rows of the last frame drawn. */
  const rows = () => {
    const frames = written.split(new RegExp(`${String.fromCharCode(27)}\\[\\d+A`));
    return frames[frames.length - 1]!.replace(codes, "").split("\n").filter(Boolean);
  };
  const item = (seq: number, type: EventRecord["type"], scope: string, data = {}) => ({
    ...event(seq, type, "summarize", data),
    scope,
  });
  progress.onEvent(event(1, "step_started", "summarize"));
  progress.onEvent(
    event(2, "expanded", "summarize", { count: 3, keys: ["doc-1", "doc-2", "doc-3"] }),
  );
  assert.match(rows()[0]!, /^… {2}summarize {2}\d+ms {2}0\/3 {2}0 ✓ 0 ✗$/);
  progress.onEvent(item(3, "step_started", "[doc-1]"));
  progress.onEvent(item(4, "step_started", "[doc-2]"));
  progress.onEvent(item(5, "step_cached", "[doc-1]"));
  assert.match(rows()[0]!, /^… {2}summarize {2}\d+ms {2}1\/3 {2}1 ✓ 0 ✗ {2}1 running$/);
  progress.onEvent(
    item(6, "attempt_failed", "[doc-2]", { kind: "server_error", message: "503", next: null }),
  );
  progress.onEvent(item(7, "step_failed", "[doc-2]", { kind: "server_error", message: "503" }));
  progress.onEvent(item(8, "step_cancelled", "[doc-3]"));
  const row = rows();
  assert.equal(row.length, 1, row.join("\n"));
  assert.match(row[0]!, /^… {2}summarize {2}\d+ms {2}3\/3 {2}1 ✓ 1 ✗ {2}1 cancelled$/);
  progress.onEvent(event(9, "step_succeeded", "summarize", { output: "=[]" }));
  progress.onEvent(event(10, "step_started", "refine"));
  progress.onEvent({ ...event(11, "step_started", "refine"), scope: "#1" });
  progress.onEvent({ ...event(12, "step_succeeded", "refine"), scope: "#1" });
  progress.onEvent({ ...event(13, "step_started", "refine"), scope: "#2" });
  progress.stop();
  const end = rows();
  assert.match(end[0]!, /^✓ {2}summarize {2}\d+ms {2}3\/3 {2}1 ✓ 1 ✗ {2}1 cancelled$/);
  assert.match(end[1]!, /^… {2}refine +\d+ms {2}iteration 2$/);
});
