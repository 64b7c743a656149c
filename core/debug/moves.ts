// The replay debugger's moves over a recorded run's event log (docs/debugger.md, "Keys and moves";
// #9). The position is an event index, held by the step-through fold (core/record/fold.ts), which
// gives the state at every stop. Invariants:
// - Every move lands on an event of the log: 0 (`run started`) … length - 1. Moving past either
//   end stays there, paused ("end of recording", "start of recording"): nothing terminates.
// - Forward moves and their reverse twins find the same stops in mirror order.
// - A stop never reads anything but the fold and the breakpoints: no store access, no effect.
import type { RunFold } from "../record/fold";
import { STEP_ENDING_EVENTS, type EventRecord } from "../record/records";
import type { Agents } from "./agents";

export type StopReason =
  "entry" | "step" | "breakpoint" | "function breakpoint" | "exception" | "goto" | "restart";

export interface Stop {
  readonly index: number;
  readonly reason: StopReason;
  /** Shown in the Call Stack's header. */
  readonly description: string;
  /** For an exception stop: the error message. */
  readonly text?: string;
  readonly hitBreakpointIds?: readonly number[];
}

/** The failure filters a user can turn on (DAP exception breakpoint filters). */
export const FAILURE_FILTERS = [
  { filter: "step-failed", label: "Step failed", default: false },
  { filter: "attempt-failed", label: "Attempt failed", default: false },
] as const;
export type FailureFilter = (typeof FAILURE_FILTERS)[number]["filter"];

/** A one-line description of an event, as the Call Stack names it (without its step). */
export function eventLabel(e: EventRecord): string {
  const d = e.data ?? {};
  const kind = typeof d.kind === "string" ? ` (${d.kind})` : "";
  switch (e.type) {
    case "run_started":
      return "run started";
    case "run_resumed":
      return "run resumed";
    case "run_finished":
      return `run finished (${typeof d.status === "string" ? d.status : "?"})`;
    case "finding":
      return `finding${typeof d.kind === "string" ? ` (${d.kind})` : ""}`;
    case "step_started":
      return "started";
    case "attempt_failed":
      return `attempt ${e.attempt ?? "?"} failed${kind}`;
    case "step_succeeded":
      return e.attempt !== null && e.attempt > 1
        ? `succeeded on attempt ${e.attempt}`
        : "succeeded";
    case "step_failed":
      return `failed${kind}${d.continued === true ? ", continued" : ""}`;
    case "expanded":
      return `${typeof d.count === "number" ? d.count : "?"} items`;
    case "child_started":
      return `child run ${typeof d.childRun === "string" ? d.childRun : "?"} started`;
    case "child_finished":
      return `child run ${typeof d.status === "string" ? d.status : "ended"}`;
    default:
      return e.type.replace(/^step_/, "");
  }
}

/**
 * `summarize · attempt 2 failed (rate_limit)`, `summarize[doc-17] · succeeded` for an item, or
 * the run event's label.
 */
export function describeEvent(e: EventRecord): string {
  return e.stepId === null ? eventLabel(e) : `${e.stepId}${e.scope ?? ""} · ${eventLabel(e)}`;
}

export class Moves {
  /** Breakpoint ids by step id, from lines and from function breakpoints. */
  private lineBreakpoints = new Map<string, number[]>();
  private functionBreakpoints = new Map<string, number[]>();
  /** Function breakpoints on an agent's tools: by agent step id, then by tool name. */
  private toolBreakpoints = new Map<string, ReadonlyMap<string, number[]>>();
  private filters = new Set<FailureFilter>();
  /** Which of the breakpoints at an event hold there (their conditions); all when unset. */
  private holding: (i: number, ids: readonly number[]) => Promise<readonly number[]> = (_, ids) =>
    Promise.resolve(ids);

  constructor(
    readonly fold: RunFold,
    /** Put before a stop's description: a child run's place in its parent (`per_doc[b] › `). */
    private readonly prefix: string,
    /** The agents' turns and tool calls in the log. */
    private readonly agents: Agents,
  ) {}

