// A live run's step states for the graph panel, from its events so far (read from `keel run
// --events` as they come), through the one reader of a run's log: a map step's item count and
// its items by status ride along (docs/editor.md, "The graph panel").
import { foldToEnd, iterationStatuses } from "@keel/core/record/fold";
import type { EventRecord } from "@keel/core/record/records";
import type { StatusMessage } from "@keel/core/protocol/webview";

/** The live state of a run from its events so far, through the one reader of the log. */
export function liveStatus(
  runId: string,
  events: readonly EventRecord[],
  stepIds: readonly string[],
) {
  const steps: StatusMessage["steps"] = {};
  const fold = foldToEnd(events, [], stepIds);
  for (const s of fold.steps()) {
    // A loop's tally comes without an item count (a map's has one).
    const iterations = s.tally !== null && s.items === null ? iterationStatuses(fold, s.id) : [];
    const ended = events[s.lastSeq - 1];
    const ms = ended?.data?.durationMs;
    steps[s.id] = {
      status: s.status,
      attempts: s.attempts,
      cached: s.origin === "cached",
      ...(typeof ms === "number" ? { durationMs: ms } : {}),
      ...(s.items !== null ? { items: s.items } : {}),
      ...(s.tally !== null ? { tally: s.tally } : {}),
      ...(iterations.length > 0 ? { iterations } : {}),
    };
  }
  return { type: "status", runId, steps } satisfies StatusMessage;
}
