// The replay debugger's threads (docs/debugger.md, "Call Stack"): one for the run, plus one per
// item or iteration in flight at the position (started and not ended, docs/dev/scopes.md). A
// unit keeps its thread id for the whole session, so a thread is the same while its item runs.
// An agent's turns and tool calls have no threads: their events are on their agent's thread (the
// run's, or its item's in a map of agents), whose frames show the turn and call (stack.ts).
// Reads only the fold and the log: no store access.
import type { RunFold, StepAt } from "../record/fold";
import { splitUnit, unitKey, type EventRecord } from "../record/records";
import type { Agents } from "./agents";

/** The run's own thread. */
export const RUN_THREAD = 1;

/** What a condition or the Item scope knows of an event's unit. */
export interface UnitFacts {
  /** The unit key, `summarize[doc-17]`. */
  readonly unit: string;
  readonly stepId: string;
  /** An item's key (`doc-17`). */
  readonly key?: string;
  /** An item's index in its list (from 0). */
  readonly index?: number;
  /** The step's item count. */
  readonly count?: number;
  /** An iteration's number (from 1). */
  readonly iteration?: number;
  /** An agent's turn (from 1), on a turn's or tool call's unit. */
  readonly turn?: number;
  /** On a tool call's unit: its tool (as its scope names it) and the call, `search.1`. */
  readonly tool?: string;
  readonly call?: string;
}

export class Threads {
  private readonly ids = new Map<string, number>();
  private readonly keys = new Map<number, string>();
  /** Per step id: its items' keys → index, from its (last) `expanded` event. */
  private readonly lists = new Map<
    string,
    { count: number; index: Map<string, number>; list: string | null }
  >();

  constructor(
    private readonly fold: RunFold,
    private readonly agents: Agents,
  ) {
    for (const e of fold.events) {
      if (e.type !== "expanded" || e.stepId === null) continue;
      const keys = Array.isArray(e.data?.keys) ? e.data.keys.map(String) : [];
      const count = typeof e.data?.count === "number" ? e.data.count : keys.length;
      const list = typeof e.data?.list === "string" ? e.data.list : null;
      this.lists.set(e.stepId, { count, index: new Map(keys.map((k, i) => [k, i])), list });
    }
  }

  /** The thread id of a unit (given on first asking, kept for the session). */
  idOf(unit: string): number {
    let id = this.ids.get(unit);
    if (id === undefined) {
      id = this.ids.size + RUN_THREAD + 1;
      this.ids.set(unit, id);
      this.keys.set(id, unit);
    }
    return id;
  }

  /** The unit a thread id stands for; undefined for the run's thread or an unknown id. */
  unitOf(threadId: number): string | undefined {
    return this.keys.get(threadId);
  }

  /**
   * The units in flight at the fold's position, in the order of their steps and units; the unit of
   * the current event joins them when it just ended (its end shows on its own thread).
   */
  inFlight(): StepAt[] {
    const out: StepAt[] = [];
    const e = this.fold.current;
    const current = e?.stepId && e.scope !== null ? unitKey(e.stepId, e.scope) : undefined;
    for (const s of this.fold.steps()) {
      if (s.status !== "running") continue;
      for (const u of this.fold.units(s.id))
        if ((u.status === "running" || u.id === current) && !this.agents.placeOf(s.id, u.scope))
          out.push(u);
    }
    return out;
  }

  /**
   * The thread of an event: its unit's when it has a scope, else the run's; a turn's or tool
   * call's, its agent's (the run's for an agent step, its item's in a map).
   */
  threadOfEvent(e: EventRecord | undefined): number {
    if (!e?.stepId || e.scope === null) return RUN_THREAD;
    const agent = this.agents.placeOf(e.stepId, e.scope)?.agent ?? unitKey(e.stepId, e.scope);
    return agent === e.stepId ? RUN_THREAD : this.idOf(agent);
  }

  /** Key, index and iteration of a unit (by its key); an agent's turn and tool call. */
  facts(unit: string): UnitFacts {
    const { stepId, scope } = splitUnit(unit);
    const place = this.agents.placeOf(stepId, scope);
    if (place) {
      const item = place.agent === stepId ? {} : this.facts(place.agent);
      return {
        ...item,
        unit,
        stepId,
        turn: place.turn,
        ...(place.call ? { tool: place.call.tool, call: place.call.name } : {}),
      };
    }
    if (scope?.startsWith("[")) {
      const key = scope.slice(1, -1);
      const list = this.lists.get(stepId);
      const index = list?.index.get(key);
      return {
        unit,
        stepId,
        key,
        ...(index === undefined ? {} : { index }),
        ...(list ? { count: list.count } : {}),
      };
    }
    if (scope?.startsWith("#")) return { unit, stepId, iteration: Number(scope.slice(1)) };
    return { unit, stepId };
  }

  /** The reference of a map step's list (its `expanded` event's `list`), null when none. */
  listOf(stepId: string): string | null {
    return this.lists.get(stepId)?.list ?? null;
  }

  /** `summarize[doc-17] (item 7 of 42)`, `refine#2 (iteration 2)`. */
  name(unit: string): string {
    const f = this.facts(unit);
    if (f.iteration !== undefined) return `${unit} (iteration ${f.iteration})`;
    if (f.index !== undefined)
      return `${unit} (item ${f.index + 1}${f.count === undefined ? "" : ` of ${f.count}`})`;
    return unit;
  }
}