  get last(): number {
    return this.fold.length - 1;
  }

  setLineBreakpoints(byStep: ReadonlyMap<string, number[]>): void {
    this.lineBreakpoints = new Map(byStep);
  }

  /** Function breakpoints on steps, and on agents' tools (`research:refund`) by step and tool. */
  setFunctionBreakpoints(
    byStep: ReadonlyMap<string, number[]>,
    byTool: ReadonlyMap<string, ReadonlyMap<string, number[]>> = new Map(),
  ): void {
    this.functionBreakpoints = new Map(byStep);
    this.toolBreakpoints = new Map(byTool);
  }

  setConditions(holding: (i: number, ids: readonly number[]) => Promise<readonly number[]>): void {
    this.holding = holding;
  }

  setFilters(filters: Iterable<string>): void {
    this.filters = new Set(
      [...filters].filter((f): f is FailureFilter => FAILURE_FILTERS.some((x) => x.filter === f)),
    );
  }

  /** Moves the fold to `index` and describes the stop. */
  private stop(index: number, reason: StopReason, extra: Partial<Stop> = {}): Stop {
    this.fold.seek(index);
    const e = this.fold.events[index];
    const description =
      extra.description ??
      (e ? `${this.prefix}event ${e.seq} · ${describeEvent(e)}` : "empty recording");
    return { index, reason, ...extra, description };
  }

  /** A stop at event `index` (a move that crosses into or out of a child run lands there). */
  land(index: number, reason: StopReason): Stop {
    return this.stop(index, reason);
  }

  entry(): Stop {
    return this.stop(0, "entry");
  }

  atEnd(): Stop {
    return this.stop(this.last, "step", { description: "end of recording" });
  }

  atStart(): Stop {
    return this.stop(0, "entry", { description: "start of recording" });
  }

  /** Step Over: the next event. */
  next(): Stop {
    const k = this.fold.position;
    return k >= this.last ? this.atEnd() : this.stop(k + 1, "step");
  }

  /** Step Back: the previous event. */
  back(): Stop {
    const k = this.fold.position;
    return k <= 0 ? this.atStart() : this.stop(k - 1, "step");
  }

  /**
   * Step Into: on a map's or loop's own event, the first event of one of its items or iterations
   * after it (it enters the item); on an item's event, that item's next event; else the next
   * event of the same step. The next event when there is none. In an agent: from the agent's own
   * event its turn 1, from a turn or tool call its next event, then its agent's (agents.ts).
   */
  stepIn(): Stop {
    const next = this.intoTarget();
    return next >= 0 ? this.stop(next, "step") : this.next();
  }

  /** Where Step Into goes within this log: -1 when it goes to the next event. */
  intoTarget(): number {
    const e = this.fold.current;
    const k = this.fold.position;
    const inAgent = this.agents.into(k);
    if (inAgent !== undefined) return inAgent;
    let next = -1;
    if (e?.stepId && e.scope !== null) next = this.fold.nextEventOf(e.stepId + e.scope, k);
    else if (e?.stepId) {
      next = this.fold.nextEventOf(e.stepId, k);
      for (let i = next; i >= 0; i = this.fold.nextEventOf(e.stepId, i)) {
        if (this.fold.events[i]!.scope !== null) {
          next = i;
          break;
        }
      }
    }
    return next;
  }

  /**
   * Step Out: the event that ends the current step (the next event when it has ended); from an
   * item or iteration, the event that ends its step (the map's or loop's own end). From an
   * agent's tool call, the agent's first event after its turn's calls; from a turn, the agent's end.
   */
  stepOut(): Stop {
    const end = this.outTarget();
    return end >= 0 ? this.stop(end, "step") : this.next();
  }

