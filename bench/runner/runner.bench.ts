// Runner benchmark (docs/benchmarks.md, "Runner (#4)"): trivial-step DAGs (chain, fan-out 1→N→1,
// layered width 10) at N = 100, 1,000 and 10,000, run by Keel with full recording into SQLite, by
// a plain-Node floor, and by LangGraph.js with its SQLite checkpointer (N ≤ 1,000: its per-step
// cost grows with N), plus a chain of effectful steps answered by an in-process no-op effect.
// Run with `npm run bench:runner`; `-- --sizes 100,1000` limits the sizes, `-- --no-peer` skips
// LangGraph.
//
// Each configuration runs in a fresh child process, so its peak RSS is its own and no run warms
// another's JIT or heap. The worker is bundled once with esbuild (as the CLI is) and run with
// plain `node`: under `--import tsx` every process carries tsx's transpiler, ~55 MB of RSS that
// `keel run` never has, which would blur the 150 MB target.
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../bundle";
import { fail, median, table, workerResult } from "../figures";
import type { System, WorkerResult } from "./shapes";
import { SHAPES, type Shape } from "./shapes";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ALL_SIZES = [100, 1000, 10000] as const;
/** LangGraph.js is measured up to this N (docs/benchmarks.md, "Runner (#4)"). */
const PEER_MAX_N = 1000;
/** Target per step, in µs, for pure DAGs and for the effect chain; peak RSS at N = 1,000, in MB. */
const TARGET_PURE_US = 10;
const TARGET_EFFECT_US = 60;
const TARGET_RSS_MB = 150;
/** How many times faster than LangGraph.js Keel must be, by N (#4). */
const TARGET_RATIO: Readonly<Record<number, number>> = { 100: 50, 1000: 200 };

/**
 * Runs per configuration. Warm-up runs come first, in the same process, until about 20,000 steps
 * have run (V8 optimises the hot code only after thousands of calls); the figure is the median of
 * the measured runs after them, and the very first run is reported on its own, as the cold
 * process of a `keel run` sees it. The floor gets the same treatment. LangGraph.js gets fewer: its
 * per-step cost is three orders of magnitude above a JIT's warm-up, and a 1,000-step chain takes
 * it ~5 s.
 */
function runsFor(system: System, n: number): { warmup: number; reps: number } {
  if (system === "langgraph") return { warmup: 1, reps: n >= 1000 ? 3 : 5 };
  // At 10,000 steps a run takes ~0.1 s: 3 warm-up runs and 5 measured ones keep one slow run (a
  // garbage collection of the grown heap, a neighbour's burst) from being the median.
  return { warmup: Math.max(3, Math.ceil(20_000 / n)), reps: n >= 10000 ? 5 : 7 };
}

interface Measured {
  readonly median: number;
  readonly first: number;
  readonly peakRssMb: number;
}

async function bundleRunnerWorker(dir: string): Promise<string> {
  return bundleWorker(join(ROOT, "bench/runner/worker.ts"), join(dir, "worker.cjs"));
}

function measure(worker: string, system: System, shape: Shape, n: number): Measured {
  const { warmup, reps } = runsFor(system, n);
  const label = `${system} ${shape} ${n} ×${warmup}+${reps}`;
  const args = [system, shape, String(n), String(warmup + reps)];
  const r = workerResult<WorkerResult>(worker, args, label);
  const m = {
    median: median(r.ms.slice(warmup)),
    first: r.ms[0]!,
    peakRssMb: r.firstRunRssMb ?? r.peakRssMb,
  };
  process.stderr.write(` ${(m.median / 1000).toFixed(2)} s (median)\n`);
  return m;
}

