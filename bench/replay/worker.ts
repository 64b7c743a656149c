// The replay benchmark's measuring side, bundled and run by replay.bench.ts: replay and read-back
// of recorded 1,000- and 10,000-step runs, one step-through move, and LangGraph.js
// `getStateHistory` on a same-size recorded run (N ≤ 1,000). Targets (#5, docs/benchmarks.md):
// replay of 1,000 steps ≤ 20 ms, read-back ≤ 10 ms, a move ≤ 1 ms. `--no-peer` skips LangGraph.
// The run is a chain alternating `transform` and `llm` steps on a `scripted` provider, so half
// the steps are answered from the record and half are recomputed. Loading (parsing and
// validating) the workflow is printed apart: replay works on a loaded workflow.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { loadWorkflow, type LoadedWorkflow } from "@keel/core/runner/load";
import { runWorkflow } from "@keel/core/runner/run";
import { createNodeEffects } from "@keel/core/runner/node-effects";
import { mixedChain } from "./chain";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { readRecordedRun } from "@keel/core/replay/record";
import { replayRun } from "@keel/core/replay/replay";
import { RunFold } from "@keel/core/record/fold";

/** Replays before the measured ones: about 20,000 replayed steps, as the runner bench warms up. */
const warmupsFor = (n: number) => Math.max(2, Math.ceil(20_000 / n));

const dir = mkdtempSync(join(tmpdir(), "keel-bench-replay-"));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(reps: number, f: () => Promise<unknown> | unknown): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await f();
    out.push(performance.now() - t);
  }
  return median(out);
}

async function keel(n: number) {
  const path = join(dir, `chain-${n}.keel.yaml`);
  writeFileSync(path, mixedChain(n));
  let loaded: LoadedWorkflow | undefined;
  const loadMs = await time(1, () => {
    const r = loadWorkflow(path);
    if (!r.ok) throw new Error("invalid bench workflow");
    loaded = r.loaded;
  });
  const store = openSqliteStore(join(dir, `keel-${n}.sqlite`));
  const result = await runWorkflow({
    workflowPath: loaded!.path,
    source: loaded!.source,
    workflow: loaded!.workflow,
    graph: loaded!.graph,
    inputs: {},
    store,
    effects: createNodeEffects({ providers: loaded!.workflow.providers ?? {}, dir }),
  });
  if (result.status !== "succeeded") throw new Error(result.error ?? "run failed");
  const reps = n >= 10_000 ? 5 : 15;
  await readRecordedRun(store, result.runId); // warm-up
  const readMs = await time(reps, () => readRecordedRun(store, result.runId));
  const record = (await readRecordedRun(store, result.runId))!;
  // The first replay of the process is reported on its own: what a cold `keel replay` sees.
  const firstMs = await time(1, () => replayRun(record, loaded!));
  for (let i = 1; i < warmupsFor(n); i++) await replayRun(record, loaded!);
  let divergences = 0;
  const replayMs = await time(reps, async () => {
    divergences += (await replayRun(record, loaded!)).divergences.length;
  });
  if (divergences > 0) throw new Error("the bench replay diverged");
  // Step-through: random seeks and single moves over the whole log, per move.
  const fold = new RunFold(record.events, record.attempts, loaded!.graph.ids);
  fold.seek(record.events.length - 1); // deltas made once
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const moves = 10_000;
  const t = performance.now();
  for (let i = 0; i < moves; i++) {
    if (i % 2 === 0) fold.forward();
    else fold.back();
    if (i % 100 === 0) fold.seek(Math.floor(rand() * record.events.length));
  }
  const moveUs = ((performance.now() - t) / moves) * 1000;
  await store.close();
  return { n, events: record.events.length, loadMs, readMs, replayMs, firstMs, moveUs };
}

async function langGraph(n: number): Promise<{ runMs: number; historyMs: number; states: number }> {
  const saver = SqliteSaver.fromConnString(join(dir, `langgraph-${n}.sqlite`));
  const spec = { value: Annotation<string>() };
  let graph = new StateGraph(spec) as unknown as {
    addNode(id: string, f: (s: { value: string }) => { value: string }): unknown;
    addEdge(a: string, b: string): unknown;
    compile(o: unknown): {
      invoke(input: unknown, config: unknown): Promise<unknown>;
      getStateHistory(config: unknown): AsyncIterable<unknown>;
    };
  };
  for (let i = 0; i < n; i++) {
    graph.addNode(`s${i}`, (s) => ({ value: `${s.value}x`.slice(0, 20) }));
    graph.addEdge(i === 0 ? START : `s${i - 1}`, `s${i}`);
  }
  graph.addEdge(`s${n - 1}`, END);
  const app = graph.compile({ checkpointer: saver });
  const config = { configurable: { thread_id: `replay-${n}` }, recursionLimit: n + 10 };
  const t = performance.now();
  await app.invoke({ value: "start" }, config);
  const runMs = performance.now() - t;
  let states = 0;
  const historyMs = await time(5, async () => {
    states = 0;
    for await (const _ of app.getStateHistory(config)) states++;
  });
  graph = undefined as never;
  return { runMs, historyMs, states };
}

async function main() {
  console.log(
    `replay (#5): chain of transform + scripted llm steps, SQLite store, medians; Node ${process.version}, ${new Date().toISOString()}\n`,
  );
  console.log(
    "| steps | events | load workflow | read-back | replay | 1st replay | one move | LangGraph getStateHistory |",
  );
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const n of [1_000, 10_000]) {
    const k = await keel(n);
    let peer = "— (N > 1,000)";
    if (n <= 1_000 && !process.argv.includes("--no-peer")) {
      const lg = await langGraph(n);
      peer = `${lg.historyMs.toFixed(1)} ms (${lg.states} checkpoints)`;
    }
    console.log(
      `| ${n} | ${k.events} | ${k.loadMs.toFixed(0)} ms | ${k.readMs.toFixed(1)} ms | ${k.replayMs.toFixed(1)} ms | ${k.firstMs.toFixed(1)} ms | ${k.moveUs.toFixed(2)} µs | ${peer} |`,
    );
  }
  console.log("\ntargets: replay of 1,000 steps ≤ 20 ms, read-back ≤ 10 ms, one move ≤ 1 ms");
}

void main();
