// LangGraph.js, the peer of the maps benchmark: the same map-reduce as Keel's pure map, written the
// way LangGraph does it: a `split` node returns the list, a conditional edge sends one `Send` per
// item to a `double` node (its input is `{ item }`), whose results a reducer gathers into
// `results`, and `reduce` sums them. Checkpointer: SqliteSaver with its defaults. Without the map,
// `split` goes straight to `reduce`, which sums the list doubled.
import { join } from "node:path";
import { Annotation, END, START, Send, StateGraph } from "@langchain/langgraph";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { pureTotal } from "./workflows";

interface Result {
  readonly key: number;
  readonly value: number;
}

const State = Annotation.Root({
  n: Annotation<number>(),
  list: Annotation<number[]>(),
  results: Annotation<Result[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  sum: Annotation<number>(),
});
type S = typeof State.State;

function graph(saver: SqliteSaver, map: boolean) {
  const split = (s: S) => ({ list: Array.from({ length: s.n }, (_, i) => i + 1) });
  if (!map) {
    return new StateGraph(State)
      .addNode("split", split)
      .addNode("reduce", (s: S) => ({ sum: s.list.reduce((a, x) => a + x, 0) * 2 }))
      .addEdge(START, "split")
      .addEdge("split", "reduce")
      .addEdge("reduce", END)
      .compile({ checkpointer: saver });
  }
  return new StateGraph(State)
    .addNode("split", split)
    .addNode("double", (s: { item: number }) => ({
      results: [{ key: s.item, value: s.item * 2 }],
    }))
    .addNode("reduce", (s: S) => ({ sum: s.results.reduce((a, r) => a + r.value, 0) }))
    .addEdge(START, "split")
    .addConditionalEdges("split", (s: S) => s.list.map((item) => new Send("double", { item })), [
      "double",
    ])
    .addEdge("double", "reduce")
    .addEdge("reduce", END)
    .compile({ checkpointer: saver });
}

export interface LangGraphBench {
  /** One timed run (invoke only) on a thread of its own; throws unless the sum is right. */
  run(rep: number): Promise<number>;
  /**
   * Reads back item `index`'s input (the Send's argument) and output (the task's writes) of the
   * run `rep` from the checkpointer: the state history down to the superstep that ran the items,
   * then that checkpoint's pending sends. Returns the time and what was read.
   */
  readItem(rep: number, index: number): Promise<{ ms: number; input: unknown; output: unknown }>;
}

export function langGraphBench(dir: string, n: number, map: boolean): LangGraphBench {
  // One database per process, like Keel's store; each run is a thread of its own.
  const saver = SqliteSaver.fromConnString(join(dir, "langgraph.sqlite"));
  const app = graph(saver, map);
  const config = (rep: number) => ({ configurable: { thread_id: `map-${n}-${rep}` } });
  return {
    async run(rep) {
      const start = performance.now();
      const out = (await app.invoke({ n }, config(rep))) as S;
      const ms = performance.now() - start;
      if (out.sum !== pureTotal(n))
        throw new Error(`langgraph: sum ${out.sum}, not ${pureTotal(n)}`);
      return ms;
    },
    async readItem(rep, index) {
      const start = performance.now();
      for await (const snap of app.getStateHistory(config(rep))) {
        const task = snap.tasks.find((t) => t.name === "double" && t.path?.[1] === index);
        if (!task) continue;
        const tuple = await saver.getTuple(snap.config);
        const sends = tuple?.checkpoint.channel_values["__pregel_tasks"] as Send[] | undefined;
        const input = sends?.[index]?.args;
        const ms = performance.now() - start;
        return { ms, input, output: task.result };
      }
      throw new Error(`langgraph: no task for item ${index} in the state history`);
    },
  };
}
