// Diff of two recorded runs (docs/replay.md, "Diff"): per step, whether its input and output are
// equal, its status in each, the change in latency and cost, a changed model or fingerprint; the
// first divergence (the first step in run A's log order that differs) first.
import type { AttemptRecord } from "../record/records";
import { foldToEnd, type StepAt } from "../record/fold";
import type { RecordedRun } from "./record";

export interface StepDiff {
  readonly step: string;
  readonly status: readonly [string, string];
  readonly inputEqual: boolean;
  readonly outputEqual: boolean;
  /** Milliseconds from start to end in each run; null when the step did not run there. */
  readonly latencyMs: readonly [number | null, number | null];
  readonly costUsd: readonly [number | null, number | null];
  readonly model: readonly [string | null, string | null];
  readonly fingerprint: readonly [string | null, string | null];
  /** True when anything above differs (latency alone does not count). */
  readonly differs: boolean;
}

export interface RunDiff {
  readonly a: string;
  readonly b: string;
  /** The first step that differs, in run A's order; null when none does. */
  readonly firstDivergence: string | null;
  /** Every step of either run: the first divergence first, then A's order, then B's new steps. */
  readonly steps: readonly StepDiff[];
}

interface Side {
  readonly state: StepAt | undefined;
  readonly attempts: readonly AttemptRecord[];
  readonly latencyMs: number | null;
}

export function diffRuns(a: RecordedRun, b: RecordedRun): RunDiff {
  const sideA = sides(a);
  const sideB = sides(b);
  const order = [...sideA.keys(), ...[...sideB.keys()].filter((id) => !sideA.has(id))];
  const rows = order.map((id) => compare(id, sideA.get(id), sideB.get(id)));
  const first = rows.find((r) => r.differs) ?? null;
  return {
    a: a.run.id,
    b: b.run.id,
    firstDivergence: first?.step ?? null,
    steps: first ? [first, ...rows.filter((r) => r !== first)] : rows,
  };
}

/** Each step of a run in the order its log first mentions it. */
function sides(r: RecordedRun): Map<string, Side> {
  const fold = foldToEnd(r.events, r.attempts);
  const started = new Map<string, number>();
  const ended = new Map<string, number>();
  for (const e of r.events) {
    if (!e.stepId) continue;
    if (e.type === "step_started" && !started.has(e.stepId))
      started.set(e.stepId, Date.parse(e.at));
    if (/^step_(succeeded|failed|cached|reused|cancelled)$/.test(e.type))
      ended.set(e.stepId, Date.parse(e.at));
  }
  const out = new Map<string, Side>();
  for (const state of fold.steps()) {
    const s = started.get(state.id);
    const t = ended.get(state.id);
    out.set(state.id, {
      state,
      attempts: r.attempts.filter((x) => x.stepId === state.id),
      latencyMs: s !== undefined && t !== undefined ? t - s : null,
    });
  }
  return out;
}

function compare(step: string, a: Side | undefined, b: Side | undefined): StepDiff {
  const last = (s: Side | undefined) => s?.attempts.at(-1);
  const meta = (s: Side | undefined, key: string) =>
    (last(s)?.meta?.[key] as string | null | undefined) ?? null;
  const cost = (s: Side | undefined) => {
    const costs = (s?.attempts ?? [])
      .map((x) => x.meta?.costUsd)
      .filter((c) => typeof c === "number");
    return costs.length > 0 ? (costs as number[]).reduce((x, y) => x + y, 0) : null;
  };
  const row = {
    step,
    status: [a?.state?.status ?? "absent", b?.state?.status ?? "absent"] as const,
    inputEqual: last(a)?.inputHash === last(b)?.inputHash,
    outputEqual: (a?.state?.output ?? null) === (b?.state?.output ?? null),
    latencyMs: [a?.latencyMs ?? null, b?.latencyMs ?? null] as const,
    costUsd: [cost(a), cost(b)] as const,
    model: [meta(a, "model"), meta(b, "model")] as const,
    fingerprint: [meta(a, "fingerprint"), meta(b, "fingerprint")] as const,
  };
  const differs =
    row.status[0] !== row.status[1] ||
    !row.inputEqual ||
    !row.outputEqual ||
    row.model[0] !== row.model[1] ||
    row.fingerprint[0] !== row.fingerprint[1];
  return { ...row, differs };
}
