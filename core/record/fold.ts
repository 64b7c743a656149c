// Step-through data (docs/replay.md, "Step-through"; #5): a run's event log folded to any position,
// forwards and backwards. The one reader of a run's log: `keel show`, resume, `keel run --step`,
// replay, diff, the graph panel and the replay debugger all take a step's state from here. It lives
// apart from core/replay so that the runner (resume, `--step`) can use it: replay depends on the
// runner.
// Invariants:
// - The state at position k is the fold of events[0..k] (k = -1: before the first event).
// - Each event changes at most one step (or only the run); the fold keeps, per event, that step's
//   state before and after it, so a move applies or undoes one delta: O(1), never a re-read.
// - Deltas are made once, the first time the fold moves past an event.
// Browser-safe: type imports only (the webview and the debugger use it too).
import type { AttemptRecord, EventRecord, Origin, RunStatus, StepStatus } from "./records";

/** A step as it was at some position of its run's log. Immutable: a move swaps whole states. */
export interface StepAt {
  readonly id: string;
  readonly status: StepStatus;
  /** How a success came about (live, cached, reused); null until it succeeded. */
  readonly origin: Origin | null;
  /** Attempts started so far (a reused step counts one). */
  readonly attempts: number;
  /** Failed with `on_error: continue`. */
  readonly continued: boolean;
  /** The last error: an attempt's or the step's. */
  readonly error: { readonly kind: string; readonly message: string } | null;
  /** Reference of the output (core/record/refs.ts), once the step succeeded. */
  readonly output: string | null;
  /** The newest attempt that had ended at this position, with its resolved input's reference. */
  readonly attempt: AttemptRecord | null;
  /** `seq` of the last event that concerned this step; 0 before any. */
  readonly lastSeq: number;
  /** When the step last started (its `step_started` event); null if it never did (reused, skipped). */
  readonly startedAt: string | null;
  /** The event that ended the step (succeeded, cached, reused, failed, skipped, cancelled); null until then. */
  readonly ended: EventRecord | null;
}

export interface RunAt {
  /** `running` from the first event, the recorded status once `run_finished` is passed. */
  readonly status: RunStatus | "pending";
  readonly error: string | null;
  readonly findings: number;
}

const PENDING_RUN: RunAt = { status: "pending", error: null, findings: 0 };

interface Delta {
  readonly stepId: string | null;
  readonly before: StepAt | RunAt;
  readonly after: StepAt | RunAt;
}

/** A step before any event: pending. */
export function pendingStep(id: string): StepAt {
  return {
    id,
    status: "pending",
    origin: null,
    attempts: 0,
    continued: false,
    error: null,
    output: null,
    attempt: null,
    lastSeq: 0,
    startedAt: null,
    ended: null,
  };
}

export class RunFold {
  private readonly stepStates = new Map<string, StepAt>();
  private runState: RunAt = PENDING_RUN;
  private readonly deltas: Delta[] = [];
  /** A step's attempt records by attempt number (no string key to build per lookup). */
  private readonly attemptsByStep = new Map<string, AttemptRecord[]>();
  private readonly stepEvents = new Map<string, number[]>();
  private pos = -1;

  /**
   * `stepIds` lists steps that have no event yet (the workflow's steps), so they show as pending;
   * steps met in the log are added as they appear.
   */
  constructor(
    readonly events: readonly EventRecord[],
    attempts: readonly AttemptRecord[] = [],
    stepIds: readonly string[] = [],
  ) {
    for (const a of attempts) {
      let list = this.attemptsByStep.get(a.stepId);
      if (!list) this.attemptsByStep.set(a.stepId, (list = []));
      list[a.attempt] = a;
    }
    for (const id of stepIds) this.stepStates.set(id, pendingStep(id));
    for (let i = 0; i < events.length; i++) {
      const id = events[i]!.stepId;
      if (id === null) continue;
      if (!this.stepStates.has(id)) this.stepStates.set(id, pendingStep(id));
      const list = this.stepEvents.get(id);
      if (list) list.push(i);
      else this.stepEvents.set(id, [i]);
    }
  }

  /** Index of the last event applied: -1 before the first, `events.length - 1` at the end. */
  get position(): number {
    return this.pos;
  }

  get length(): number {
    return this.events.length;
  }

  /** The event at the current position (undefined before the first). */
  get current(): EventRecord | undefined {
    return this.events[this.pos];
  }

  get run(): RunAt {
    return this.runState;
  }

  /** The state of one step at the current position. */
  step(id: string): StepAt | undefined {
    return this.stepStates.get(id);
  }

  /** Every step's state at the current position, in order of first appearance. */
  steps(): IterableIterator<StepAt> {
    return this.stepStates.values();
  }

  /** The attempt record of a step's attempt `n` (its input, output, timings, provider metadata). */
  attemptOf(stepId: string, n: number): AttemptRecord | undefined {
    return this.attemptsByStep.get(stepId)?.[n];
  }

