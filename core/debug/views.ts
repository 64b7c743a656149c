// What the replay debugger shows of a run at a position: a step's view (the Step scope) and the
// run's view (the Run scope), built from the step-through fold's state at that position and the
// run's record. The same objects are what `evaluate` runs JSONata over (`steps.<id>.output`,
// `inputs.ticket`, `run.status`), so a variable's `evaluateName` finds its own value again.
// Values kept by reference are Lazy: read from the store only when shown.
import type { RunFold, StepAt } from "../record/fold";
import type { AttemptRecord, EventRecord, Finding, RunRecord } from "../record/records";
import { Lazy } from "./variables";

function durationMs(a: AttemptRecord): number {
  return Math.max(0, Date.parse(a.endedAt) - Date.parse(a.startedAt));
}

/** An attempt as the debugger shows it: its resolved input, output or error, timings, provider. */
export function attemptView(a: AttemptRecord): Record<string, unknown> {
  return {
    attempt: a.attempt,
    status: a.status,
    origin: a.origin,
    input: new Lazy(a.inputHash),
    output: a.outputHash === null ? null : new Lazy(a.outputHash),
    error: a.errorKind === null ? null : { kind: a.errorKind, message: a.errorMessage ?? "" },
    startedAt: a.startedAt,
    endedAt: a.endedAt,
    durationMs: durationMs(a),
    cacheKey: a.cacheKey,
    ...(a.sourceRunId === null ? {} : { sourceRunId: a.sourceRunId }),
    provider: a.meta,
  };
}

/**
 * The attempt whose input the step shows: the one in flight while the step runs (its input was
 * resolved when it started), else the newest that had ended.
 */
function shownAttempt(fold: RunFold, s: StepAt): AttemptRecord | null {
  if (s.status === "running") {
    const inFlight = fold.attemptOf(s.id, (s.attempt?.attempt ?? 0) + 1);
    if (inFlight) return inFlight;
  }
  return s.attempt;
}

/** A step, or an item or iteration by its unit key, at the fold's position (the Step scope). */
export function stepView(fold: RunFold, id: string): Record<string, unknown> {
  const s = fold.unit(id);
  if (!s) return { status: "unknown" };
  const shown = shownAttempt(fold, s);
  const ended = s.attempt?.attempt ?? 0;
  const attempts: Record<string, unknown>[] = [];
  for (let n = 1; n <= ended; n++) {
    const a = fold.attemptOf(id, n);
    if (a) attempts.push(attemptView(a));
  }
  const last = s.lastSeq > 0 ? fold.events[s.lastSeq - 1] : undefined;
  return {
    status: s.status,
    ...(s.origin ? { origin: s.origin } : {}),
    ...(s.continued ? { continued: true } : {}),
    input: shown ? new Lazy(shown.inputHash) : null,
    output: s.output === null ? null : new Lazy(s.output),
    error: s.error,
    attempts,
    provider: s.attempt?.meta ?? null,
    cacheKey: s.attempt?.cacheKey ?? null,
    timings: {
      startedAt: s.startedAt,
      endedAt: s.ended?.at ?? null,
      attemptStartedAt: shown?.startedAt ?? null,
      attemptEndedAt: shown?.endedAt ?? null,
      attemptDurationMs: shown ? durationMs(shown) : null,
    },
    lastEvent: last && last.seq === s.lastSeq ? eventView(last) : null,
  };
}

export function eventView(e: EventRecord): Record<string, unknown> {
  return {
    seq: e.seq,
    type: e.type,
    step: e.stepId,
    attempt: e.attempt,
    at: e.at,
    ...(e.data ? { data: e.data } : {}),
  };
}

/** Step ids by their status at the fold's position, statuses in a fixed order. */
export function stepsByStatus(fold: RunFold): Record<string, string[]> {
  const order = ["failed", "running", "succeeded", "skipped", "cancelled", "pending"];
  const groups = new Map<string, string[]>(order.map((s) => [s, []]));
  for (const s of fold.steps()) groups.get(s.status)?.push(s.id);
  const out: Record<string, string[]> = {};
  for (const [status, ids] of groups) if (ids.length > 0) out[status] = ids;
  return out;
}

/** The run at the fold's position (the Run scope, `run.*` in expressions, `inputs`). */
export function runView(
  fold: RunFold,
  run: RunRecord,
  findings: readonly Finding[],
): Record<string, unknown> {
  const e = fold.current;
  return {
    id: run.id,
    workflow: run.workflowPath,
    mode: run.mode,
    status: fold.run.status,
    error: fold.run.error,
    startedAt: run.startedAt,
    // Findings are recorded as events; the run's first n findings are those passed by now.
    findings: findings.slice(0, fold.run.findings).map((f) => ({
      kind: f.kind,
      message: f.message,
      data: f.data,
    })),
    stepsByStatus: stepsByStatus(fold),
    event: e ? eventView(e) : null,
  };
}
