// One configuration of the maps benchmark, in a process of its own so that its peak RSS is its
// own (scopes.bench.ts bundles it and runs it with plain `node`). Prints one line `RESULT {json}`.
//
//   worker.cjs keel <n> <runs> map|nomap|profile   the pure map (or the same run without it),
//                          `runs` runs in one store; with `map`, then one item read back and the
//                          last run replayed; `profile`: the map's runs only
//   worker.cjs langgraph <n> <runs> map|nomap   the same map-reduce in LangGraph.js
//   worker.cjs llm <n> <concurrency> <provider concurrency|-> <base url>   one run of the llm map
//   worker.cjs llm-floor <n> <concurrency> <base url>   the same calls, openai client alone
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadWorkflow, type LoadedWorkflow } from "@keel/core/runner/load";
import { createNodeEffects } from "@keel/core/runner/node-effects";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import type { RunStore } from "@keel/core/store/run-store";
import { foldToEnd } from "@keel/core/record/fold";
import { readRecordedRun } from "@keel/core/replay/record";
import { replayRun } from "@keel/core/replay/replay";
import { median, workerMain } from "../figures";
import { runLoaded } from "../runner/keel";
import { llmMap, pureMap, pureTotal } from "./workflows";

/** What one worker reports; fields absent where the configuration has none. */
export interface ScopesResult {
  /** Wall time of each run, in order (the first is the cold one). */
  readonly ms: number[];
  /** The process's high-water mark (maxRSS) once loading and the first run are done, in MB. */
  readonly firstRunRssMb: number;
  /** The high-water mark at the end, after every run (and the read-back and replay), in MB. */
  readonly peakRssMb: number;
  /** Reading one item's input and output back: median of several reads, and the first. */
  readonly readItemMs?: number;
  readonly readItemFirstMs?: number;
  readonly readItem?: { readonly input: unknown; readonly output: unknown };
  /** Keel: reading the last run back (readRecordedRun), then replaying it (replayRun). */
  readonly readRunMs?: number;
  readonly replayFirstMs?: number;
  readonly replayMs?: number;
  readonly events?: number;
  /** llm: the calls made. */
  readonly calls?: number;
}

const rssMb = () => process.resourceUsage().maxRSS / 1024;

