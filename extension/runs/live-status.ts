// A live run's step states for the graph panel, from its events so far (read from `keel run
// --events` as they come), through the one reader of a run's log: a map step's item count and
// its items by status ride along, and an agent's turns and tool calls (docs/editor.md, "The graph
// panel").
import { foldToEnd, iterationStatuses } from "@keel/core/record/fold";
import { agentLanes } from "@keel/core/record/agent-lanes";
import type { EventRecord } from "@keel/core/record/records";
import type { StatusMessage } from "@keel/core/protocol/webview";
import type { Chunk } from "@keel/core/protocol/cli";

/** The live state of a run from its events so far, through the one reader of the log. */
export function liveStatus(
  runId: string,
  events: readonly EventRecord[],
  stepIds: readonly string[],
  /** Streamed steps' replies so far, by step id (chunks of the step itself, not of its items). */
  replies: ReadonlyMap<string, string> = new Map(),
  /** The agent steps (`type: agent`): their turns and tool calls ride along. */
  agents: ReadonlySet<string> = new Set(),
) {
  const steps: StatusMessage["steps"] = {};
  const fold = foldToEnd(events, [], stepIds);
  for (const s of fold.steps()) {
    // A loop's tally comes without an item count (a map's has one); an agent's units are its
    // turns and tool calls, shown as lanes (core/record/agent-lanes.ts), not as iterations.
    const units = s.tally !== null && s.items === null;
    const agent = units && agents.has(s.id) ? agentLanes(fold, s.id) : undefined;
    const iterations = units && !agent ? iterationStatuses(fold, s.id) : [];
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
      ...(agent ? { agent } : {}),
      ...(replies.has(s.id) ? { reply: replies.get(s.id)! } : {}),
    };
  }
  return { type: "status", runId, steps } satisfies StatusMessage;
}

/**
 * Collects the replies of a run's streamed steps from the `{"chunk": …}` lines of `--events`: a
 * step's own chunks (not its items', nor a child run's), its latest attempt's only.
 */
export class LiveReplies {
  readonly replies = new Map<string, string>();
  private readonly attempts = new Map<string, number | null>();

  add(runId: string | undefined, c: Chunk): void {
    if (c.runId !== runId || c.stepId === null || c.scope !== null) return;
    const same = this.attempts.get(c.stepId) === c.attempt;
    this.attempts.set(c.stepId, c.attempt);
    this.replies.set(c.stepId, (same ? (this.replies.get(c.stepId) ?? "") : "") + c.text);
  }
}
