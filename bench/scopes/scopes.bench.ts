// Maps benchmark (docs/benchmarks.md, "Maps (#18)"): `npm run bench:scopes`.
// 1. A pure map (`transform` with `for_each`, `expr: item * 2`) of 100, 1,000 and 10,000 items:
//    per-item time and overhead (the run with the map minus the same run without the map step,
//    divided by the items), peak RSS, reading one item back (fold + blobs) and replaying the run.
// 2. A map of 1,000 llm calls on the real `openai` client against a local OpenAI-compatible server
//    answering after 50 ms, at the map's `concurrency: 16`, then with the provider's
//    `concurrency: 8`: wall time against the ideal (calls × 50 ms / concurrency).
// 3. LangGraph.js `Send` map-reduce with its SQLite checkpointer at 100 and 1,000 items, beside
//    Keel's figures of 1: overhead per item, peak RSS, reading one item back.
// Options: `-- --sizes 100,1000` limits the pure sizes, `--no-peer` skips LangGraph, `--no-llm`
// skips 2, `--profile` adds CPU profile summaries of the 10,000-item map (or the largest size)
// and of the llm map at concurrency 16.
//
// Every configuration runs in a fresh child process (its peak RSS is its own), bundled with
// esbuild and run with plain `node` as the CLI is (bench/bundle.ts). Figures only: nothing here
// asserts a time; a miss of the targets is printed as `miss`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../bundle";
import { fail, median, table, workerResult } from "../figures";
import { benchHeader, startServerProcess } from "../host";
import { summariseProfile } from "../profile";
import type { ScopesResult } from "./worker";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ALL_SIZES = [100, 1000, 10000];
const PEER_SIZES = [100, 1000];
const LLM_CALLS = 1000;
const LLM_DELAY_MS = 50;
/** Targets of #18: per item, peak RSS, replay of the 10,000-item run, llm wall time vs ideal. */
const TARGET_US = 20;
const TARGET_RSS_MB = 300;
const TARGET_REPLAY_MS = 1000;
const TARGET_LLM_RATIO = 1.1;

/** Runs per pure configuration: warm-up runs until ~20,000 items ran, then the measured ones. */
function runsFor(system: "keel" | "langgraph", n: number): { warmup: number; reps: number } {
  if (system === "langgraph") return { warmup: 1, reps: n >= 1000 ? 3 : 5 };
  return { warmup: Math.max(2, Math.ceil(20_000 / n)), reps: n >= 10_000 ? 5 : 7 };
}

function runWorker(worker: string, args: string[], nodeArgs: string[] = []): ScopesResult {
  const label = args.filter((a) => !a.startsWith("http")).join(" ");
  const result = workerResult<ScopesResult>(worker, args, label, nodeArgs);
  process.stderr.write(" done\n");
  return result;
}

interface Pure {
  readonly n: number;
  readonly map: ScopesResult;
  readonly without: ScopesResult;
  /** Medians of the measured runs (after the warm-up ones), in ms. */
  readonly mapMs: number;
  readonly withoutMs: number;
}

function pure(worker: string, system: "keel" | "langgraph", n: number): Pure {
  const { warmup, reps } = runsFor(system, n);
  const runs = String(warmup + reps);
  const without = runWorker(worker, [system, String(n), runs, "nomap"]);
  const map = runWorker(worker, [system, String(n), runs, "map"]);
  return {
    n,
    map,
    without,
    mapMs: median(map.ms.slice(warmup)),
    withoutMs: median(without.ms.slice(warmup)),
  };
}

const us = (ms: number, n: number) => ((ms * 1000) / n).toFixed(1);
const f1 = (x: number | undefined) => (x === undefined ? "—" : x.toFixed(1));
const mb = (x: number) => x.toFixed(0);

function pureTable(results: readonly Pure[]): string {
  const rows = [
    [
      "items",
      "µs/item",
      "overhead µs/item",
      "1st run µs/item",
      "1st run overhead",
      "RSS MB (1st run)",
      "RSS MB (end)",
      "read item ms",
      "read run ms",
      "replay ms",
      "1st replay ms",
      "target",
    ],
  ];
  for (const r of results) {
    const overhead = ((r.mapMs - r.withoutMs) * 1000) / r.n;
    const misses: string[] = [];
    if (overhead > TARGET_US) misses.push(`>${TARGET_US} µs`);
    if (r.map.firstRunRssMb > TARGET_RSS_MB) misses.push(`>${TARGET_RSS_MB} MB`);
    if (r.n >= 10_000 && (r.map.replayMs ?? 0) > TARGET_REPLAY_MS) misses.push("replay >1 s");
    rows.push([
      r.n.toLocaleString("en"),
      us(r.mapMs, r.n),
      overhead.toFixed(1),
      us(r.map.ms[0]!, r.n),
      us(r.map.ms[0]! - r.without.ms[0]!, r.n),
      mb(r.map.firstRunRssMb),
      mb(r.map.peakRssMb),
      f1(r.map.readItemMs),
      f1(r.map.readRunMs),
      f1(r.map.replayMs),
      f1(r.map.replayFirstMs),
      misses.length ? `miss ${misses.join(", ")}` : "ok",
    ]);
  }
  return table(rows);
}

