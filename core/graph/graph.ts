// The step graph: a step depends on the steps in its `needs` and on every step its expressions
// reference. Everything here is iterative (no recursion), so a 5,000-step chain is fine.
import type { Span } from "../model/diagnostic";

export interface Edge {
  /** The step that depends. */
  readonly from: string;
  /** The step it depends on. */
  readonly to: string;
  readonly via: "needs" | "expression";
  /** Where the dependency is written. */
  readonly span: Span;
}

export interface StepGraph {
  /** Step ids in file order. */
  readonly ids: readonly string[];
  /** Direct dependencies of each step, deduplicated, in first-mention order. */
  readonly deps: ReadonlyMap<string, readonly string[]>;
  /** Direct dependents of each step. */
  readonly dependents: ReadonlyMap<string, readonly string[]>;
  readonly edges: readonly Edge[];
  /** Strongly connected components that are cycles (size > 1, or a step that needs itself). */
  readonly cycles: readonly (readonly string[])[];
  /** Rank of each step: 0 for steps without dependencies, else 1 + the highest rank it needs. Steps on a cycle have none. */
  readonly rank: ReadonlyMap<string, number>;
  /** A topological order of the acyclic part (dependencies first, file order among equals). */
  readonly order: readonly string[];
}

export function buildGraph(ids: readonly string[], edges: readonly Edge[]): StepGraph {
  const known = new Set(ids);
  const deps = new Map<string, string[]>(ids.map((id) => [id, []]));
  const dependents = new Map<string, string[]>(ids.map((id) => [id, []]));
  const seen = new Set<string>();
  const kept: Edge[] = [];
  for (const e of edges) {
    if (!known.has(e.from) || !known.has(e.to)) continue;
    kept.push(e);
    const key = `${e.from}\u0000${e.to}`;
    if (seen.has(key)) continue;
    seen.add(key);
    deps.get(e.from)!.push(e.to);
    dependents.get(e.to)!.push(e.from);
  }
  const cycles = findCycles(ids, deps);
  const { order, rank } = topoOrder(ids, deps, dependents);
  return { ids, deps, dependents, edges: kept, cycles, rank, order };
}

/** Kahn's algorithm; steps on or behind a cycle are left out of `order` and `rank`. */
function topoOrder(
  ids: readonly string[],
  deps: ReadonlyMap<string, readonly string[]>,
  dependents: ReadonlyMap<string, readonly string[]>,
): { order: string[]; rank: Map<string, number> } {
  const remaining = new Map(ids.map((id) => [id, deps.get(id)!.length]));
  const rank = new Map<string, number>();
  const order: string[] = [];
  const queue = ids.filter((id) => remaining.get(id) === 0);
  for (const id of queue) rank.set(id, 0);
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head]!;
    order.push(id);
    for (const next of dependents.get(id)!) {
      rank.set(next, Math.max(rank.get(next) ?? 0, rank.get(id)! + 1));
      const left = remaining.get(next)! - 1;
      remaining.set(next, left);
      if (left === 0) queue.push(next);
    }
  }
  const ordered = new Set(order);
  for (const id of ids) if (!ordered.has(id)) rank.delete(id);
  return { order, rank };
}

/** Tarjan's strongly connected components, iteratively. */
export function findCycles(
  ids: readonly string[],
  deps: ReadonlyMap<string, readonly string[]>,
): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let counter = 0;
  for (const root of ids) {
    if (index.has(root)) continue;
    const work: { id: string; next: number }[] = [{ id: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const out = deps.get(frame.id)!;
      if (frame.next < out.length) {
        const w = out[frame.next++]!;
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ id: w, next: 0 });
        } else if (onStack.has(w)) low.set(frame.id, Math.min(low.get(frame.id)!, index.get(w)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(frame.id)!));
      if (low.get(frame.id) === index.get(frame.id)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(w);
        } while (w !== frame.id);
        if (component.length > 1 || out.includes(frame.id)) cycles.push(component.reverse());
      }
    }
  }
  return cycles;
}

/** A shortest cycle through `start` inside `component`, as `[start, …, start]`. */
export function cycleThrough(
  start: string,
  component: ReadonlySet<string>,
  deps: ReadonlyMap<string, readonly string[]>,
): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head]!;
    for (const next of deps.get(id) ?? []) {
      if (!component.has(next)) continue;
      if (next === start) {
        const path = [start];
        for (let at = id; at !== start; at = parent.get(at)!) path.push(at);
        path.push(start);
        // `deps` points from a step to what it needs; show it in the direction of "needs".
        return [start, ...path.slice(1, -1).reverse(), start];
      }
      if (!parent.has(next)) {
        parent.set(next, id);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

/** The graph restricted to `keep`: only the edges between kept steps remain. */
export function subgraph(graph: StepGraph, keep: ReadonlySet<string>): StepGraph {
  return buildGraph(
    graph.ids.filter((id) => keep.has(id)),
    graph.edges.filter((e) => keep.has(e.from) && keep.has(e.to)),
  );
}

/** `id` and every step it depends on, directly or not. */
export function withAncestors(graph: StepGraph, id: string): Set<string> {
  return closure(graph.deps, id);
}

/** `id` and every step that depends on it, directly or not. */
export function withDescendants(graph: StepGraph, id: string): Set<string> {
  return closure(graph.dependents, id);
}

function closure(edges: ReadonlyMap<string, readonly string[]>, id: string): Set<string> {
  const out = new Set<string>();
  const stack = [id];
  while (stack.length > 0) {
    const at = stack.pop()!;
    if (out.has(at)) continue;
    out.add(at);
    stack.push(...(edges.get(at) ?? []));
  }
  return out;
}
