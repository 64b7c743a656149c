// One configuration of the runner benchmark, in a process of its own so that its peak RSS is its
// own and no run warms or pollutes another's heap: `node --import tsx bench/runner/worker.ts
// <system> <shape> <n> <reps>`. Prints one line `RESULT {json}` with the wall times of the runs (in
// order, so the first, cold one can be told apart) and the process's peak RSS.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeFloor, runFloorOnce } from "./floor";
import { prepareKeel, runKeelOnce } from "./keel";
import {
  buildDag,
  referenceValue,
  SHAPES,
  SYSTEMS,
  type Shape,
  type System,
  type WorkerResult,
} from "./shapes";

async function main(): Promise<void> {
  const [system, shape, nText, repsText] = process.argv.slice(2);
  if (!SYSTEMS.includes(system as System) || !SHAPES.includes(shape as Shape))
    throw new Error(`usage: worker.ts <${SYSTEMS.join("|")}> <${SHAPES.join("|")}> <n> <reps>`);
  const n = Number(nText);
  const reps = Number(repsText);
  const dag = buildDag(shape as Shape, n);
  if (referenceValue(dag) !== dag.expected) throw new Error("shapes.ts: expected value is wrong");
  const ms: number[] = [];
  // The high-water mark once loading, validation and one run are done: what `keel run` holds.
  let firstRunRssMb: number | undefined;
  let dir: string;
  if (system === "keel" || system === "keel-effect") {
    const kind = system === "keel" ? "transform" : "effect";
    const prepared = prepareKeel(dag, kind);
    dir = prepared.dir;
    for (let rep = 0; rep < reps; rep++) {
      ms.push(await runKeelOnce(prepared, dag, kind));
      if (rep === 0) firstRunRssMb = process.resourceUsage().maxRSS / 1024;
    }
    await prepared.store.close();
  } else {
    dir = mkdtempSync(join(tmpdir(), "keel-runner-bench-"));
    // Imported only here: LangGraph's module graph would otherwise count in the others' RSS.
    const { runLangGraphOnce } =
      system === "langgraph" ? await import("./langgraph") : { runLangGraphOnce: undefined };
    for (let rep = 0; rep < reps; rep++) {
      if (runLangGraphOnce) ms.push(await runLangGraphOnce(dag, dir, rep));
      else ms.push(await runFloorOnce(dag, dir, system === "floor-effect"));
    }
    closeFloor(dir);
  }
  // maxRSS is in kilobytes: the high-water mark of the whole process, load and validation included.
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  rmSync(dir, { recursive: true, force: true });
  const result: WorkerResult = { ms, peakRssMb, firstRunRssMb };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