/** Starts a local provider server process; stop() ends it and reads its counts. */
async function startProvider(
  script: string,
): Promise<{ url: string; stop(): Promise<{ requests: number; most: number }> }> {
  const server = await startServerProcess(script, [String(LLM_DELAY_MS)]);
  return {
    url: server.url,
    async stop() {
      const [requests, most] = (await server.stop()).split(" ").map(Number);
      return { requests: requests!, most: most! };
    },
  };
}

/** One llm configuration against a fresh server process; its table row. */
async function llmRow(
  worker: string,
  providerScript: string,
  what: "keel" | "floor",
  concurrency: number,
  providerLimit: number | undefined,
): Promise<string[]> {
  const provider = await startProvider(providerScript);
  const limit = providerLimit === undefined ? "-" : String(providerLimit);
  const args =
    what === "keel"
      ? ["llm", String(LLM_CALLS), String(concurrency), limit, provider.url]
      : ["llm-floor", String(LLM_CALLS), String(providerLimit ?? concurrency), provider.url];
  // runWorker exits the bench on a failure, which ends the server process with it.
  const r = runWorker(worker, args);
  const served = await provider.stop();
  if (served.requests !== r.calls)
    fail(`the provider server answered ${served.requests} requests, not ${r.calls}`);
  const inForce = Math.min(concurrency, providerLimit ?? concurrency);
  const ideal = (LLM_CALLS * LLM_DELAY_MS) / inForce;
  const ratio = r.ms[0]! / ideal;
  const name =
    what === "floor"
      ? `openai client alone, ${inForce} at once`
      : `Keel, map concurrency ${concurrency}` +
        (providerLimit === undefined ? "" : `, provider concurrency ${providerLimit}`);
  return [
    name,
    (r.ms[0]! / 1000).toFixed(2),
    (ideal / 1000).toFixed(3),
    `${ratio.toFixed(3)}×`,
    (((r.ms[0]! - ideal) * inForce) / LLM_CALLS).toFixed(1),
    String(served.most),
    what === "floor" ? "" : ratio > TARGET_LLM_RATIO ? `miss >${TARGET_LLM_RATIO}×` : "ok",
  ];
}

async function llmTable(worker: string, providerScript: string): Promise<string> {
  const rows = [
    [
      "configuration",
      "wall s",
      "ideal s",
      "wall/ideal",
      "ms/call over 50",
      "most at server",
      "target",
    ],
  ];
  rows.push(await llmRow(worker, providerScript, "keel", 16, undefined));
  rows.push(await llmRow(worker, providerScript, "floor", 16, undefined));
  rows.push(await llmRow(worker, providerScript, "keel", 16, 8));
  rows.push(await llmRow(worker, providerScript, "floor", 16, 8));
  return table(rows);
}

function peerTable(keel: readonly Pure[], lg: readonly Pure[]): string {
  const rows = [
    ["items", "system", "µs/item", "overhead µs/item", "RSS MB (1st run)", "read item ms"],
  ];
  for (const l of lg) {
    const k = keel.find((r) => r.n === l.n);
    for (const [name, r] of [
      ["Keel", k],
      ["LangGraph.js", l],
    ] as const) {
      if (!r) continue;
      rows.push([
        r.n.toLocaleString("en"),
        name,
        us(r.mapMs, r.n),
        us(r.mapMs - r.withoutMs, r.n),
        mb(r.map.firstRunRssMb),
        f1(r.map.readItemMs),
      ]);
    }
  }
  return table(rows);
}

