// Agents benchmark (docs/benchmarks.md, "Agents (#20)"): `npm run bench:agents`.
// An agent of N turns (10, 50, 200) with 2 tool calls a turn, against a local OpenAI-compatible
// server in its own process (bench/agents/provider.ts), in five configurations, each in a fresh
// process with a fresh server:
// - the floor: the same conversation driven by hand with the `openai` SDK, the tools called
//   directly, nothing kept (and the same with the client as Keel builds it, for information);
// - Keel: an `agent` step, its tools a JavaScript module run by Keel's tool worker, full
//   recording into SQLite; then the run read back and replayed (0 live calls);
// - Keel with the tools called in its own process (a bench-only effect): Keel's loop and record
//   without the tool worker;
// - LangGraph.js: a StateGraph ReAct agent (ToolNode) with ChatOpenAI and SqliteSaver.
// Overhead per turn = (a system's median wall time of a run − the floor's) / N; the same in CPU
// time of the measuring process. Store bytes: the SQLite file after one run, Keel's blob texts
// beside what by-value storage of the turns' inputs would take. Figures only: nothing here asserts
// a time; a figure past the targets is printed `miss`.
// Options: `-- --sizes 10,50`, `--no-peer` (no LangGraph.js), `--no-tool-worker` (no Keel run
// with its tool worker), `--profile` (CPU profile summaries of Keel's 50-turn runs, then of its
// read-back and replays).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../bundle";
import { fail, median, table, workerResult } from "../figures";
import { benchHeader, startServerProcess } from "../host";
import { summariseProfile } from "../profile";
import type { AgentResult } from "./worker";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ALL_SIZES = [10, 50, 200];
/** Targets of #20: Keel's overhead per turn, and the replay of the 50-turn run. */
const TARGET_OVERHEAD_MS = 1;
const TARGET_REPLAY_MS = 50;
const REPLAY_TARGET_TURNS = 50;

type Config = "floor" | "floor-keel" | "keel" | "keel-inproc" | "langgraph";

const NAMES: Record<Config, string> = {
  floor: "floor: openai SDK loop",
  "floor-keel": "floor, Keel's HTTP client",
  keel: "Keel (tool worker)",
  "keel-inproc": "Keel (tools in-process)",
  langgraph: "LangGraph.js + SqliteSaver",
};

/**
 * Runs of a configuration after its first (cold) run, which goes into a store of its own: the
 * warm-up runs, then the measured ones. LangGraph.js at 200 turns takes about 25 s a run here.
 */
function plan(config: Config, n: number): { warmup: number; reps: number } {
  if (config === "langgraph") return n <= 10 ? { warmup: 1, reps: 5 } : { warmup: 0, reps: 2 };
  if (config === "keel") return n <= 50 ? { warmup: 1, reps: 3 } : { warmup: 0, reps: 1 };
  return n <= 10
    ? { warmup: 3, reps: 9 }
    : n <= 50
      ? { warmup: 1, reps: 5 }
      : { warmup: 1, reps: 3 };
}

const FLAGS: Record<Config, [string, string[]]> = {
  floor: ["floor", []],
  "floor-keel": ["floor", ["keel-transport"]],
  keel: ["keel", []],
  "keel-inproc": ["keel", ["inproc"]],
  langgraph: ["langgraph", []],
};

interface Measured {
  readonly config: Config;
  readonly n: number;
  readonly result: AgentResult;
  /** Medians of the measured runs. */
  readonly ms: number;
  readonly cpuMs: number;
}

