// A layered placement of the step graph, cheap enough to draw 1,000 steps at once (docs/editor.md,
// "The graph panel"): column = the step's rank, row = its place in the column, ordered by the
// barycentre of its neighbours in the next column over, a few sweeps each way to undo edge
// crossings. Steps on or behind a cycle have no rank: they get one column after the others, in file
// order, so a broken file still shows every step. A layout library may refine this later; this one
// answers in milliseconds and depends on nothing.
import type { StepGraph } from "./graph";

export interface Placement {
  readonly column: number;
  readonly row: number;
}

export function placeLayered(graph: StepGraph, sweeps = 4): Map<string, Placement> {
  const columns = columnsOf(graph);
  const row = new Map<string, number>();
  const renumber = (column: string[]) => column.forEach((id, i) => row.set(id, i));
  columns.forEach(renumber);
  for (let s = 0; s < sweeps; s++) {
    for (let c = 1; c < columns.length; c++) {
      columns[c] = byBarycentre(columns[c]!, row, (id) => graph.deps.get(id)!);
      renumber(columns[c]!);
    }
    for (let c = columns.length - 2; c >= 0; c--) {
      columns[c] = byBarycentre(columns[c]!, row, (id) => graph.dependents.get(id)!);
      renumber(columns[c]!);
    }
  }
  const out = new Map<string, Placement>();
  columns.forEach((column, c) => column.forEach((id, r) => out.set(id, { column: c, row: r })));
  return out;
}

function columnsOf(graph: StepGraph): string[][] {
  const columns: string[][] = [];
  const unranked: string[] = [];
  for (const id of graph.ids) {
    const rank = graph.rank.get(id);
    if (rank === undefined) {
      unranked.push(id);
      continue;
    }
    while (columns.length <= rank) columns.push([]);
    columns[rank]!.push(id);
  }
  if (unranked.length > 0) columns.push(unranked);
  return columns;
}

/**
 * The column sorted by the mean row of each step's neighbours; a step without placed neighbours
 * keeps its row, and ties keep the current order, so the result is deterministic.
 */
function byBarycentre(
  column: readonly string[],
  row: ReadonlyMap<string, number>,
  neighbours: (id: string) => readonly string[],
): string[] {
  const keyed = column.map((id, i) => {
    let sum = 0;
    let n = 0;
    for (const other of neighbours(id)) {
      const r = row.get(other);
      if (r === undefined) continue;
      sum += r;
      n++;
    }
    return { id, i, key: n > 0 ? sum / n : i };
  });
  keyed.sort((a, b) => a.key - b.key || a.i - b.i);
  return keyed.map((k) => k.id);
}