  /** Applies the next event; false at the end. */
  forward(): boolean {
    if (this.pos + 1 >= this.events.length) return false;
    this.pos++;
    const delta = this.deltas[this.pos] ?? this.makeDelta(this.pos);
    this.set(delta.stepId, delta.after);
    return true;
  }

  /** Undoes the current event; false before the first. */
  back(): boolean {
    if (this.pos < 0) return false;
    const delta = this.deltas[this.pos]!;
    this.set(delta.stepId, delta.before);
    this.pos--;
    return true;
  }

  /** Moves to position `k` (clamped to -1 … length - 1), one delta at a time. */
  seek(k: number): void {
    const target = Math.max(-1, Math.min(k, this.events.length - 1));
    while (this.pos < target) this.forward();
    while (this.pos > target) this.back();
  }

  /** Index of the next event after `from` (default: the current position) that concerns `stepId`; -1 if none. */
  nextEventOf(stepId: string, from = this.pos): number {
    const list = this.stepEvents.get(stepId);
    if (!list) return -1;
    // Binary search: the first index in the step's list greater than `from`.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]! <= from) lo = mid + 1;
      else hi = mid;
    }
    return lo < list.length ? list[lo]! : -1;
  }

  /** Index of the previous event before `from` (default: the current position) that concerns `stepId`; -1 if none. */
  previousEventOf(stepId: string, from = this.pos): number {
    const list = this.stepEvents.get(stepId);
    if (!list) return -1;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]! < from) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? list[lo - 1]! : -1;
  }

  /** Index of the first `attempt_failed` or `step_failed` event; -1 if the run has none. */
  firstFailure(): number {
    return this.events.findIndex((e) => e.type === "attempt_failed" || e.type === "step_failed");
  }

  private set(stepId: string | null, state: StepAt | RunAt): void {
    if (stepId === null) this.runState = state as RunAt;
    else this.stepStates.set(stepId, state as StepAt);
  }

  /** The delta of event i, from the state just before it (all earlier deltas exist). */
  private makeDelta(i: number): Delta {
    const e = this.events[i]!;
    let delta: Delta;
    if (e.stepId === null || e.type === "finding") {
      const before = this.runState;
      delta = { stepId: null, before, after: applyToRun(before, e) };
    } else {
      const before = this.stepStates.get(e.stepId)!;
      delta = { stepId: e.stepId, before, after: this.applyToStep(before, e) };
    }
    this.deltas[i] = delta;
    return delta;
  }

  private applyToStep(s: StepAt, e: EventRecord): StepAt {
    const d = e.data ?? {};
    const attempt = e.attempt !== null ? this.attemptOf(s.id, e.attempt) : undefined;
    const base = { ...s, lastSeq: e.seq, attempt: attempt ?? s.attempt };
    const error =
      d.kind !== undefined ? { kind: String(d.kind), message: String(d.message) } : null;
    const output = typeof d.output === "string" ? d.output : null;
    switch (e.type) {
      case "step_started":
        return { ...base, status: "running", startedAt: e.at, ended: null };
      case "attempt_failed":
        return { ...base, attempts: Math.max(s.attempts, e.attempt ?? 0), error };
      case "step_succeeded":
      case "step_cached":
      case "step_reused":
        return {
          ...base,
          status: "succeeded",
          origin:
            e.type === "step_succeeded" ? "live" : e.type === "step_cached" ? "cached" : "reused",
          attempts: Math.max(s.attempts, e.attempt ?? 1),
          output,
          error: null,
          ended: e,
        };
      case "step_failed":
        return {
          ...base,
          status: "failed",
          attempts: Math.max(s.attempts, e.attempt ?? 0),
          continued: d.continued === true,
          error,
          ended: e,
        };
      case "step_skipped":
        return { ...base, status: "skipped", ended: e };
      case "step_cancelled":
        return { ...base, status: "cancelled", error, ended: e };
      default:
        return base;
    }
  }
}

function applyToRun(r: RunAt, e: EventRecord): RunAt {
  switch (e.type) {
    case "run_started":
    case "run_resumed":
      return { ...r, status: "running" };
    case "run_finished":
      return {
        ...r,
        status: (e.data?.status as RunStatus | undefined) ?? "succeeded",
        error: (e.data?.error as string | null | undefined) ?? null,
      };
    case "finding":
      return { ...r, findings: r.findings + 1 };
    default:
      return r;
  }
}

/** Every step's state at the end of the log: the fold moved to its last event. */
export function foldToEnd(
  events: readonly EventRecord[],
  attempts: readonly AttemptRecord[] = [],
  stepIds: readonly string[] = [],
): RunFold {
  const fold = new RunFold(events, attempts, stepIds);
  fold.seek(events.length - 1);
  return fold;
}