  /** Where Step Out goes within this log: -1 when the current step has ended (or there is none). */
  outTarget(): number {
    const e = this.fold.current;
    const k = this.fold.position;
    const inAgent = this.agents.out(k);
    if (inAgent !== undefined) return inAgent;
    if (e?.stepId && (e.scope !== null || !STEP_ENDING_EVENTS.has(e.type))) {
      for (let i = this.fold.nextEventOf(e.stepId, k); i >= 0;) {
        const x = this.fold.events[i]!;
        if (STEP_ENDING_EVENTS.has(x.type) && x.scope === null) return i;
        i = this.fold.nextEventOf(e.stepId, i);
      }
    }
    return -1;
  }

  /** Jump to an event (Jump to Cursor, the graph panel). */
  goto(index: number): Stop {
    return this.stop(Math.max(0, Math.min(index, this.last)), "goto");
  }

  /** Restart Frame: the step's first event. */
  restart(stepId: string | null): Stop {
    const first = stepId === null ? 0 : this.fold.nextEventOf(stepId, -1);
    return this.stop(first < 0 ? 0 : first, "restart");
  }

  /** The indices of a step's events (Jump to Cursor's targets). */
  eventsOf(stepId: string): number[] {
    const out: number[] = [];
    for (let i = this.fold.nextEventOf(stepId, -1); i >= 0; i = this.fold.nextEventOf(stepId, i))
      out.push(i);
    return out;
  }

  /**
   * The events of a step where its breakpoints can stop, in log order: where the step, or one of
   * its items or iterations (an agent's turns and tool calls), begins; with `tool`, where the
   * agent's calls of that tool begin.
   */
  *beginnings(stepId: string, tool?: string): Generator<number> {
    for (let i = this.fold.nextEventOf(stepId, -1); i >= 0; i = this.fold.nextEventOf(stepId, i))
      if (this.begins(i) && (tool === undefined || this.toolAt(i) === tool)) yield i;
  }

  /** The tool of the agent's tool call event i is of; undefined for any other event. */
  private toolAt(i: number): string | undefined {
    const e = this.fold.events[i]!;
    return this.agents.placeOf(e.stepId, e.scope)?.call?.tool;
  }

  /**
   * A breakpoint holds where its step begins: its `step started`, or its first event when it
   * never started (skipped, reused); and likewise where each of its items or iterations begins.
   */
  private begins(i: number): boolean {
    const e = this.fold.events[i]!;
    if (e.stepId === null) return false;
    // An item's or iteration's own events only (a step's id names its units' too, all later).
    const unit = e.scope === null ? e.stepId : e.stepId + e.scope;
    return e.type === "step_started" || this.fold.previousEventOf(unit, i) < 0;
  }

  /** The stop at event i, if a breakpoint or an enabled filter holds there. */
  async hit(i: number): Promise<Stop | undefined> {
    const e = this.fold.events[i]!;
    if (
      (e.type === "step_failed" && this.filters.has("step-failed")) ||
      (e.type === "attempt_failed" && this.filters.has("attempt-failed"))
    ) {
      const d = e.data ?? {};
      return this.stop(i, "exception", {
        text: `${String(d.kind ?? "error")}: ${String(d.message ?? "")}`,
      });
    }
    if (e.stepId === null || !this.begins(i)) return undefined;
    const line = await this.holding(i, this.lineBreakpoints.get(e.stepId) ?? []);
    if (line.length) return this.stop(i, "breakpoint", { hitBreakpointIds: line });
    const fn = await this.holding(i, this.functionBreakpoints.get(e.stepId) ?? []);
    if (fn.length) return this.stop(i, "function breakpoint", { hitBreakpointIds: fn });
    const byTool = this.toolBreakpoints.get(e.stepId);
    const tool = byTool && this.toolAt(i);
    const onTool = tool === undefined ? [] : await this.holding(i, byTool?.get(tool) ?? []);
    if (onTool.length) return this.stop(i, "function breakpoint", { hitBreakpointIds: onTool });
    return undefined;
  }
}
