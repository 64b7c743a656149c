// A live run's step states for the graph panel, from its events so far (read from `keel run
// --events` as they come), through the one reader of a run's log: a map step's item count and
// its items by status ride along (docs/editor.md, "The graph panel").
import { foldToEnd } from "@keel/core/record/fold";
import type { EventRecord } from "@keel/core/record/records";
import type { StatusMessage } from "@keel/core/protocol/webview";

/** The live state of a run from its events so far, through the one reader of the log. */
export function liveStatus(
  runId: string,
  events: readonly EventRecord[],
  stepIds: readonly string[],
) {
  const steps: StatusMessage["steps"] = {};
  for (const s of foldToEnd(events, [], stepIds).steps()) {
    const ended = events[s.lastSeq - 1];
    const ms = ended?.data?.durationMs;
    steps[s.id] = {
      status: s.status,
      attempts: s.attempts,
      cached: s.origin === "cached",
      ...(typeof ms === "number" ? { durationMs: ms } : {}),
      ...(s.items !== null ? { items: s.items } : {}),
      ...(s.tally !== null ? { tally: s.tally } : {}),
    };
  }
  return { type: "status", runId, steps } satisfies StatusMessage;
}
