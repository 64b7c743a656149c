// Step-through data (docs/replay.md, "Step-through"; #5): a run's event log folded to any position,
// forwards and backwards. The one reader of a run's log: `keel show`, resume, `keel run --step`,
// replay, diff, the graph panel and the replay debugger all take a step's state from here. It lives
// apart from core/replay so that the runner (resume, `--step`) can use it: replay depends on the
// runner.
// Invariants:
// - The state at position k is the fold of events[0..k] (k = -1: before the first event).
// - The fold keeps one state per unit (docs/dev/scopes.md): a step itself, or one of its items or
//   iterations, keyed by unitKey(stepId, scope). `steps()` is the steps' own units only.
// - Each event changes at most one unit (or only the run); the fold keeps, per event, that unit's
//   state before and after it, so a move applies or undoes one delta: O(1), never a re-read. An
//   event of an item or iteration also moves it in its step's tally: the delta then holds the
//   step's own state before and after too (still O(1)).
// - Deltas are made once, the first time the fold moves past an event.
// Browser-safe: type imports and records.ts (which imports nothing) only (the webview and the
// debugger use it too).
import {
  itemScope,
  unitKey,
  type AttemptRecord,
  type EventRecord,
  type Origin,
  type RunStatus,
  type StepStatus,
} from "./records";

/** How many of a step's items or iterations are in each status. */
export type Tally = Readonly<Record<StepStatus, number>>;

const NO_UNITS: Tally = {
  pending: 0,
  running: 0,
  succeeded: 0,
  failed: 0,
  skipped: 0,
  cancelled: 0,
};

/**
 * A unit (a step itself, or one of its items or iterations) as it was at some position of its
 * run's log. Immutable: a move swaps whole states.
 */
export interface StepAt {
  /** The unit key: the step's id for the step itself, `summarize[doc-17]` for an item. */
  readonly id: string;
  /** The item or iteration (`[doc-17]`, `#2`); null for the step itself. */
  readonly scope: string | null;
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
  /** A `for_each` step's item count, once its `expanded` event is passed; null before and on a unit. */
  readonly items: number | null;
  /**
   * The step's items and iterations known at this position by status: the items its `expanded`
   * event named (pending until they start) and every unit that has had an event. Null on a step
   * with none and on a unit.
   */
  readonly tally: Tally | null;
  /** The child run this unit started (`child_started`); null when none. */
  readonly childRun: string | null;
}

export interface RunAt {
  /** `running` from the first event, the recorded status once `run_finished` is passed. */
  readonly status: RunStatus | "pending";
  readonly error: string | null;
  readonly findings: number;
}

const PENDING_RUN: RunAt = { status: "pending", error: null, findings: 0 };

interface Delta {
  /** The unit the event changed; null: the run. */
  readonly key: string | null;
  readonly before: StepAt | RunAt;
  readonly after: StepAt | RunAt;
  /** An item's or iteration's event moving it in its step's tally: the step's own states. */
  readonly step?: { readonly before: StepAt; readonly after: StepAt };
}

/** Where a step's item or iteration first shows in the log. */
interface UnitInfo {
  readonly scope: string;
  /** Index of its first event, or of the `expanded` event that named it if that came first. */
  readonly knownAt: number;
}

/** A step (`scope` null) or a unit of it (`id` its unit key) before any event: pending. */
export function pendingStep(id: string, scope: string | null = null): StepAt {
  return {
    id,
    scope,
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
    items: null,
    tally: null,
    childRun: null,
  };
}

