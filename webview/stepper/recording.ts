// A recorded run in the panel: the core's step-through fold over its log, and the step states
// the graph shows at the fold's position.
import { RunFold, type StepAt } from "@keel/core/record/fold";
import type { AttemptRecord, EventRecord } from "@keel/core/record/records";
import type { RecordingMessage } from "@keel/core/protocol/webview";
import type { States } from "../graph/step-views";

export function foldOf(recording: RecordingMessage, stepIds: readonly string[]): RunFold {
  return new RunFold(
    recording.events as EventRecord[],
    recording.attempts as AttemptRecord[],
    stepIds,
  );
}

export function durationOf(s: StepAt): number | undefined {
  const a = s.attempt;
  return a ? Math.max(0, Date.parse(a.endedAt) - Date.parse(a.startedAt)) : undefined;
}

/** A step's state as the graph shows it, from the fold. */
export function stateOf(s: StepAt): States[string] {
  return {
    status: s.status,
    attempts: s.attempts,
    cached: s.origin === "cached",
    durationMs: durationOf(s),
    ...(s.items !== null ? { items: s.items } : {}),
    ...(s.tally !== null ? { tally: s.tally } : {}),
  };
}

export function statesAt(fold: RunFold): States {
  const out: States = {};
  for (const s of fold.steps()) out[s.id] = stateOf(s);
  return out;
}

/** A one-line description of an event, for the stepper. */
export function describe(e: EventRecord | undefined): string {
  if (!e) return "before the first event";
  const what = e.type.replace(/_/g, " ");
  const kind = typeof e.data?.kind === "string" ? ` (${e.data.kind})` : "";
  return `${what}${e.stepId ? ` · ${e.stepId}` : ""}${e.attempt ? ` · attempt ${e.attempt}` : ""}${kind}`;
}
