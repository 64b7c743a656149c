// Diff of two recorded runs (docs/replay.md, "Diff"): per step, whether its input and output are
// equal, its status in each, the change in latency and cost, a changed model or fingerprint; the
// first divergence (the first step in run A's log order that differs) first. A map step's items
// are compared by key and a repeated step's iterations by number (docs/dev/scopes.md), each like a
// step of its own.
import { parse } from "yaml";
import { unitKey, type AttemptRecord } from "../record/records";
import { foldToEnd, type RunFold, type StepAt } from "../record/fold";
import { promptFileRefs, type RecordedRun } from "./record";

/** One item of a map step, or one iteration of a repeated step, in both runs. */
export interface UnitDiff {
  /** The item's key (`doc-17`), or the iteration's number as text (`2`). */
  readonly key: string;
  /** "absent" when the unit is not in that run (an item added or removed, one more iteration). */
  readonly status: readonly [string, string];
  readonly inputEqual: boolean;
  readonly outputEqual: boolean;
  readonly latencyMs: readonly [number | null, number | null];
  /** True when anything but latency differs, an iteration of the item included. */
  readonly differs: boolean;
}

export interface StepDiff {
  readonly step: string;
  readonly status: readonly [string, string];
  readonly inputEqual: boolean;
  readonly outputEqual: boolean;
  /** Milliseconds from start to end in each run; null when the step did not run there. */
  readonly latencyMs: readonly [number | null, number | null];
  /** The step's attempts' cost in each run, its items' and iterations' included. */
  readonly costUsd: readonly [number | null, number | null];
  readonly model: readonly [string | null, string | null];
  readonly fingerprint: readonly [string | null, string | null];
  /**
   * The prompt files of the step's last attempt whose text differs between the runs: the path as
   * written and the hash in each (null where the run's attempt names no such file).
   */
  readonly promptFiles?: readonly PromptFileChange[];
  /** True when anything above, or an item or iteration, differs (latency alone does not count). */
  readonly differs: boolean;
  /** A map step's items by key: run A's in list order, then those only in run B. */
  readonly items?: readonly UnitDiff[];
  /** A repeated step's iterations by number. */
  readonly iterations?: readonly UnitDiff[];
  /** An agent's turns by number (its model calls: `#2` is turn 2). */
  readonly turns?: readonly UnitDiff[];
  /** An agent's tool calls by turn and index (key `2/search.1`: turn 2's call 1, to `search`). */
  readonly calls?: readonly UnitDiff[];
}

export interface PromptFileChange {
  readonly path: string;
  readonly hash: readonly [string | null, string | null];
}

export interface RunDiff {
  readonly a: string;
  readonly b: string;
  /** The first step that differs, in run A's order; null when none does. */
  readonly firstDivergence: string | null;
  /** Every step of either run: the first divergence first, then A's order, then B's new steps. */
  readonly steps: readonly StepDiff[];
}

/** A unit (a step, an item, an iteration) in one run. */
interface Side {
  readonly state: StepAt | undefined;
  /** The unit's own attempts, in attempt order. */
  readonly attempts: readonly AttemptRecord[];
  readonly latencyMs: number | null;
}

/** One run read for the diff: its fold, and each unit's attempts and latency by unit key. */
class RunSide {
  readonly fold: RunFold;
  private readonly attempts = new Map<string, AttemptRecord[]>();
  private readonly started = new Map<string, number>();
  private readonly ended = new Map<string, number>();

  constructor(readonly r: RecordedRun) {
    this.fold = foldToEnd(r.events, r.attempts);
    for (const a of r.attempts) push(this.attempts, unitKey(a.stepId, a.scope), a);
    for (const list of this.attempts.values()) list.sort((x, y) => x.attempt - y.attempt);
    for (const e of r.events) {
      if (!e.stepId) continue;
      const key = unitKey(e.stepId, e.scope);
      if (e.type === "step_started" && !this.started.has(key))
        this.started.set(key, Date.parse(e.at));
      if (ENDS.test(e.type)) this.ended.set(key, Date.parse(e.at));
    }
  }

