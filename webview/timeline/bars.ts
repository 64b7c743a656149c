// Pure mapping from a recorded run to the timeline's rows: one row per step, one bar per attempt
// (its start and end in milliseconds from the run's start; a map's items' and a loop's
// iterations' attempts on their step's row), a mark where a step was skipped.
// No React here, so it is tested as plain data.
import type { RecordingMessage } from "@keel/core/protocol/webview";
import type { AttemptStatus, Origin } from "@keel/core/record/records";

export interface Bar {
  /** The item or iteration the attempt was of (`[doc-17]`, `#2`); null for the step itself. */
  readonly scope: string | null;
  readonly attempt: number;
  readonly status: AttemptStatus;
  readonly origin: Origin;
  /** Milliseconds from the run's start. */
  readonly start: number;
  readonly end: number;
}

export interface Row {
  readonly step: string;
  readonly bars: readonly Bar[];
  /** When the step was skipped (ms from the run's start), if it was. */
  readonly skippedAt: number | null;
}

export interface Timeline {
  readonly rows: readonly Row[];
  /** The run's span in ms (at least 1, so a scale never divides by zero). */
  readonly span: number;
  /** The run's start, epoch ms: event and attempt times are relative to it. */
  readonly origin: number;
}

/** The rows of a recorded run, in the order of `order` (the graph's steps), then any others. */
export function timelineOf(recording: RecordingMessage, order: readonly string[]): Timeline {
  const origin = Math.min(
    Date.parse(recording.startedAt),
    ...recording.events.slice(0, 1).map((e) => Date.parse(e.at)),
  );
  const bars = new Map<string, Bar[]>();
  const skipped = new Map<string, number>();
  let last = origin;
  for (const a of recording.attempts) {
    const start = Date.parse(a.startedAt) - origin;
    const end = Math.max(start, Date.parse(a.endedAt) - origin);
    const list = bars.get(a.stepId) ?? [];
    list.push({
      scope: a.scope ?? null,
      attempt: a.attempt,
      status: a.status,
      origin: a.origin,
      start,
      end,
    });
    bars.set(a.stepId, list);
    last = Math.max(last, end + origin);
  }
  for (const e of recording.events) {
    const at = Date.parse(e.at);
    last = Math.max(last, at);
    if (e.type === "step_skipped" && e.stepId !== null) skipped.set(e.stepId, at - origin);
  }
  const rows: Row[] = [];
  for (const step of new Set([...order, ...bars.keys(), ...skipped.keys()])) {
    const list = bars.get(step);
    const skippedAt = skipped.get(step) ?? null;
    if (!list && skippedAt === null) continue;
    // A map's items and a loop's iterations share their step's row (a lane), in time order.
    rows.push({
      step,
      bars: (list ?? []).sort((x, y) => x.start - y.start || x.attempt - y.attempt),
      skippedAt,
    });
  }
  return { rows, span: Math.max(1, last - origin), origin };
}

/** Where the step-through's current event falls, in ms from the run's start; null before it. */
export function cursorAt(timeline: Timeline, at: string | undefined): number | null {
  if (at === undefined) return null;
  return Math.min(timeline.span, Math.max(0, Date.parse(at) - timeline.origin));
}