function perStep(m: Measured | undefined, n: number, which: "median" | "first" = "median"): string {
  return m ? ((m[which] * 1000) / n).toFixed(1) : "—";
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const sizesArg = args.indexOf("--sizes");
  const sizes = sizesArg >= 0 ? args[sizesArg + 1]!.split(",").map(Number) : [...ALL_SIZES];
  if (sizes.some((n) => !Number.isInteger(n) || n < 10 || n % 10 !== 0))
    fail("--sizes takes multiples of 10, e.g. --sizes 100,1000");
  const peer = !args.includes("--no-peer");

  const dir = mkdtempSync(join(tmpdir(), "keel-runner-bench-"));
  const worker = await bundleRunnerWorker(dir);
  const started = performance.now();
  const cpu = cpus();
  console.log(
    `Keel runner benchmark — Node ${process.version}, ${new Date().toISOString()}, ` +
      `${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown"})`,
  );
  process.stderr.write("measuring (one fresh process per configuration):\n");

  const header = [
    "shape",
    "N",
    "Keel µs/step",
    "Keel 1st run",
    "Keel peak RSS MB",
    "floor µs/step",
    "LangGraph µs/step",
    "LangGraph/Keel",
    "target",
  ];
  const rows: string[][] = [header];
  const row = (
    shape: string,
    n: number,
    keel: Measured,
    floor: Measured,
    lg: Measured | undefined,
    targetUs: number,
  ) => {
    const us = (keel.median * 1000) / n;
    const misses: string[] = [];
    if (us > targetUs) misses.push(`>${targetUs} µs`);
    if (n === 1000 && keel.peakRssMb > TARGET_RSS_MB) misses.push(`>${TARGET_RSS_MB} MB`);
    const ratio = TARGET_RATIO[n];
    if (lg && ratio && lg.median / keel.median < ratio) misses.push(`<${ratio}× LangGraph`);
    rows.push([
      shape,
      n.toLocaleString("en"),
      perStep(keel, n),
      perStep(keel, n, "first"),
      keel.peakRssMb.toFixed(0),
      perStep(floor, n),
      perStep(lg, n),
      lg ? `${(lg.median / keel.median).toFixed(1)}×` : "—",
      misses.length ? `miss ${misses.join(", ")}` : "ok",
    ]);
  };

  for (const shape of SHAPES) {
    for (const n of sizes) {
      const keel = measure(worker, "keel", shape, n);
      const floor = measure(worker, "floor", shape, n);
      const lg = peer && n <= PEER_MAX_N ? measure(worker, "langgraph", shape, n) : undefined;
      row(shape, n, keel, floor, lg, TARGET_PURE_US);
    }
  }
  for (const n of sizes) {
    const keel = measure(worker, "keel-effect", "chain", n);
    const floor = measure(worker, "floor-effect", "chain", n);
    row("effect chain", n, keel, floor, undefined, TARGET_EFFECT_US);
  }
  rmSync(dir, { recursive: true, force: true });

  console.log();
  console.log(table(rows, 2));
  console.log();
  const notes = [
    "µs/step: wall time of one run / N, median of 7 runs (5 at 10,000) after warm-up runs in the",
    "  same process (about 20,000 steps; LangGraph: one run).",
    "Keel 1st run: the first run in its process (cold JIT, expressions compiled), as `keel run` is.",
    "Keel: runWorkflow on transform steps (effect chain: tool steps answered by an in-process",
    "  no-op), full recording in SQLite; loading and validation untimed. One store per process,",
    "  as for the floor and LangGraph. Peak RSS: the process's high-water mark after loading,",
    "  validation and the first run, as `keel run` has it.",
    "floor: hand-written executor, one INSERT per step start and end, one transaction per",
    "  event-loop turn (effect chain: a commit before each effect).",
    `LangGraph.js: StateGraph + SqliteSaver, invoke() only, N ≤ ${PEER_MAX_N.toLocaleString("en")}.`,
    `Targets (docs/benchmarks.md): ≤ ${TARGET_PURE_US} µs/step pure and ≤ ${TARGET_EFFECT_US} µs/step ` +
      `effect chain, flat in N; ≤ ${TARGET_RSS_MB} MB at N = 1,000; ≥ 50× LangGraph at N = 100, ` +
      `≥ 200× at 1,000.`,
    `Total ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  ];
  console.log(notes.join("\n"));
}

main().catch((e: unknown) => fail(e instanceof Error ? (e.stack ?? e.message) : String(e)));