/** One configuration at `n` turns, in a fresh worker process against a fresh server process. */
async function measure(
  worker: string,
  providerScript: string,
  config: Config,
  n: number,
  nodeArgs: string[] = [],
  extra: string[] = [],
): Promise<Measured> {
  const { warmup, reps } = plan(config, n);
  const runs = 1 + warmup + reps;
  const [system, flags] = FLAGS[config];
  const server = await startServerProcess(providerScript);
  const args = [system, String(n), String(runs), server.url, ...flags, ...extra];
  let result: AgentResult;
  try {
    result = workerResult<AgentResult>(worker, args, `${config} ${n} turns`, nodeArgs);
    process.stderr.write(" done\n");
  } finally {
    // The server counts the completions it answered: the runs' turns, none for a replay.
    const answered = Number(await server.stop());
    if (answered !== runs * n)
      fail(`${config} at ${n} turns: the server answered ${answered} requests, not ${runs * n}`);
  }
  const measured = (xs: number[]) => median(xs.slice(1 + warmup));
  return { config, n, result, ms: measured(result.ms), cpuMs: measured(result.cpuMs) };
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const kb = (bytes: number) => (bytes / 1024).toFixed(1);

function timeTable(all: readonly Measured[], sizes: readonly number[]): string {
  const rows = [
    [
      "turns",
      "configuration",
      "ms/run",
      "ms/turn",
      "overhead ms/turn",
      "CPU ms/turn",
      "CPU overhead ms/turn",
      "1st run ms",
      "RSS MB (1st run)",
      "RSS MB (end)",
      "target",
    ],
  ];
  for (const n of sizes) {
    const floor = all.find((m) => m.n === n && m.config === "floor");
    for (const m of all.filter((x) => x.n === n)) {
      const over = floor && m !== floor ? (m.ms - floor.ms) / n : undefined;
      const cpuOver = floor && m !== floor ? (m.cpuMs - floor.cpuMs) / n : undefined;
      const keel = m.config === "keel" || m.config === "keel-inproc";
      rows.push([
        String(n),
        NAMES[m.config],
        f1(m.ms),
        f2(m.ms / n),
        over === undefined ? "—" : f2(over),
        f2(m.cpuMs / n),
        cpuOver === undefined ? "—" : f2(cpuOver),
        f1(m.result.ms[0]!),
        m.result.firstRunRssMb.toFixed(0),
        m.result.peakRssMb.toFixed(0),
        !keel || over === undefined ? "" : over > TARGET_OVERHEAD_MS ? "miss >1 ms" : "ok",
      ]);
    }
  }
  return table(rows, 2);
}

function bytesTable(all: readonly Measured[], sizes: readonly number[]): string {
  const rows = [
    [
      "turns",
      "Keel file KB",
      "empty KB",
      "KB/turn",
      "blob texts KB",
      "by value KB",
      "turn inputs stored KB",
      "turn inputs whole KB",
      "whole/stored",
      "LangGraph file KB",
      "empty KB",
      "KB/turn",
    ],
  ];
  for (const n of sizes) {
    const k = (
      all.find((m) => m.n === n && m.config === "keel-inproc") ??
      all.find((m) => m.n === n && m.config === "keel")
    )?.result.bytes;
    const lg = all.find((m) => m.n === n && m.config === "langgraph")?.result.bytes;
    const byValue = k && k.blobs! - k.turnInputsStored! + k.turnInputsWhole!;
    rows.push([
      String(n),
      k ? kb(k.file) : "—",
      k ? kb(k.emptyFile) : "—",
      k ? f2((k.file - k.emptyFile) / 1024 / n) : "—",
      k ? kb(k.blobs!) : "—",
      byValue ? kb(byValue) : "—",
      k ? kb(k.turnInputsStored!) : "—",
      k ? kb(k.turnInputsWhole!) : "—",
      k ? `${(k.turnInputsWhole! / k.turnInputsStored!).toFixed(1)}×` : "—",
      lg ? kb(lg.file) : "—",
      lg ? kb(lg.emptyFile) : "—",
      lg ? f2((lg.file - lg.emptyFile) / 1024 / n) : "—",
    ]);
  }
  return table(rows);
}

function replayTable(all: readonly Measured[], sizes: readonly number[]): string {
  const rows = [
    [
      "turns",
      "events",
      "read run ms",
      "read CPU ms",
      "replay ms",
      "replay CPU ms",
      "1st replay ms",
      "live calls",
      "target",
    ],
  ];
  for (const n of sizes) {
    const r = all.find((x) => x.n === n && x.config === "keel-inproc")?.result;
    if (r?.replayMs === undefined) continue;
    const target =
      n === REPLAY_TARGET_TURNS ? (r.replayMs > TARGET_REPLAY_MS ? "miss >50 ms" : "ok") : "";
    rows.push([
      String(n),
      String(r.events),
      f1(r.readRunMs!),
      f1(r.readRunCpuMs!),
      f1(r.replayMs),
      f1(r.replayCpuMs!),
      f1(r.replayFirstMs!),
      String(r.replayEffects),
      target,
    ]);
  }
  return table(rows);
}

/** Keel against LangGraph.js at each size: overhead, checkpoint bytes, peak RSS. */
function ratioTable(all: readonly Measured[], sizes: readonly number[]): string {
  const rows = [
    [
      "turns",
      "Keel",
      "overhead/turn LangGraph ÷ Keel",
      "CPU overhead/turn",
      "file bytes",
      "peak RSS",
    ],
  ];
  // A ratio of overheads means nothing once Keel's is within the noise of the floor.
  const ratio = (lg: number, keel: number) =>
    keel <= 0 ? `— (Keel ${keel.toFixed(2)} ms)` : `${(lg / keel).toFixed(1)}×`;
  for (const n of sizes) {
    const floor = all.find((m) => m.n === n && m.config === "floor");
    const lg = all.find((m) => m.n === n && m.config === "langgraph");
    for (const config of ["keel", "keel-inproc"] as const) {
      const k = all.find((m) => m.n === n && m.config === config);
      if (!floor || !lg || !k) continue;
      const over = (x: Measured) => (x.ms - floor.ms) / n;
      const cpuOver = (x: Measured) => (x.cpuMs - floor.cpuMs) / n;
      rows.push([
        String(n),
        config === "keel" ? "tool worker" : "tools in-process",
        ratio(over(lg), over(k)),
        ratio(cpuOver(lg), cpuOver(k)),
        `${(lg.result.bytes!.file / k.result.bytes!.file).toFixed(1)}×`,
        `${(lg.result.peakRssMb / k.result.peakRssMb).toFixed(2)}×`,
      ]);
    }
  }
  return table(rows, 2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const sizesArg = args.indexOf("--sizes");
  const sizes = sizesArg >= 0 ? args[sizesArg + 1]!.split(",").map(Number) : ALL_SIZES;
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 250))
    fail("--sizes takes turn counts from 1 to 250, e.g. 10,50");
  const configs: Config[] = ["floor", "floor-keel", "keel-inproc"];
  if (!args.includes("--no-tool-worker")) configs.push("keel");
  if (!args.includes("--no-peer")) configs.push("langgraph");

  const dir = mkdtempSync(join(tmpdir(), "keel-agents-bench-"));
  const started = performance.now();
  try {
    const worker = await bundleWorker(
      join(ROOT, "bench/agents/worker.ts"),
      join(dir, "worker.cjs"),
    );
    const providerScript = await bundleWorker(
      join(ROOT, "bench/agents/provider.ts"),
      join(dir, "provider.cjs"),
    );
    console.log(benchHeader("Keel agents benchmark (#20)"));
    process.stderr.write("measuring (one fresh process and server per configuration):\n");
    const all: Measured[] = [];
    for (const n of sizes)
      for (const config of configs) all.push(await measure(worker, providerScript, config, n));

    console.log("\nAn agent of N turns, 2 tool calls a turn, local server (its own process)\n");
    console.log(timeTable(all, sizes));
    const lines = [
      "",
      "ms/run: median wall time of the measured runs (after the first run, in a store of its own,",
      "  and warm-up runs; 10 turns: 9 runs after 3 warm-up, 50: 5 after 1, 200: 3 after 1; Keel",
      "  with its tool worker 3 after 1, then 1 at 200; LangGraph 5 after 1 at 10, then 2).",
      "overhead ms/turn: (ms/run − the floor's ms/run) / turns: what the system spends per turn",
      "  beyond the same calls to the same server by a bare `openai` SDK loop that keeps nothing.",
      "CPU: the measuring process's CPU time (user + system, all its threads) per run, the server",
      "  apart; CPU overhead likewise against the floor's. RSS: maxRSS after the first run, and at",
      "  the end (after every run and, for Keel, the read-backs and replays).",
      `Target (#20): Keel's overhead ≤ ${TARGET_OVERHEAD_MS} ms per turn.`,
    ];
    console.log(lines.join("\n"));

    console.log("\nStore bytes after one run (its own store)\n");
    console.log(bytesTable(all, sizes));
    console.log(
      [
        "",
        "Keel file: the SQLite store after one run, closed; empty: the store with no run (schema",
        "  and pages); KB/turn: (file − empty) / turns. blob texts: the blobs table's texts; by",
        "  value: the same with each turn's input stored whole (as `store.blob` reads it back) in",
        "  place of its link. LangGraph file: SqliteSaver's database after one run (a checkpoint",
        "  per superstep, two per turn).",
      ].join("\n"),
    );

    console.log("\nKeel: the last run read back (readRecordedRun) and replayed (replayRun)\n");
    console.log(replayTable(all, sizes));
    console.log(
      [
        "",
        "Medians of 5 reads and of 5 replays after a first one (at 200 turns, the second of 2);",
        "  CPU: this process's CPU time. Live calls: the effects the replays reached (the server",
        "  also checks that it answered no request beyond the runs' turns).",
        `Target (#20): the ${REPLAY_TARGET_TURNS}-turn run replays in ≤ ${TARGET_REPLAY_MS} ms.`,
      ].join("\n"),
    );

    if (configs.includes("langgraph")) {
      console.log("\nLangGraph.js ÷ Keel (above 1: Keel spends less)\n");
      console.log(ratioTable(all, sizes));
    }

    if (args.includes("--profile")) {
      const n = sizes.includes(REPLAY_TARGET_TURNS) ? REPLAY_TARGET_TURNS : Math.max(...sizes);
      for (const [extra, what] of [
        [["runs-only"], `Keel's ${n}-turn agent, tools in-process, its runs only`],
        [[], `Keel's ${n}-turn agent, tools in-process: runs, bytes, read-backs and replays`],
      ] as const) {
        const profDir = join(dir, `prof-${extra.length}`);
        const nodeArgs = ["--cpu-prof", `--cpu-prof-dir=${profDir}`];
        await measure(worker, providerScript, "keel-inproc", n, nodeArgs, [...extra]);
        console.log();
        console.log(summariseProfile(profDir, worker, what));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nTotal ${((performance.now() - started) / 1000).toFixed(0)} s.`);
}

main().catch((e: unknown) => fail(e instanceof Error ? (e.stack ?? e.message) : String(e)));