function load(dir: string, name: string, text: string): LoadedWorkflow {
  const path = join(dir, name);
  writeFileSync(path, text);
  const r = loadWorkflow(path);
  if (!r.ok) {
    const first = r.diagnostics.filter((d) => d.severity === "error").slice(0, 3);
    throw new Error(`invalid workflow: ${first.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  }
  return r.loaded;
}

async function runKeel(
  loaded: LoadedWorkflow,
  store: RunStore,
): Promise<{ ms: number; runId: string; outputs: Record<string, unknown> }> {
  const effects = createNodeEffects({
    providers: loaded.workflow.providers ?? {},
    dir: loaded.dir,
  });
  const { ms, result } = await runLoaded(loaded, store, effects);
  return { ms, runId: result.runId, outputs: result.outputs ?? {} };
}

/**
 * `keel show <run> 'double[key]'` through the store API: the run's events and attempts, folded
 * to the end, the item's unit, then from the blobs its attempt's resolved input, its output, and
 * the item itself. A transform's resolved input is its expression (`{ expr }`), so the item's
 * value is read from the list the map's `expanded` event refers to, at the item's index.
 */
async function readKeelItem(store: RunStore, runId: string, key: string) {
  const [events, attempts] = await Promise.all([store.events(runId), store.attempts(runId)]);
  const unit = foldToEnd(events, attempts).unit(`double[${key}]`);
  const expanded = events.find((e) => e.type === "expanded" && e.stepId === "double");
  if (!unit?.output || !unit.attempt || !expanded)
    throw new Error(`no item double[${key}] in run ${runId}`);
  const index = (expanded.data?.keys as string[]).indexOf(key);
  const [resolved, output, list] = await Promise.all([
    store.blob(unit.attempt.inputHash),
    store.blob(unit.output),
    store.blob(expanded.data?.list as string),
  ]);
  const item = (JSON.parse(list ?? "[]") as unknown[])[index];
  const input = { item, resolved: JSON.parse(resolved ?? "null") as unknown };
  return { input, output: JSON.parse(output ?? "null") as unknown };
}

/** Times `f` `reps` times after one untimed call; the median, and the first (untimed) call's time. */
async function timed<T>(reps: number, f: () => Promise<T>): Promise<[number, number, T]> {
  let t = performance.now();
  const value = await f();
  const first = performance.now() - t;
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  return [median(ms), first, value];
}

/** `runs` timed runs; their times and the high-water mark after the first. */
async function runAll(runs: number, run: (i: number) => Promise<number>) {
  const ms: number[] = [];
  let firstRunRssMb = 0;
  for (let i = 0; i < runs; i++) {
    ms.push(await run(i));
    if (i === 0) firstRunRssMb = rssMb();
  }
  return { ms, firstRunRssMb };
}

async function keel(
  dir: string,
  n: number,
  runs: number,
  mode: "map" | "nomap" | "profile",
): Promise<ScopesResult> {
  const loaded = load(dir, `map-${n}.keel.yaml`, pureMap(n, mode !== "nomap"));
  const store = openSqliteStore(join(dir, "runs.sqlite"));
  let runId = "";
  const timings = await runAll(runs, async () => {
    const r = await runKeel(loaded, store);
    if (r.outputs.total !== pureTotal(n))
      throw new Error(`total ${String(r.outputs.total)}, not ${pureTotal(n)}`);
    runId = r.runId;
    return r.ms;
  });
  // Without the map, or under a CPU profile: the runs only.
  if (mode !== "map") {
    await store.close();
    return { ...timings, peakRssMb: rssMb() };
  }
  // The middle item of the last run; its key is its index.
  const index = n >> 1;
  const [readItemMs, readItemFirstMs, readItem] = await timed(9, () =>
    readKeelItem(store, runId, String(index)),
  );
  if (readItem.output !== (index + 1) * 2) throw new Error("read-back: wrong output");
  const [readRunMs, , record] = await timed(n >= 10_000 ? 3 : 9, async () => {
    const r = await readRecordedRun(store, runId);
    if (!r) throw new Error(`run ${runId} not found`);
    return r;
  });
  let divergences = 0;
  const [replayMs, replayFirstMs] = await timed(n >= 10_000 ? 3 : 9, async () => {
    divergences += (await replayRun(record, loaded)).divergences.length;
  });
  if (divergences) throw new Error(`the replay diverged (${divergences})`);
  await store.close();
  return {
    ...timings,
    peakRssMb: rssMb(),
    readItemMs,
    readItemFirstMs,
    readItem,
    readRunMs,
    replayFirstMs,
    replayMs,
    events: record.events.length,
  };
}

async function langgraph(dir: string, n: number, runs: number, map: boolean) {
  // Imported only here: LangGraph's modules would otherwise count in Keel's RSS.
  const { langGraphBench } = await import("./langgraph");
  const lg = langGraphBench(dir, n, map);
  const timings = await runAll(runs, (i) => lg.run(i));
  if (!map) return { ...timings, peakRssMb: rssMb() };
  const index = n >> 1;
  const [readItemMs, readItemFirstMs, readItem] = await timed(4, () =>
    lg.readItem(runs - 1, index),
  );
  if ((readItem.output as { results: { value: number }[] }).results[0]?.value !== (index + 1) * 2)
    throw new Error("langgraph read-back: wrong output");
  return {
    ...timings,
    peakRssMb: rssMb(),
    readItemMs,
    readItemFirstMs,
    readItem: { input: readItem.input, output: readItem.output },
  };
}

async function llm(
  dir: string,
  n: number,
  concurrency: number,
  providerConcurrency: number | undefined,
  baseUrl: string,
): Promise<ScopesResult> {
  const text = llmMap(n, baseUrl, concurrency, providerConcurrency);
  const loaded = load(dir, `llm-${n}.keel.yaml`, text);
  const store = openSqliteStore(join(dir, "runs.sqlite"));
  const r = await runKeel(loaded, store);
  if (r.outputs.count !== n) throw new Error(`${String(r.outputs.count)} answers, not ${n}`);
  const attempts = (await store.attempts(r.runId)).filter((a) => a.stepId === "ask");
  const live = attempts.filter((a) => a.status === "succeeded" && a.origin === "live");
  if (live.length !== n) throw new Error(`${live.length} live calls, not ${n}`);
  await store.close();
  return { ms: [r.ms], firstRunRssMb: rssMb(), peakRssMb: rssMb(), calls: n };
}

/**
 * The floor of the llm map: the same calls with the `openai` client alone (as Keel builds it: no
 * retries, Keel's transport), `concurrency` lanes, nothing recorded. What the client, the loopback HTTP and the
 * server's delay cost without Keel.
 */
async function llmFloor(n: number, concurrency: number, baseUrl: string): Promise<ScopesResult> {
  const { default: OpenAI } = await import("openai");
  const { clientSettings } = await import("../../core/runner/providers/connection");
  const connection = { baseUrl, apiKey: "bench", headers: {} };
  const settings = clientSettings(connection, baseUrl);
  const client = new OpenAI({ ...settings, organization: null, project: null });
  let next = 0;
  let answered = 0;
  const lane = async () => {
    while (next < n) {
      const item = ++next;
      const r = await client.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: `Item ${item}: say ok.` }],
      });
      if (r.choices[0]?.message.content === "ok") answered++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, lane));
  const ms = performance.now() - start;
  if (answered !== n) throw new Error(`${answered} answers, not ${n}`);
  return { ms: [ms], firstRunRssMb: rssMb(), peakRssMb: rssMb(), calls: n };
}

workerMain("scopes", async (dir) => {
  const [system, nText, a, b, c] = process.argv.slice(2);
  const n = Number(nText);
  if (system === "keel" && (b === "map" || b === "nomap" || b === "profile"))
    return keel(dir, n, Number(a), b);
  if (system === "langgraph") return langgraph(dir, n, Number(a), b === "map");
  if (system === "llm") return llm(dir, n, Number(a), b === "-" ? undefined : Number(b), c!);
  if (system === "llm-floor") return llmFloor(n, Number(a), b!);
  throw new Error("usage: worker.cjs keel|langgraph|llm|llm-floor <n> …");
});
