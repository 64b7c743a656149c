// One configuration of the agents benchmark (docs/benchmarks.md, "Agents (#20)"), in a process of
// its own so that its peak RSS is its own (agents.bench.ts bundles it and runs it with plain
// `node`). Prints one line `RESULT {json}`. Every configuration runs the same agent of `n` turns
// against the local server at `url` (bench/agents/provider.ts): `runs` runs, the first of them in
// a fresh store of its own (its bytes are measured), the others in a second store.
//
//   worker.cjs keel <n> <runs> <url> [inproc] [runs-only]   Keel's agent step (runWorkflow, full
//                          recording); then the last run read back and replayed. `inproc`: the
//                          tools are called in this process (a bench-only effect), not in Keel's
//                          tool worker; `runs-only`: the runs, nothing read back (for a profile)
//   worker.cjs langgraph <n> <runs> <url>   LangGraph.js's ReAct agent with SqliteSaver
//   worker.cjs floor <n> <runs> <url> [keel-transport]   the bare loop: the `openai` SDK with its
//                          defaults (or as Keel builds it), the tools called directly, nothing kept
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import type OpenAI from "openai";
import type { Effects } from "@keel/core/runner/effects";
import { loadWorkflow, type LoadedWorkflow } from "@keel/core/runner/load";
import { createNodeEffects } from "@keel/core/runner/node-effects";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import type { RunStore } from "@keel/core/store/run-store";
import { readRecordedRun, type RecordedRun } from "@keel/core/replay/record";
import { replayRun } from "@keel/core/replay/replay";
import { median, workerMain } from "../figures";
import { runLoaded } from "../runner/keel";
import {
  agentWorkflow,
  answerText,
  promptText,
  TOOL_SPECS,
  TOOLS_FILE,
  TOOLS_MODULE,
} from "./tools";

/** A store's bytes after one run of `n` turns (Keel's store, or LangGraph's checkpoint file). */
export interface StoreBytes {
  /** The SQLite file (and any -wal file) once closed. */
  readonly file: number;
  /** The same system's store with no run in it (schema and pages). */
  readonly emptyFile: number;
  /** Keel: the texts of the blobs table (UTF-8 bytes), and how many. */
  readonly blobs?: number;
  readonly blobCount?: number;
  /** Keel: the stored texts of the turns' inputs (links, or whole for the first). */
  readonly turnInputsStored?: number;
  /** Keel: the same inputs whole, as `store.blob` gives them back: what by-value storage keeps. */
  readonly turnInputsWhole?: number;
  /** The largest turn input, whole. */
  readonly largestInput?: number;
}

/** What one worker reports. */
export interface AgentResult {
  /** Wall time of each run, in order (the first is the cold one, into its own store). */
  readonly ms: number[];
  /** This process's CPU time (user + system, all its threads) during each run. */
  readonly cpuMs: number[];
  /** The process's high-water mark (maxRSS) after loading and the first run, in MB. */
  readonly firstRunRssMb: number;
  /** The high-water mark at the end (after every run, and Keel's read-back and replays), in MB. */
  readonly peakRssMb: number;
  readonly bytes?: StoreBytes;
  /**
   * Keel: readRecordedRun of the last run, then replayRun of it: medians after the first (wall
   * and CPU time), and the first replay's wall time.
   */
  readonly readRunMs?: number;
  readonly readRunCpuMs?: number;
  readonly replayMs?: number;
  readonly replayCpuMs?: number;
  readonly replayFirstMs?: number;
  /** Keel: the effects the replays reached (must be 0) and the recorded run's events. */
  readonly replayEffects?: number;
  readonly events?: number;
}

const rssMb = () => process.resourceUsage().maxRSS / 1024;

type ToolFn = (args: Record<string, unknown>) => unknown;

/** The tools module, written to `dir` and imported from there (the file Keel's tool worker runs). */
async function toolFunctions(dir: string): Promise<Record<string, ToolFn>> {
  const path = join(dir, TOOLS_FILE);
  writeFileSync(path, TOOLS_MODULE);
  return (await import(pathToFileURL(path).href)) as Record<string, ToolFn>;
}

function fileBytes(path: string): number {
  let bytes = 0;
  for (const suffix of ["", "-wal"]) {
    try {
      bytes += statSync(path + suffix).size;
    } catch {
      // no such file: nothing to count
    }
  }
  return bytes;
}

interface Timed {
  readonly ms: number;
  readonly cpuMs: number;
}

/** The wall time and this process's CPU time (user + system, all threads) of `f`. */
async function timed(f: () => Promise<unknown>): Promise<Timed> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await f();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}

/** `runs` runs; their wall and CPU times and the high-water mark after the first. */
async function runAll(runs: number, run: (i: number) => Promise<number>) {
  const ms: number[] = [];
  const cpuMs: number[] = [];
  let firstRunRssMb = 0;
  for (let i = 0; i < runs; i++) {
    let wall = 0;
    const t = await timed(async () => (wall = await run(i)));
    // The run's own measure of its wall time (its setup apart), the process's CPU time.
    ms.push(wall);
    cpuMs.push(t.cpuMs);
    if (i === 0) firstRunRssMb = rssMb();
  }
  return { ms, cpuMs, firstRunRssMb };
}

