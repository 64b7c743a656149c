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