  /** The unit by its key; undefined state when the run never had it. */
  side(key: string): Side {
    const s = this.started.get(key);
    const t = this.ended.get(key);
    return {
      state: this.fold.unit(key),
      attempts: this.attempts.get(key) ?? [],
      latencyMs: s !== undefined && t !== undefined ? t - s : null,
    };
  }

  /** Whether the run's workflow declares `step` as an agent (its `#n` scopes are turns). */
  isAgent(step: string): boolean {
    this.types ??= stepTypes(this.r.source);
    return this.types.get(step) === "agent";
  }

  private types: Map<string, string> | undefined;

  /** Every attempt of the step, its items' and iterations' included. */
  allAttempts(stepId: string): AttemptRecord[] {
    const out = [...(this.attempts.get(stepId) ?? [])];
    for (const u of this.fold.units(stepId)) out.push(...(this.attempts.get(u.id) ?? []));
    return out;
  }
}

const ENDS = /^step_(succeeded|failed|cached|reused|cancelled)$/;

/** The type of each step of a recorded workflow source; empty when it does not parse. */
function stepTypes(source: string): Map<string, string> {
  const out = new Map<string, string>();
  try {
    const steps = (parse(source) as { steps?: Record<string, { type?: unknown }> } | null)?.steps;
    for (const [id, step] of Object.entries(steps ?? {}))
      if (typeof step?.type === "string") out.set(id, step.type);
  } catch {
    // A source that does not parse names no agent: its scopes read as iterations.
  }
  return out;
}

export function diffRuns(a: RecordedRun, b: RecordedRun): RunDiff {
  const sideA = new RunSide(a);
  const sideB = new RunSide(b);
  const idsA = [...sideA.fold.steps()].map((s) => s.id);
  const inA = new Set(idsA);
  const order = [...idsA, ...[...sideB.fold.steps()].map((s) => s.id).filter((id) => !inA.has(id))];
  const rows = order.map((id) => compareStep(id, sideA, sideB));
  const first = rows.find((r) => r.differs) ?? null;
  return {
    a: a.run.id,
    b: b.run.id,
    firstDivergence: first?.step ?? null,
    steps: first ? [first, ...rows.filter((r) => r !== first)] : rows,
  };
}

function compareStep(step: string, runA: RunSide, runB: RunSide): StepDiff {
  const a = runA.side(step);
  const b = runB.side(step);
  const last = (s: Side) => s.attempts.at(-1);
  const meta = (s: Side, key: string) =>
    (last(s)?.meta?.[key] as string | null | undefined) ?? null;
  const cost = (attempts: readonly AttemptRecord[]) => {
    const costs = attempts.map((x) => x.meta?.costUsd).filter((c) => typeof c === "number");
    return costs.length > 0 ? (costs as number[]).reduce((x, y) => x + y, 0) : null;
  };
  const own = compareUnit(a, b);
  const row = {
    step,
    status: own.status,
    inputEqual: own.inputEqual,
    outputEqual: own.outputEqual,
    latencyMs: own.latencyMs,
    costUsd: [cost(runA.allAttempts(step)), cost(runB.allAttempts(step))] as const,
    model: [meta(a, "model"), meta(b, "model")] as const,
    fingerprint: [meta(a, "fingerprint"), meta(b, "fingerprint")] as const,
  };
  const scopes = scopesOf(step, runA, runB, runA.isAgent(step) || runB.isAgent(step));
  const prompts = promptFileChanges(runA.r, last(a), runB.r, last(b));
  const differs =
    own.differs ||
    prompts.length > 0 ||
    row.model[0] !== row.model[1] ||
    row.fingerprint[0] !== row.fingerprint[1] ||
    [
      ...(scopes.items ?? []),
      ...(scopes.iterations ?? []),
      ...(scopes.turns ?? []),
      ...(scopes.calls ?? []),
    ].some((u) => u.differs);
  return { ...row, ...(prompts.length > 0 ? { promptFiles: prompts } : {}), differs, ...scopes };
}

