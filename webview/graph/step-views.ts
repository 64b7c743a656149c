// What each node shows that changes while the graph's shape does not: its state (live, recorded
// at the step-through's position, or compared between two runs). Kept outside React Flow's nodes
// on purpose: a step-through move then notifies the one or two nodes whose view changed, while
// React Flow's nodes, edges and store stay as they are (giving it new node objects costs every
// mounted node and edge a selector run, O(graph) per move; see docs/benchmarks.md).
import { createContext, useContext, useSyncExternalStore } from "react";
import type { StatusMessage } from "@keel/core/protocol/webview";
import type { AgentLanes } from "@keel/core/record/agent-lanes";

/** Step states by id, from a live run's status message or a recorded run's fold. */
export type States = StatusMessage["steps"];

/** How a step compares between two runs (diff mode). */
export type DiffMark = "same" | "changed" | "added" | "removed";

export interface StepView {
  readonly status: States[string]["status"];
  readonly durationMs?: number;
  readonly attempts?: number;
  readonly cached?: boolean;
  /** A map step's item count, once its list is known. */
  readonly items?: number;
  /** A map's items or a loop's iterations known so far, by status (the node's status strip). */
  readonly tally?: Tally;
  /** A loop's iterations' statuses by number (`[0]` is #1): the node's lane of cells. */
  readonly iterations?: readonly States[string]["status"][];
  /** An agent step's turns and tool calls: its node's summary and lanes (agent-lanes.tsx). */
  readonly agent?: AgentLanes;
  /** The step the step-through's current event concerns. */
  readonly current: boolean;
  /** Diff mode: how the step compares between the two runs, and whether it is the first divergence. */
  readonly diff?: DiffMark;
  readonly first: boolean;
}

export type Tally = NonNullable<States[string]["tally"]>;

export const PENDING: StepView = { status: "pending", current: false, first: false };

function same(a: StepView, b: StepView): boolean {
  return (
    a.status === b.status &&
    a.durationMs === b.durationMs &&
    a.attempts === b.attempts &&
    a.cached === b.cached &&
    a.items === b.items &&
    sameTally(a.tally, b.tally) &&
    sameList(a.iterations, b.iterations) &&
    sameLanes(a.agent, b.agent) &&
    a.current === b.current &&
    a.diff === b.diff &&
    a.first === b.first
  );
}

/** Same counts (the fold keeps a tally's object until it changes; a live status makes new ones). */
function sameTally(a: Tally | undefined, b: Tally | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return (
    a.pending === b.pending &&
    a.running === b.running &&
    a.succeeded === b.succeeded &&
    a.failed === b.failed &&
    a.skipped === b.skipped &&
    a.cancelled === b.cancelled
  );
}

/** The same turns and calls (a fold builds them anew on each move over the agent's events). */
function sameLanes(a: AgentLanes | undefined, b: AgentLanes | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.costUsd !== b.costUsd || a.turns.length !== b.turns.length) return false;
  return a.turns.every((t, i) => {
    const u = b.turns[i]!;
    return (
      t.turn === u.turn &&
      t.status === u.status &&
      t.ms === u.ms &&
      t.costUsd === u.costUsd &&
      t.calls.length === u.calls.length &&
      t.calls.every((c, j) => {
        const d = u.calls[j]!;
        return (
          c.name === d.name &&
          c.index === d.index &&
          c.status === d.status &&
          c.ms === d.ms &&
          c.refused === d.refused
        );
      })
    );
  });
}

function sameList<T>(a: readonly T[] | undefined, b: readonly T[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.every((x, i) => x === b[i]);
}

export class StepViews {
  private readonly views = new Map<string, StepView>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly everyListener = new Set<(ids: readonly string[]) => void>();

  get(id: string): StepView {
    return this.views.get(id) ?? PENDING;
  }

  subscribe(id: string, listener: () => void): () => void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** Told the steps whose views changed, after any did (the zoomed-out canvas draws them all). */
  subscribeAll(listener: (ids: readonly string[]) => void): () => void {
    this.everyListener.add(listener);
    return () => void this.everyListener.delete(listener);
  }

  /** Sets every step's view; only the steps whose view changed are told. */
  update(next: ReadonlyMap<string, StepView>): void {
    const changed: string[] = [];
    for (const [id, view] of next) {
      const old = this.views.get(id) ?? PENDING;
      if (same(old, view)) continue;
      this.views.set(id, view);
      changed.push(id);
    }
    for (const [id, old] of this.views) {
      if (next.has(id) || old === PENDING) continue;
      this.views.set(id, PENDING);
      changed.push(id);
    }
    this.tell(changed);
  }

  /** Sets the views of some steps, leaving the others as they are; only changed ones are told. */
  patch(next: ReadonlyMap<string, StepView>): void {
    const changed: string[] = [];
    for (const [id, view] of next) {
      if (same(this.views.get(id) ?? PENDING, view)) continue;
      this.views.set(id, view);
      changed.push(id);
    }
    this.tell(changed);
  }

  private tell(changed: readonly string[]): void {
    for (const id of changed) for (const listener of this.listeners.get(id) ?? []) listener();
    if (changed.length > 0) for (const listener of this.everyListener) listener(changed);
  }
}

export const StepViewsContext = createContext(new StepViews());

/** The view of one step, re-rendering its component only when that view changes. */
export function useStepView(id: string): StepView {
  const store = useContext(StepViewsContext);
  return useSyncExternalStore(
    (listener) => store.subscribe(id, listener),
    () => store.get(id),
  );
}
