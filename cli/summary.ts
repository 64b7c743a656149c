// What a run's result looks like to its caller: the JSON `keel run --json` prints (and the last
// line of `--events`), and the summary a person reads on the terminal. Shared by local runs and
// runs on workers (`--on`).
import type { RunResult } from "@keel/core/runner/types";
import type { EventsLine, RunSummary } from "@keel/core/protocol/cli";
import { styleFor } from "./output";
import { duration } from "./progress";

/** What `--json` prints of a run's result (core/protocol/cli.ts, read by the extension). */
export function summaryJson(result: RunResult): RunSummary {
  return {
    runId: result.runId,
    status: result.status,
    outputs: result.outputs,
    findings: result.findings,
    error: result.error,
    steps: result.steps.map((st) => ({
      id: st.id,
      status: st.status,
      attempts: st.attempts,
      durationMs: st.durationMs,
      cached: st.origin === "cached",
    })),
  };
}

/** Writes one line of `--events`: an event as it is recorded, or the result last. */
export function writeEventsLine(line: EventsLine): void {
  process.stdout.write(JSON.stringify(line) + "\n");
}

export function printSummary(result: RunResult, ms: number): void {
  const s = styleFor(process.stdout);
  const counts = new Map<string, number>();
  for (const st of result.steps) counts.set(st.status, (counts.get(st.status) ?? 0) + 1);
  const tally = [...counts].map(([k, n]) => `${n} ${k}`).join(", ");
  // A success with findings is never shown as a bare "succeeded" (docs/runner.md, "Findings").
  const found = result.findings.length;
  const head =
    result.status === "succeeded"
      ? found > 0
        ? s.yellow(`succeeded with ${found} finding${found > 1 ? "s" : ""}`)
        : s.green("succeeded")
      : result.status === "cancelled"
        ? s.yellow("cancelled")
        : s.red("failed");
  process.stdout.write(`\nrun ${result.runId} ${head} in ${duration(ms)} (${tally})\n`);
  if (result.error) process.stdout.write(`${s.red(result.error)}\n`);
  for (const f of result.findings) process.stdout.write(`${s.yellow(f.kind)}: ${f.message}\n`);
  if (result.outputs && Object.keys(result.outputs).length > 0) {
    process.stdout.write(`outputs:\n${indent(JSON.stringify(result.outputs, null, 2))}\n`);
  }
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}