/** The prompt files two attempts' inputs name whose hashes differ, by path. */
function promptFileChanges(
  ra: RecordedRun,
  a: AttemptRecord | undefined,
  rb: RecordedRun,
  b: AttemptRecord | undefined,
): PromptFileChange[] {
  const files = (r: RecordedRun, at: AttemptRecord | undefined) =>
    new Map(promptFileRefs(at ? r.text(at.inputHash) : undefined).map((f) => [f.path, f.hash]));
  const fa = files(ra, a);
  const fb = files(rb, b);
  const changes: PromptFileChange[] = [];
  for (const path of new Set([...fa.keys(), ...fb.keys()])) {
    const hash = [fa.get(path) ?? null, fb.get(path) ?? null] as const;
    if (hash[0] !== hash[1]) changes.push({ path, hash });
  }
  return changes;
}

/**
 * A step's items, by key in run A's list order and then B's new keys, and its own iterations, by
 * number; each item's iterations count toward whether it differs. Neither when the step has none.
 */
function scopesOf(
  step: string,
  runA: RunSide,
  runB: RunSide,
  agent: boolean,
): { items?: UnitDiff[]; iterations?: UnitDiff[]; turns?: UnitDiff[]; calls?: UnitDiff[] } {
  const scopes: string[] = [];
  const seen = new Set<string>();
  for (const run of [runA, runB]) {
    for (const u of run.fold.units(step)) {
      if (seen.has(u.scope!)) continue;
      seen.add(u.scope!);
      scopes.push(u.scope!);
    }
  }
  if (scopes.length === 0) return {};
  const unit = (scope: string, key: string): UnitDiff => {
    const full = unitKey(step, scope);
    return { key, ...compareUnit(runA.side(full), runB.side(full)) };
  };
  const iterationsOf = (base: string) =>
    scopes
      .filter((s) => s.startsWith(`${base}#`) && /^\d+$/.test(s.slice(base.length + 1)))
      .map((s) => unit(s, s.slice(base.length + 1)))
      .sort((x, y) => Number(x.key) - Number(y.key));
  const items = scopes
    .filter((s) => s.startsWith("[") && s.endsWith("]"))
    .map((s) => {
      const row = unit(s, s.slice(1, -1));
      return iterationsOf(s).some((i) => i.differs) ? { ...row, differs: true } : row;
    });
  const numbered = iterationsOf("");
  // An agent's turns are its `#t` scopes, and its tool calls `#t/<tool>.<i>`, by turn and index.
  const calls = agent
    ? scopes
        .filter((s) => /^#\d+\/.+\.\d+$/s.test(s))
        .map((s) => unit(s, s.slice(1)))
        .sort((x, y) => {
          const [tx, ix] = callOrder(x.key);
          const [ty, iy] = callOrder(y.key);
          return tx - ty || ix - iy;
        })
    : [];
  return {
    ...(items.length > 0 ? { items } : {}),
    ...(numbered.length > 0 ? (agent ? { turns: numbered } : { iterations: numbered }) : {}),
    ...(calls.length > 0 ? { calls } : {}),
  };
}

/** A tool call's key (`2/search.1`) as [turn, index]. */
function callOrder(key: string): [number, number] {
  return [Number(key.slice(0, key.indexOf("/"))), Number(key.slice(key.lastIndexOf(".") + 1))];
}

/** A unit in both runs: status, the last attempt's input, the output, the latency. */
function compareUnit(a: Side, b: Side): Omit<UnitDiff, "key"> {
  const inputEqual = a.attempts.at(-1)?.inputHash === b.attempts.at(-1)?.inputHash;
  const outputEqual = (a.state?.output ?? null) === (b.state?.output ?? null);
  const status = [a.state?.status ?? "absent", b.state?.status ?? "absent"] as const;
  return {
    status,
    inputEqual,
    outputEqual,
    latencyMs: [a.latencyMs, b.latencyMs] as const,
    differs: status[0] !== status[1] || !inputEqual || !outputEqual,
  };
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