/**
 * The bytes of a closed Keel store holding one run: the file, the blob texts, and the turns'
 * inputs (the model-call attempts at `research#t`) as stored and whole (through `store.blob`).
 */
async function keelBytes(path: string, runId: string): Promise<StoreBytes> {
  const file = fileBytes(path);
  const emptyPath = `${path}.empty`;
  await openSqliteStore(emptyPath).close();
  const emptyFile = fileBytes(emptyPath);
  const store = openSqliteStore(path);
  const inputs = new Map<string, number>();
  for (const a of await store.attempts(runId)) {
    if (a.stepId !== "research" || !/^#\d+$/.test(a.scope ?? "")) continue;
    const whole = await store.blob(a.inputHash);
    if (whole === undefined) throw new Error(`turn ${a.scope}: input ${a.inputHash} is missing`);
    inputs.set(a.inputHash, Buffer.byteLength(whole));
  }
  await store.close();
  const db = new Database(path, { readonly: true });
  try {
    const total = db
      .prepare("SELECT count(*) AS n, sum(length(CAST(text AS BLOB))) AS bytes FROM blobs")
      .get() as { n: number; bytes: number };
    const stored = db
      .prepare("SELECT length(CAST(text AS BLOB)) FROM blobs WHERE hash = ?")
      .pluck();
    let turnInputsStored = 0;
    for (const hash of inputs.keys())
      turnInputsStored += (stored.get(hash) as number | undefined) ?? 0;
    const sizes = [...inputs.values()];
    return {
      file,
      emptyFile,
      blobs: total.bytes,
      blobCount: total.n,
      turnInputsStored,
      turnInputsWhole: sizes.reduce((a, x) => a + x, 0),
      largestInput: Math.max(...sizes),
    };
  } finally {
    db.close();
  }
}

function load(dir: string, n: number, url: string): LoadedWorkflow {
  const path = join(dir, `agent-${n}.keel.yaml`);
  writeFileSync(path, agentWorkflow(n, url));
  const r = loadWorkflow(path);
  if (!r.ok) {
    const first = r.diagnostics.filter((d) => d.severity === "error").slice(0, 3);
    throw new Error(`invalid workflow: ${first.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  }
  return r.loaded;
}

/**
 * The bench-only in-process tools (as the runner benchmark's no-op effect): the same module's
 * functions called here, their results through JSON as the tool worker returns them, so that what
 * remains is Keel's own loop and record without a worker thread per call.
 */
function inProcessTools(base: Effects, functions: Readonly<Record<string, ToolFn>>): Effects {
  return {
    ...base,
    tool: async (call) =>
      JSON.parse(
        JSON.stringify(await functions[call.exportName]!(call.args as Record<string, unknown>)),
      ) as unknown,
  };
}

async function keel(
  dir: string,
  n: number,
  runs: number,
  url: string,
  inproc: boolean,
  runsOnly: boolean,
): Promise<AgentResult> {
  const functions = await toolFunctions(dir);
  const loaded = load(dir, n, url);
  const base = createNodeEffects({ providers: loaded.workflow.providers ?? {}, dir: loaded.dir });
  const effects = inproc ? inProcessTools(base, functions) : base;
  const once = async (store: RunStore) => {
    const { ms, result } = await runLoaded(loaded, store, effects);
    if (result.outputs?.answer !== answerText(n) || result.outputs.turns !== n)
      throw new Error(`keel: ${JSON.stringify(result.outputs)}`);
    return { ms, runId: result.runId };
  };
  // The first run alone in a store of its own: its bytes.
  const bytesPath = join(dir, "one-run.sqlite");
  let bytesRun = "";
  const main = openSqliteStore(join(dir, "runs.sqlite"));
  let runId = "";
  const timings = await runAll(runs, async (i) => {
    if (i > 0) {
      const r = await once(main);
      runId = r.runId;
      return r.ms;
    }
    const store = openSqliteStore(bytesPath);
    const r = await once(store);
    await store.close();
    bytesRun = r.runId;
    return r.ms;
  });
  if (runsOnly) {
    await main.close();
    return { ...timings, peakRssMb: rssMb() };
  }
  const bytes = await keelBytes(bytesPath, bytesRun);
  if (!runId) {
    await main.close();
    return { ...timings, peakRssMb: rssMb(), bytes };
  }
  // Fewer at 200 turns: a read and a replay take seconds there (docs/benchmarks.md says why).
  const reps = n >= 200 ? 2 : 6;
  const read: Timed[] = [];
  let record: RecordedRun | undefined;
  for (let i = 0; i < reps; i++) {
    read.push(await timed(async () => (record = await readRecordedRun(main, runId))));
  }
  if (!record) throw new Error(`run ${runId} not found`);
  const replays: Timed[] = [];
  let effectsReached = 0;
  for (let i = 0; i < reps; i++) {
    replays.push(
      await timed(async () => {
        const report = await replayRun(record!, loaded);
        effectsReached += report.effectsExecuted;
        if (report.divergences.length || report.outputs?.answer !== answerText(n))
          throw new Error(
            `the replay diverged: ${JSON.stringify(report.divergences[0] ?? report.outputs)}`,
          );
      }),
    );
  }
  await main.close();
  return {
    ...timings,
    peakRssMb: rssMb(),
    bytes,
    readRunMs: median(read.slice(1).map((t) => t.ms)),
    readRunCpuMs: median(read.slice(1).map((t) => t.cpuMs)),
    replayFirstMs: replays[0]!.ms,
    replayMs: median(replays.slice(1).map((t) => t.ms)),
    replayCpuMs: median(replays.slice(1).map((t) => t.cpuMs)),
    replayEffects: effectsReached,
    events: record.events.length,
  };
}

async function langgraph(dir: string, n: number, runs: number, url: string): Promise<AgentResult> {
  const functions = await toolFunctions(dir);
  // Imported only here: LangGraph's modules would otherwise count in the other workers' RSS.
  const { langGraphAgent } = await import("./langgraph");
  const one = langGraphAgent(join(dir, "one-run.sqlite"), n, url, functions);
  const many = langGraphAgent(join(dir, "checkpoints.sqlite"), n, url, functions);
  let file = 0;
  const timings = await runAll(runs, async (i) => {
    if (i > 0) return many.run(i);
    const ms = await one.run(0);
    one.close();
    file = fileBytes(join(dir, "one-run.sqlite"));
    return ms;
  });
  many.close();
  // SqliteSaver creates its tables on first use: an empty one is a saver that was asked once.
  const empty = langGraphAgent(join(dir, "empty.sqlite"), n, url, functions);
  await empty.list();
  empty.close();
  const emptyFile = fileBytes(join(dir, "empty.sqlite"));
  return { ...timings, peakRssMb: rssMb(), bytes: { file, emptyFile } };
}

/**
 * The floor: the same conversation driven by hand with the `openai` SDK (its defaults, or the
 * client as Keel builds it), the tools called directly, results sent as JSON text, nothing kept
 * but the messages. What any agent loop on this machine and server must spend.
 */
async function floor(
  dir: string,
  n: number,
  runs: number,
  url: string,
  keelTransport: boolean,
): Promise<AgentResult> {
  const functions = await toolFunctions(dir);
  const { default: OpenAIClient } = await import("openai");
  let client: OpenAI;
  if (keelTransport) {
    const { clientSettings } = await import("../../core/runner/providers/connection");
    const settings = clientSettings({ baseUrl: url, apiKey: "bench", headers: {} }, url);
    client = new OpenAIClient({ ...settings, organization: null, project: null });
  } else client = new OpenAIClient({ baseURL: url, apiKey: "bench", maxRetries: 0 });
  const tools = TOOL_SPECS.map((t) => ({
    type: "function" as const,
    function: { name: t.name, description: t.description, parameters: t.parameters },
  }));
  const timings = await runAll(runs, async () => {
    const start = performance.now();
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: "user", content: promptText(n) },
    ];
    for (;;) {
      const r = await client.chat.completions.create({
        model: "gpt-4o-mini",
        messages,
        tools,
        parallel_tool_calls: true,
      });
      const message = r.choices[0]!.message;
      const calls = (message.tool_calls ?? []).filter((c) => c.type === "function");
      if (calls.length === 0) {
        const ms = performance.now() - start;
        if (message.content !== answerText(n))
          throw new Error(`floor answered ${JSON.stringify(message.content)}`);
        if (messages.length !== 1 + 3 * (n - 1)) throw new Error("floor: wrong number of turns");
        return ms;
      }
      messages.push({ role: "assistant", content: message.content, tool_calls: calls });
      const results = await Promise.all(
        calls.map(async (c) =>
          functions[c.function.name]!(JSON.parse(c.function.arguments) as Record<string, unknown>),
        ),
      );
      calls.forEach((c, i) =>
        messages.push({ role: "tool", tool_call_id: c.id, content: JSON.stringify(results[i]) }),
      );
    }
  });
  return { ...timings, peakRssMb: rssMb() };
}

workerMain("agents", async (dir) => {
  const [system, nText, runsText, url, ...flags] = process.argv.slice(2);
  const n = Number(nText);
  const runs = Number(runsText);
  if (!Number.isInteger(n) || !Number.isInteger(runs) || !url)
    throw new Error("usage: worker.cjs keel|langgraph|floor <n> <runs> <url> [flags]");
  if (system === "keel")
    return keel(dir, n, runs, url, flags.includes("inproc"), flags.includes("runs-only"));
  if (system === "langgraph") return langgraph(dir, n, runs, url);
  if (system === "floor") return floor(dir, n, runs, url, flags.includes("keel-transport"));
  throw new Error(`unknown configuration ${system}`);
});
