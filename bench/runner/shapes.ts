// The DAGs of the runner benchmark (docs/benchmarks.md, "Runner (#4)"), described once and handed
// to all three executors (Keel, the plain-Node floor, LangGraph.js) so they run exactly the same
// graph and compute the same values. Every step is trivial on purpose: the figures measure what an
// executor and its recording cost per step, not the work a step does.

export type Shape = "chain" | "fanout" | "layered";
export const SHAPES: readonly Shape[] = ["chain", "fanout", "layered"];

/** Steps per layer of the `layered` shape. */
export const LAYER_WIDTH = 10;

export interface Dag {
  readonly shape: Shape;
  readonly n: number;
  /** Step ids, in topological order. */
  readonly ids: readonly string[];
  /** Indices (into `ids`) of each step's direct dependencies. */
  readonly deps: readonly (readonly number[])[];
  /** Index of the step whose value checks the run. */
  readonly last: number;
  /** The value `last` must end with. */
  readonly expected: number;
}

/**
 * What every step computes, the same in every executor: a root is 1, the fan-out's join is the
 * sum of the middle steps plus 1 (so it proves that it saw every one of them), and any other step
 * is the largest of its dependencies plus 1 (a chain step is its predecessor plus 1).
 */
export function stepValue(dag: Dag, index: number, depValues: readonly number[]): number {
  if (depValues.length === 0) return 1;
  if (dag.shape === "fanout" && index === dag.n - 1) {
    let sum = 0;
    for (const v of depValues) sum += v;
    return sum + 1;
  }
  let max = depValues[0]!;
  for (const v of depValues) if (v > max) max = v;
  return max + 1;
}

/**
 * chain: s1 → s2 → … → sN.
 * fanout: src → m1 … m(N−2) → join (1 → N−2 → 1, N steps in all).
 * layered: N/10 layers of 10; step j of layer k needs steps j and j+1 (mod 10) of layer k−1, so
 *   every step has two dependencies and every layer is fully connected to the next within two hops.
 */
export function buildDag(shape: Shape, n: number): Dag {
  const ids: string[] = [];
  const deps: number[][] = [];
  if (shape === "chain") {
    for (let i = 0; i < n; i++) {
      ids.push(`s${i + 1}`);
      deps.push(i === 0 ? [] : [i - 1]);
    }
    return { shape, n, ids, deps, last: n - 1, expected: n };
  }
  if (shape === "fanout") {
    if (n < 3) throw new RangeError("a fan-out needs at least 3 steps");
    ids.push("src");
    deps.push([]);
    for (let i = 1; i < n - 1; i++) {
      ids.push(`m${i}`);
      deps.push([0]);
    }
    ids.push("join");
    deps.push(Array.from({ length: n - 2 }, (_, k) => k + 1));
    return { shape, n, ids, deps, last: n - 1, expected: 2 * (n - 2) + 1 };
  }
  if (n % LAYER_WIDTH !== 0) throw new RangeError(`layered needs a multiple of ${LAYER_WIDTH}`);
  for (let i = 0; i < n; i++) {
    const layer = Math.floor(i / LAYER_WIDTH);
    const col = i % LAYER_WIDTH;
    ids.push(`l${layer}_${col}`);
    const from = (layer - 1) * LAYER_WIDTH;
    deps.push(layer === 0 ? [] : [from + col, from + ((col + 1) % LAYER_WIDTH)]);
  }
  return { shape, n, ids, deps, last: n - 1, expected: n / LAYER_WIDTH };
}

/** The final value computed the reference way, to check the expected values above. */
export function referenceValue(dag: Dag): number {
  const values: number[] = [];
  for (let i = 0; i < dag.n; i++) {
    values.push(
      stepValue(
        dag,
        i,
        dag.deps[i]!.map((d) => values[d]!),
      ),
    );
  }
  return values[dag.last]!;
}

/**
 * The DAG as a Keel workflow of `transform` steps, or of `tool` steps (`effect`: a chain whose
 * every step goes through Effects, so each one waits for its inputs to be committed). Expressions
 * compute `stepValue`; the join of a fan-out names every middle step in one `$sum([…])` (a
 * step is read by name only: KEEL212). `outputs.final` carries the value to check.
 */
export function workflowYaml(dag: Dag, kind: "transform" | "effect"): string {
  const out = [
    "keel: 1",
    `name: runner bench ${dag.shape} ${dag.n}${kind === "effect" ? " effect" : ""}`,
    "steps:",
  ];
  for (let i = 0; i < dag.n; i++) {
    const id = dag.ids[i]!;
    const deps = dag.deps[i]!.map((d) => dag.ids[d]!);
    out.push(`  ${id}:`);
    if (kind === "effect") {
      if (dag.shape !== "chain") throw new Error("the effect variant is a chain only");
      out.push("    type: tool", "    uses: ./noop.js#run");
      out.push(
        deps.length === 0
          ? "    with: { x: 0 }"
          : `    with: { x: "\${{ steps.${deps[0]}.output }}" }`,
      );
      continue;
    }
    out.push("    type: transform");
    if (deps.length === 0) out.push("    expr: 1");
    else if (deps.length === 1) out.push(`    expr: steps.${deps[0]}.output + 1`);
    else {
      const refs = deps.map((d) => `steps.${d}.output`).join(", ");
      const join = dag.shape === "fanout" && i === dag.n - 1 ? "$sum" : "$max";
      out.push(`    expr: ${join}([${refs}]) + 1`);
    }
  }
  out.push("outputs:", `  final: steps.${dag.ids[dag.last]}.output`);
  return out.join("\n") + "\n";
}

/** The tool module the effect chain's `uses:` names; the bench's Effects answer in its place. */
export const NOOP_MODULE = "export function run({ x }) {\n  return x + 1;\n}\n";

/** What a worker process runs: Keel, the floor (each pure or with an effect per step), the peer. */
export const SYSTEMS = ["keel", "keel-effect", "floor", "floor-effect", "langgraph"] as const;
export type System = (typeof SYSTEMS)[number];

/** A worker's answer: wall time of each run in order (the first is cold), and its peak RSS. */
export interface WorkerResult {
  readonly ms: number[];
  readonly peakRssMb: number;
  /** Keel only: the peak RSS after loading, validation and the first run. */
  readonly firstRunRssMb?: number;
}