export class RunFold {
  /** The steps' own units, in order of first appearance. */
  private readonly stepStates = new Map<string, StepAt>();
  /** Items and iterations by unit key, each added on its first event (or first read). */
  private readonly unitStates = new Map<string, StepAt>();
  private runState: RunAt = PENDING_RUN;
  private readonly deltas: Delta[] = [];
  /** A unit's attempt records by attempt number (no string key to build per lookup). */
  private readonly attemptsByUnit = new Map<string, AttemptRecord[]>();
  /** Event indices by step id (all of the step's events) and by an item's or iteration's key. */
  private readonly stepEvents = new Map<string, number[]>();
  private readonly unitInfo = new Map<string, UnitInfo>();
  /** A step's items and iterations (their scopes) in order of first showing. */
  private readonly scopesOf = new Map<string, string[]>();
  /** Where each of them first shows (UnitInfo.knownAt), in the same order: never decreasing. */
  private readonly knownAtOf = new Map<string, number[]>();
  /** A step's known unit keys, in `units` order, by how many of its units are known. */
  private readonly keysCache = new Map<
    string,
    { readonly count: number; readonly keys: string[] }
  >();
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
      const key = unitKey(a.stepId, a.scope);
      let list = this.attemptsByUnit.get(key);
      if (!list) this.attemptsByUnit.set(key, (list = []));
      list[a.attempt] = a;
    }
    for (const id of stepIds) this.stepStates.set(id, pendingStep(id));
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const id = e.stepId;
      if (id === null) continue;
      if (!this.stepStates.has(id)) this.stepStates.set(id, pendingStep(id));
      push(this.stepEvents, id, i);
      if (e.scope !== null) {
        push(this.stepEvents, unitKey(id, e.scope), i);
        this.know(id, e.scope, i);
      } else if (e.type === "expanded") {
        for (const k of keysOf(e)) this.know(id, itemScope(k), i);
      }
    }
  }

  private know(stepId: string, scope: string, i: number): void {
    const key = unitKey(stepId, scope);
    if (this.unitInfo.has(key)) return;
    this.unitInfo.set(key, { scope, knownAt: i });
    push(this.scopesOf, stepId, scope);
    push(this.knownAtOf, stepId, i);
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

  /** The state of one step (its own unit) at the current position. */
  step(id: string): StepAt | undefined {
    return this.stepStates.get(id);
  }

  /** Every step's own state at the current position, in order of first appearance. */
  steps(): IterableIterator<StepAt> {
    return this.stepStates.values();
  }

  /**
   * One unit's state at the current position, by its unit key (`summarize[doc-17]`, `refine#2`,
   * or a step's id for the step itself); pending before its first event. Undefined for a key the
   * log never names.
   */
  unit(key: string): StepAt | undefined {
    const own = this.stepStates.get(key);
    if (own) return own;
    const info = this.unitInfo.get(key);
    return info && this.unitState(key, info);
  }

  /**
   * A step's items and iterations known at the current position (named by a passed `expanded`
   * event, or with an event passed), in the order they became known: a map's `expanded` event
   * (before any item's) names its items in the list's order; then iterations by number.
   */
  units(stepId: string): StepAt[] {
    return this.unitKeys(stepId).map((key) => this.unit(key)!);
  }

  /**
   * The unit keys of `units(stepId)`, without their states: O(log n) a call while the known
   * units stay the same (a move within a map), so a view can read the states of the units it
   * shows only (the graph panel's virtualised item list). The array is shared: do not change it.
   */
  unitKeys(stepId: string): readonly string[] {
    const scopes = this.scopesOf.get(stepId);
    if (!scopes) return [];
    // Units are added in the order they first show, so those known here are a prefix.
    const knownAt = this.knownAtOf.get(stepId)!;
    let lo = 0;
    let hi = knownAt.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (knownAt[mid]! <= this.pos) lo = mid + 1;
      else hi = mid;
    }
    const cached = this.keysCache.get(stepId);
    if (cached?.count === lo) return cached.keys;
    let ordered = scopes.slice(0, lo);
    const iterations = ordered.filter(isNumbered).sort(byNumber);
    if (iterations.length > 0) ordered = [...ordered.filter((s) => !isNumbered(s)), ...iterations];
    const keys = ordered.map((s) => unitKey(stepId, s));
    this.keysCache.set(stepId, { count: lo, keys });
    return keys;
  }

  /**
   * The attempt record of a unit's attempt `n` (its input, output, timings, provider metadata),
   * by its unit key (a step's id for the step itself).
   */
  attemptOf(key: string, n: number): AttemptRecord | undefined {
    return this.attemptsByUnit.get(key)?.[n];
  }

  /** Applies the next event; false at the end. */
  forward(): boolean {
    if (this.pos + 1 >= this.events.length) return false;
    this.pos++;
    const delta = this.deltas[this.pos] ?? this.makeDelta(this.pos);
    this.set(delta.key, delta.after);
    if (delta.step) this.set(delta.step.after.id, delta.step.after);
    return true;
  }

  /** Undoes the current event; false before the first. */
  back(): boolean {
    if (this.pos < 0) return false;
    const delta = this.deltas[this.pos]!;
    if (delta.step) this.set(delta.step.before.id, delta.step.before);
    this.set(delta.key, delta.before);
    this.pos--;
    return true;
  }

  /** Moves to position `k` (clamped to -1 … length - 1), one delta at a time. */
  seek(k: number): void {
    const target = Math.max(-1, Math.min(k, this.events.length - 1));
    while (this.pos < target) this.forward();
    while (this.pos > target) this.back();
  }

  /**
   * Index of the next event after `from` (default: the current position) that concerns `stepId`;
   * -1 if none. A step's id names its own events and its units'; a unit key with a scope
   * (`summarize[doc-17]`) names that unit's only.
   */
  nextEventOf(stepId: string, from = this.pos): number {
    return nextIn(this.stepEvents.get(stepId) ?? [], from);
  }

  /** Index of the previous event before `from` (default: the current position) that concerns `stepId` (as in nextEventOf); -1 if none. */
  previousEventOf(stepId: string, from = this.pos): number {
    return previousIn(this.stepEvents.get(stepId) ?? [], from);
  }

  /** Index of the first `attempt_failed` or `step_failed` event; -1 if the run has none. */
  firstFailure(): number {
    return this.events.findIndex((e) => e.type === "attempt_failed" || e.type === "step_failed");
  }

  private set(key: string | null, state: StepAt | RunAt): void {
    if (key === null) this.runState = state as RunAt;
    else if ((state as StepAt).scope === null) this.stepStates.set(key, state as StepAt);
    else this.unitStates.set(key, state as StepAt);
  }

  /** An item's or iteration's state, added as pending when first asked for. */
  private unitState(key: string, info: UnitInfo): StepAt {
    let s = this.unitStates.get(key);
    if (!s) this.unitStates.set(key, (s = pendingStep(key, info.scope)));
    return s;
  }

  /** The delta of event i, from the state just before it (all earlier deltas exist). */
  private makeDelta(i: number): Delta {
    const e = this.events[i]!;
    let delta: Delta;
    if (e.stepId === null || e.type === "finding") {
      const before = this.runState;
      delta = { key: null, before, after: applyToRun(before, e) };
    } else if (e.scope === null) {
      const before = this.stepStates.get(e.stepId)!;
      let after = this.applyToStep(before, e);
      if (e.type === "expanded") after = this.expand(after, e, i);
      delta = { key: e.stepId, before, after };
    } else {
      const key = unitKey(e.stepId, e.scope);
      const info = this.unitInfo.get(key)!;
      const before = this.unitState(key, info);
      const after = this.applyToStep(before, e);
      // The unit leaves its old status in the step's tally (unless this is where it first shows)
      // and joins its new one.
      const own = this.stepStates.get(e.stepId)!;
      const tally = { ...(own.tally ?? NO_UNITS) };
      if (info.knownAt < i) tally[before.status]--;
      tally[after.status]++;
      const moved = own.tally === null || info.knownAt === i || before.status !== after.status;
      delta = moved
        ? { key, before, after, step: { before: own, after: { ...own, tally } } }
        : { key, before, after };
    }
    this.deltas[i] = delta;
    return delta;
  }

  /** A step's `expanded` event: its item count, and the items it names first join its tally. */
  private expand(s: StepAt, e: EventRecord, i: number): StepAt {
    const keys = keysOf(e);
    const count = typeof e.data?.count === "number" ? e.data.count : keys.length;
    let named = 0;
    for (const k of new Set(keys)) {
      if (this.unitInfo.get(unitKey(s.id, itemScope(k)))!.knownAt === i) named++;
    }
    const tally = s.tally ?? NO_UNITS;
    return { ...s, items: count, tally: { ...tally, pending: tally.pending + named } };
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
          // A success made of its items' or iterations' has no attempt of its own (attempt
          // null); a reused step without one counts one.
          attempts: Math.max(s.attempts, e.attempt ?? (e.type === "step_succeeded" ? 0 : 1)),
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
      case "child_started":
      case "child_finished":
        return { ...base, childRun: typeof d.childRun === "string" ? d.childRun : s.childRun };
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

/** The item keys an `expanded` event names, in list order. */
function keysOf(e: EventRecord): string[] {
  const keys = e.data?.keys;
  return Array.isArray(keys) ? keys.map(String) : [];
}

/** A loop's iteration (`#2`), an agent's turn (`#2`) or one of its tool calls (`#2/search.0`). */
const isNumbered = (scope: string) => scope.startsWith("#");
const isIteration = (scope: string) => isNumbered(scope) && !scope.includes("/");
const iterationOf = (scope: string) => Number(scope.slice(1));

/** Numbered scopes by turn (iteration), the turn before its tool calls, the calls by index. */
function byNumber(a: string, b: string): number {
  const [ta, ia] = numbersOf(a);
  const [tb, ib] = numbersOf(b);
  return ta - tb || ia - ib;
}

function numbersOf(scope: string): [number, number] {
  const slash = scope.indexOf("/");
  if (slash < 0) return [Number(scope.slice(1)), -1];
  return [Number(scope.slice(1, slash)), Number(scope.slice(scope.lastIndexOf(".") + 1))];
}

/**
 * A loop's iterations' statuses at the fold's position, by number: `[0]` is #1 (a number not yet
 * known is pending). Empty for a step without iterations. The graph panel's lane of cells.
 */
export function iterationStatuses(fold: RunFold, stepId: string): StepStatus[] {
  const out: StepStatus[] = [];
  for (const u of fold.units(stepId)) {
    if (u.scope === null || !isIteration(u.scope)) continue;
    const n = iterationOf(u.scope);
    while (out.length < n - 1) out.push("pending");
    out[n - 1] = u.status;
  }
  return out;
}

/** How many numbers of the ascending `list` are below `bound` (a binary search). */
function countBelow(list: readonly number[], bound: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < bound) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first number of the ascending integer `list` greater than `from`; -1 when none. */
export function nextIn(list: readonly number[], from: number): number {
  const n = countBelow(list, from + 1);
  return n < list.length ? list[n]! : -1;
}

/** The last number of the ascending integer `list` less than `from`; -1 when none. */
export function previousIn(list: readonly number[], from: number): number {
  const n = countBelow(list, from);
  return n > 0 ? list[n - 1]! : -1;
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
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