/** The CPU profile of one worker process (`args`), summarised (bench/profile.ts). */
function profileSummary(worker: string, args: string[], title: string, dir: string): string {
  const profDir = join(dir, `prof-${args[0]}`);
  runWorker(worker, args, ["--cpu-prof", `--cpu-prof-dir=${profDir}`]);
  return summariseProfile(profDir, worker, title);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const sizesArg = args.indexOf("--sizes");
  const sizes = sizesArg >= 0 ? args[sizesArg + 1]!.split(",").map(Number) : ALL_SIZES;
  if (sizes.some((n) => !Number.isInteger(n) || n < 2)) fail("--sizes takes counts, e.g. 100,1000");

  const dir = mkdtempSync(join(tmpdir(), "keel-scopes-bench-"));
  const worker = await bundleWorker(join(ROOT, "bench/scopes/worker.ts"), join(dir, "worker.cjs"));
  const providerScript = await bundleWorker(
    join(ROOT, "bench/scopes/provider.ts"),
    join(dir, "provider.cjs"),
  );
  const started = performance.now();
  console.log(benchHeader("Keel maps benchmark (#18)"));
  process.stderr.write("measuring (one fresh process per configuration):\n");
  try {
    const keel = sizes.map((n) => pure(worker, "keel", n));
    console.log(
      "\nPure map: transform with for_each, expr: item * 2 (map concurrency: the default, 4)\n",
    );
    console.log(pureTable(keel));
    console.log(
      [
        "",
        "µs/item: wall time of the run with the map / items; overhead: (that − the same run",
        "  without the map step) / items. Medians of 7 runs (5 at 10,000) after warm-up runs in the",
        "  same process (about 20,000 items); 1st run: the first run of the process, as `keel run`.",
        "RSS: the process's high-water mark (maxRSS) after loading and the first run, and at the end",
        "  (after every run, the read-back and the replays), all runs in one SQLite store.",
        "read item: one item's input and output through the store API (events and attempts, fold,",
        "  blobs), median of 9; read run: readRecordedRun; replay: replayRun of the read run.",
        `Targets (#18): overhead ≤ ${TARGET_US} µs/item flat, RSS ≤ ${TARGET_RSS_MB} MB, replay of ` +
          `the 10,000-item run ≤ 1 s.`,
      ].join("\n"),
    );

    if (!args.includes("--no-llm")) {
      console.log(
        `\nLLM map: ${LLM_CALLS.toLocaleString("en")} calls, openai client, local server answering ` +
          `after ${LLM_DELAY_MS} ms (its own process), cache: false\n`,
      );
      console.log(await llmTable(worker, providerScript));
      console.log(
        [
          "",
          `ideal: ${LLM_CALLS.toLocaleString("en")} × ${LLM_DELAY_MS} ms / the concurrency in force ` +
            `(the provider's when lower); target ≤ ${TARGET_LLM_RATIO}×. ms/call over 50: (wall −`,
          "  ideal) × concurrency / calls, what each call cost beyond the server's delay. Most at",
          `  server: the most requests that arrived within ${LLM_DELAY_MS} ms of each other. Each row`,
          "  has a fresh server process; one run each (a run is 1,000 calls).",
        ].join("\n"),
      );
    }

    if (!args.includes("--no-peer")) {
      const peer = PEER_SIZES.map((n) => pure(worker, "langgraph", n));
      console.log("\nSide by side: Keel's pure map, LangGraph.js Send map-reduce + SqliteSaver\n");
      console.log(peerTable(keel, peer));
      console.log(
        [
          "",
          "LangGraph.js: split → Send per item → double → reduce; without the map, split → reduce.",
          "  Medians of 5 runs (3 at 1,000) after one warm-up run, invoke() only.",
          "read item: getStateHistory down to the superstep that ran the items, the item's task",
          "  (its result), and that checkpoint's pending Send (its input); median of 4.",
        ].join("\n"),
      );
    }

    if (args.includes("--profile")) {
      const n = Math.max(...sizes);
      const title = `${n.toLocaleString("en")}-item map, 3 runs in one process (load, validation, the runs)`;
      console.log();
      console.log(profileSummary(worker, ["keel", String(n), "3", "profile"], title, dir));
      if (!args.includes("--no-llm")) {
        const provider = await startProvider(providerScript);
        const llmArgs = ["llm", String(LLM_CALLS), "16", "-", provider.url];
        const llmTitle = `the llm map at concurrency 16, one run (load, validation, the run)`;
        try {
          console.log();
          console.log(profileSummary(worker, llmArgs, llmTitle, dir));
        } finally {
          await provider.stop();
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nTotal ${((performance.now() - started) / 1000).toFixed(0)} s.`);
}

main().catch((e: unknown) => fail(e instanceof Error ? (e.stack ?? e.message) : String(e)));
