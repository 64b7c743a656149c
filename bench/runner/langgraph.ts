// LangGraph.js, the peer: the same DAG as a StateGraph, one node per step, with `SqliteSaver` as
// checkpointer (its own defaults: a checkpoint per superstep, durability "async"). The state has a
// fixed number of channels whatever N is, so that what grows with N is LangGraph's own work and not
// a state this bench made bigger:
// - chain: one channel `value`, each node sets it to value + 1;
// - fanout: `source`, then every middle node adds source + 1 into `sum` (a reducer, as parallel writers
//   to one channel must), and the join, after all of them (an edge from the list of middle nodes
//   is LangGraph's barrier), sets `final` to sum + 1;
// - layered: channels c0…c9, node j of layer k reads c_j and c_(j+1) and writes c_j; layers are
//   supersteps, so every node reads the previous layer's values.
import { join } from "node:path";
import { Annotation, END, START, StateGraph, type StateDefinition } from "@langchain/langgraph";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { LAYER_WIDTH, stepValue, type Dag } from "./shapes";

type State = Record<string, number>;
type Node = (state: State) => State;

function channels(names: readonly string[], summed: readonly string[] = []): StateDefinition {
  const spec: StateDefinition = {};
  for (const name of names) spec[name] = Annotation<number>();
  for (const name of summed) {
    spec[name] = Annotation<number>({ reducer: (a: number, b: number) => a + b, default: () => 0 });
  }
  return spec;
}

interface Built {
  readonly spec: StateDefinition;
  readonly nodes: [string, Node][];
  readonly edges: [string | string[], string][];
  readonly input: State;
  /** The channel holding the value of `dag.last` at the end. */
  readonly result: string;
}

function build(dag: Dag): Built {
  const { ids, deps } = dag;
  const nodes: [string, Node][] = [];
  const edges: [string | string[], string][] = [];
  if (dag.shape === "chain") {
    for (let i = 0; i < dag.n; i++) {
      nodes.push([ids[i]!, (s) => ({ value: stepValue(dag, i, i === 0 ? [] : [s.value!]) })]);
      edges.push([i === 0 ? START : ids[i - 1]!, ids[i]!]);
    }
    edges.push([ids[dag.n - 1]!, END]);
    return { spec: channels(["value"]), nodes, edges, input: { value: 0 }, result: "value" };
  }
  if (dag.shape === "fanout") {
    const last = dag.n - 1;
    const mids = ids.slice(1, last);
    nodes.push([ids[0]!, () => ({ source: stepValue(dag, 0, []) })]);
    edges.push([START, ids[0]!]);
    for (let i = 1; i < last; i++) {
      nodes.push([ids[i]!, (s) => ({ sum: stepValue(dag, i, [s.source!]) })]);
      edges.push([ids[0]!, ids[i]!]);
    }
    // The sum of the middle values arrives as one number: stepValue adds it and 1.
    nodes.push([ids[last]!, (s) => ({ final: stepValue(dag, last, [s.sum!]) })]);
    edges.push([mids, ids[last]!], [ids[last]!, END]);
    return {
      spec: channels(["source", "final"], ["sum"]),
      nodes,
      edges,
      input: { source: 0 },
      result: "final",
    };
  }
  const cols = Array.from({ length: LAYER_WIDTH }, (_, j) => `c${j}`);
  for (let i = 0; i < dag.n; i++) {
    const col = cols[i % LAYER_WIDTH]!;
    const from = deps[i]!.map((d) => cols[d % LAYER_WIDTH]!);
    nodes.push([
      ids[i]!,
      (s) => ({
        [col]: stepValue(
          dag,
          i,
          from.map((c) => s[c]!),
        ),
      }),
    ]);
    if (from.length === 0) edges.push([START, ids[i]!]);
    else edges.push([deps[i]!.map((d) => ids[d]!), ids[i]!]);
    if (i >= dag.n - LAYER_WIDTH) edges.push([ids[i]!, END]);
  }
  const input: State = {};
  for (const c of cols) input[c] = 0;
  return { spec: channels(cols), nodes, edges, input, result: cols[(dag.n - 1) % LAYER_WIDTH]! };
}

/**
 * One timed run: only `invoke` is timed, as only `runWorkflow` is on Keel's side (building and
 * compiling the graph is the counterpart of Keel's untimed validation). The saver creates its
 * tables on its first use, inside the first run; Keel's store migrates when it opens.
 */
let saver: SqliteSaver | undefined;

export async function runLangGraphOnce(dag: Dag, dir: string, rep: number): Promise<number> {
  const b = build(dag);
  // One database per process, like Keel's store; each run is a thread of its own.
  saver ??= SqliteSaver.fromConnString(join(dir, "langgraph.sqlite"));
  const graph = new StateGraph(Annotation.Root(b.spec)).addNode(b.nodes);
  for (const [from, to] of b.edges) graph.addEdge(from, to);
  const app = graph.compile({ checkpointer: saver });
  const start = performance.now();
  const out = (await app.invoke(b.input, {
    configurable: { thread_id: `bench-${dag.shape}-${dag.n}-${rep}` },
    // Supersteps, not steps, count against the limit: a chain has N of them.
    recursionLimit: dag.n + 10,
  })) as State;
  const ms = performance.now() - start;
  if (out[b.result] !== dag.expected)
    throw new Error(`langgraph: final value ${String(out[b.result])}, not ${dag.expected}`);
  return ms;
}
