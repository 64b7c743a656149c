// The layered placement the graph panel draws first: columns by rank, rows ordered to undo
// crossings, every step placed once, cycles included.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { buildGraph, type Edge } from "@keel/core/graph/graph";
import { placeLayered } from "@keel/core/graph/layers";

const span = { start: 0, end: 0 };
function graphOf(ids: string[], deps: [string, string][]) {
  const edges: Edge[] = deps.map(([from, to]) => ({ from, to, via: "needs", span }));
  return buildGraph(ids, edges);
}

/** Edge pairs that cross between columns c and c + 1. */
function crossings(g: ReturnType<typeof graphOf>, at: ReturnType<typeof placeLayered>): number {
  const spans = g.edges
    .map((e) => [at.get(e.to)!, at.get(e.from)!] as const)
    .filter(([a, b]) => b.column === a.column + 1);
  let n = 0;
  for (let i = 0; i < spans.length; i++)
    for (let j = i + 1; j < spans.length; j++) {
      const [a1, b1] = spans[i]!;
      const [a2, b2] = spans[j]!;
      if (a1.column === a2.column && (a1.row - a2.row) * (b1.row - b2.row) < 0) n++;
    }
  return n;
}

test("a chain is one row, a column per step", () => {
  const g = graphOf(
    ["a", "b", "c"],
    [
      ["b", "a"],
      ["c", "b"],
    ],
  );
  const at = placeLayered(g);
  assert.deepEqual(
    ["a", "b", "c"].map((id) => at.get(id)),
    [
      { column: 0, row: 0 },
      { column: 1, row: 0 },
      { column: 2, row: 0 },
    ],
  );
});

test("rows are reordered so that edges written crosswise in the file do not cross", () => {
  // a → y and b → x, with x written before y: in file order the two edges cross.
  const g = graphOf(
    ["a", "b", "x", "y"],
    [
      ["y", "a"],
      ["x", "b"],
    ],
  );
  const unordered = new Map(
    g.ids.map((id) => [id, { column: g.rank.get(id)!, row: "abxy".indexOf(id) % 2 }]),
  );
  assert.equal(crossings(g, unordered), 1);
  const at = placeLayered(g);
  assert.equal(crossings(g, at), 0);
});

test("steps on a cycle get a column after the others, and nothing is left out", () => {
  const g = graphOf(
    ["a", "b", "c", "d"],
    [
      ["b", "a"],
      ["c", "d"],
      ["d", "c"],
    ],
  );
  const at = placeLayered(g);
  assert.deepEqual(at.get("c"), { column: 2, row: 0 });
  assert.deepEqual(at.get("d"), { column: 2, row: 1 });
});

test("every step is placed once, in its rank's column, on a free cell (random DAGs)", () => {
  fc.assert(
    fc.property(
      fc
        .integer({ min: 1, max: 40 })
        .chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 3 * n }),
          ),
        ),
      ([n, pairs]) => {
        const ids = Array.from({ length: n }, (_, i) => `s${i}`);
        // Edges only from a later step to an earlier one: a DAG.
        const deps = pairs
          .filter(([a, b]) => a > b)
          .map(([a, b]) => [ids[a]!, ids[b]!] as [string, string]);
        const g = graphOf(ids, deps);
        const at = placeLayered(g);
        assert.equal(at.size, n);
        const cells = new Set<string>();
        for (const id of ids) {
          const p = at.get(id)!;
          assert.equal(p.column, g.rank.get(id));
          cells.add(`${p.column}:${p.row}`);
        }
        assert.equal(cells.size, n);
      },
    ),
    { numRuns: 300 },
  );
});
