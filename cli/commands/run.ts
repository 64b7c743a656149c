// `keel run <file>`: runs a workflow, shows live progress, records the run in the store.
// Exit codes: 0 succeeded, 1 failed, 2 bad usage or an invalid workflow, 130 cancelled.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { loadWorkflow, type LoadedWorkflow } from "@keel/core/runner/load";
import type { ResumePoint, ReusedStep } from "@keel/core/runner/types";
import { planStepRun } from "@keel/core/runner/step-run";
import { subgraph, withAncestors, type StepGraph } from "@keel/core/graph/graph";
import { closest } from "@keel/core/model/suggest";
import { runWorkflow, type RunResult } from "@keel/core/runner/run";
import { createNodeEffects } from "@keel/core/runner/node-effects";
import { resolveInputs } from "@keel/core/runner/inputs";
import { defaultStorePath } from "@keel/core/node/store-path";
import { flag, parseArgs } from "../args";
import { formatDiagnostic, locate } from "../diagnostics";
import { styleFor, UsageError } from "../output";
import { exportRunToOtel } from "../otel";
import { agentIds, Progress } from "../progress";
import { otelOf, secretsFromEnv, type OtelTarget } from "../run-options";
import { printSummary, summaryJson, writeEventsLine } from "../summary";
import { openStoreAt, storeName } from "../store";
import { isPgUrl } from "@keel/core/store/location";
import { StoreFileError } from "@keel/core/store/sqlite-store";
import type { Workflow } from "@keel/core/model/schema";
import { chunkLines, liveStreams, StreamPrinter } from "../stream";

export const usage =
  "keel run <file> [--step S | --to S] [--input name=value]... [--inputs file.json] [--json | --events] [--stream] [--no-cache] [--store path | postgres://… | --on postgres://… [--detach]] [--concurrency n] [--otel endpoint [--otel-content]]";

const SPEC = {
  "--input": true,
  "--inputs": true,
  "--json": false,
  "--events": false,
  "--stream": false,
  "--store": true,
  "--concurrency": true,
  "--no-cache": false,
  "--step": true,
  "--to": true,
  "--otel": true,
  "--otel-content": false,
  "--on": true,
  "--detach": false,
};

export async function runRun(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, SPEC, usage);
  if (args.positionals.length !== 1)
    throw new UsageError(`name one workflow file\nusage: ${usage}`);
  const file = resolve(args.positionals[0]!);
  const json = args.flags.has("--json");
  const s = styleFor(process.stderr);

  let loadResult;
  try {
    loadResult = loadWorkflow(file);
  } catch (e) {
    throw new UsageError(`cannot read ${args.positionals[0]}: ${(e as Error).message}`);
  }
  if (!loadResult.ok) {
    for (const d of locate(file, loadResult.source, loadResult.diagnostics)) {
      if (d.severity === "error") process.stderr.write(formatDiagnostic(d, s) + "\n");
    }
    process.stderr.write(`keel: the workflow has errors; fix them and run again\n`);
    return 2;
  }
  const { loaded } = loadResult;

  const given: [string, string][] = (args.flags.get("--input") ?? []).map((pair) => {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--input takes name=value, not '${pair}'`);
    return [pair.slice(0, eq), pair.slice(eq + 1)];
  });
  const inputsFile = flag(args, "--inputs");
  let fromFile: Record<string, unknown> = {};
  if (inputsFile) {
    try {
      fromFile = JSON.parse(readFileSync(inputsFile, "utf8")) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`cannot read the inputs file ${inputsFile}: ${(e as Error).message}`);
    }
  }
  if (json && args.flags.has("--stream"))
    throw new UsageError("--stream prints text as it arrives; it does not go with --json");
  const on = flag(args, "--on");
  if (on !== undefined && args.flags.has("--stream"))
    throw new UsageError(
      "--stream does not go with --on yet: the workers record the streamed replies, and `keel show` prints them once recorded",
    );
  if (on !== undefined) return runOn(args, loaded, on, fromFile, given);
  if (args.flags.has("--detach")) throw new UsageError("--detach goes with --on postgres://…");
  const storePath = flag(args, "--store") ?? defaultStorePath(loaded.dir);
  const selection = await selectSteps(loaded, flag(args, "--step"), flag(args, "--to"), storePath);
  const { inputs, problems } = resolveInputs(
    loaded.workflow,
    { ...selection.inputs, ...fromFile },
    given,
  );
  if (problems.length > 0) throw new UsageError(problems.join("\n"));

  const secrets = secretsFromEnv(loaded.secretNames);
  const env = Object.fromEntries(loaded.envNames.map((n) => [n, process.env[n]]));
  const concurrency = flag(args, "--concurrency");
  if (concurrency !== undefined && !(Number(concurrency) >= 1)) {
    throw new UsageError("--concurrency takes a whole number of at least 1");
  }

  return performRun({
    ...selection,
    loaded,
    inputs,
    env,
    secrets,
    storePath,
    json,
    events: args.flags.has("--events"),
    stream: args.flags.has("--stream"),
    noCache: args.flags.has("--no-cache"),
    concurrency: concurrency ? Number(concurrency) : undefined,
    otel: otelOf(args),
  });
}

/** `--on postgres://…`: the run goes to the workers of that database (run-on.ts). */
async function runOn(
  args: ReturnType<typeof parseArgs>,
  loaded: LoadedWorkflow,
  url: string,
  fromFile: Record<string, unknown>,
  given: [string, string][],
): Promise<number> {
  if (!isPgUrl(url)) throw new UsageError(`--on takes a postgres://… URL, not '${url}'`);
  for (const f of ["--store", "--step", "--to"]) {
    if (args.flags.has(f))
      throw new UsageError(`${f} does not go with --on: the workers' store is the database`);
  }
  const { inputs, problems } = resolveInputs(loaded.workflow, fromFile, given);
  if (problems.length > 0) throw new UsageError(problems.join("\n"));
  const concurrency = flag(args, "--concurrency");
  if (concurrency !== undefined && !(Number(concurrency) >= 1)) {
    throw new UsageError("--concurrency takes a whole number of at least 1");
  }
  const { performRunOn } = await import("./run-on");
  return performRunOn({
    url,
    loaded,
    inputs,
    env: Object.fromEntries(loaded.envNames.map((n) => [n, process.env[n]])),
    json: args.flags.has("--json"),
    events: args.flags.has("--events"),
    detach: args.flags.has("--detach"),
    noCache: args.flags.has("--no-cache"),
    concurrency: concurrency ? Number(concurrency) : undefined,
    otel: otelOf(args),
  });
}

export interface PerformOptions {
  readonly loaded: LoadedWorkflow;
  readonly inputs: Record<string, unknown>;
  readonly env: Record<string, string | undefined>;
  readonly secrets: Record<string, string>;
  readonly storePath: string;
  readonly json: boolean;
  /**
   * Machine output for editors: every event as it is recorded, one JSON line `{"event": …}` on
   * stdout, then `{"result": …}` (what --json prints) on the last line.
   */
  readonly events?: boolean;
  /** Print the text of streamed steps on stdout as it arrives (cli/stream.ts). */
  readonly stream?: boolean;
  readonly noCache?: boolean;
  readonly concurrency?: number;
  readonly resume?: ResumePoint;
  readonly graph?: StepGraph;
  readonly reuse?: ReadonlyMap<string, ReusedStep>;
  readonly parentId?: string;
  /** Send the run's spans to this OpenTelemetry collector once it ends (docs/cli.md). */
  readonly otel?: OtelTarget;
}

/** Runs (or resumes) with live progress and Ctrl-C handling, then prints the result; the exit code. */
export async function performRun(o: PerformOptions): Promise<number> {
  const { loaded } = o;
  const s = styleFor(process.stderr);
  const store = await openStoreAt(o.storePath);
  if (store.readOnly) {
    await store.close();
    throw new UsageError(
      `${storeName(o.storePath)} was written by a newer Keel and is read-only here: update Keel, or run with --store <another file>`,
    );
  }
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write("\ncancelling… (Ctrl-C again to quit at once)\n");
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  const progress =
    o.json || o.events
      ? undefined
      : // Streamed text on the same terminal: progress lines as steps end, never redrawn over it.
        new Progress(
          process.stderr,
          s,
          (o.graph ?? loaded.graph).ids,
          o.stream && process.stdout.isTTY ? false : undefined,
          agentIds(loaded.workflow),
        );
  // Streamed steps' text, live: chunk lines with --events, the text itself with --stream.
  const live =
    o.events || o.stream
      ? liveStreams(
          o.secrets,
          o.events ? chunkLines : new StreamPrinter((t) => process.stdout.write(t)),
        )
      : undefined;
  const effectsFor = (providers: Workflow["providers"], dir: string) =>
    createNodeEffects({
      providers: providers ?? {},
      dir,
      ...(live ? { onChunk: live.onChunk, onStreamEnd: live.onStreamEnd } : {}),
    });
  let result: RunResult;
  const started = Date.now();
  try {
    result = await runWorkflow({
      workflowPath: loaded.path,
      source: loaded.source,
      workflow: loaded.workflow,
      graph: o.graph ?? loaded.graph,
      inputs: o.inputs,
      reuse: o.reuse,
      mode: o.parentId ? "rerun" : "run",
      parentId: o.parentId ?? null,
      store,
      effects: effectsFor(loaded.workflow.providers, loaded.dir),
      ...(live ? { childEffects: (c) => effectsFor(c.workflow.providers, c.dir) } : {}),
      env: o.env,
      // A child workflow reads the `env.NAME` values it names itself, as its parent does.
      readEnv: (names) => Object.fromEntries(names.map((n) => [n, process.env[n]])),
      secrets: o.secrets,
      signal: controller.signal,
      concurrency: o.concurrency,
      noCache: o.noCache,
      resume: o.resume,
      onEvent: o.events ? (e) => writeEventsLine({ event: e }) : (e) => progress?.onEvent(e),
    });
    // The spans are built from the record, once the run has ended; a collector that does not
    // answer is reported, and does not change the run's outcome.
    if (o.otel) await exportRunToOtel(store, result.runId, o.otel);
  } catch (e) {
    // A step deleted or overwrote the store: there is nothing to resume, and the message says so.
    if (e instanceof StoreFileError && e.kind === "lost") {
      process.stderr.write(`keel: ${e.message}\n`);
      return 1;
    }
    // The store could not take a write (disk full, locked, removed): what was committed stays,
    // and the run shows as interrupted, so `keel resume` can continue it.
    process.stderr.write(
      `keel: cannot record the run in ${storeName(o.storePath)}: ${(e as Error).message}\nWhat was recorded is kept; once the store is writable, \`keel resume latest\` continues the run.\n`,
    );
    return 1;
  } finally {
    live?.close();
    progress?.stop();
    process.off("SIGINT", onSigint);
    await store.close();
  }
  const summary = summaryJson(result);
  if (o.events) {
    writeEventsLine({ result: summary });
  } else if (o.json) {
    process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
  } else printSummary(result, Date.now() - started);
  return result.status === "succeeded" ? 0 : result.status === "cancelled" ? 130 : 1;
}

interface Selection {
  readonly graph?: StepGraph;
  readonly reuse?: ReadonlyMap<string, ReusedStep>;
  readonly parentId?: string;
  readonly inputs?: Record<string, unknown>;
}

/** `--to S`: S and everything it needs. `--step S`: S alone, on recorded outputs of its dependencies. */
async function selectSteps(
  loaded: LoadedWorkflow,
  step: string | undefined,
  to: string | undefined,
  storePath: string,
): Promise<Selection> {
  if (step !== undefined && to !== undefined) throw new UsageError("give --step or --to, not both");
  const target = step ?? to;
  if (target === undefined) return {};
  if (!loaded.graph.deps.has(target)) {
    const match = closest(target, loaded.graph.ids);
    throw new UsageError(
      `no step '${target}' in the workflow${match ? `: did you mean '${match}'?` : ""}`,
    );
  }
  if (to !== undefined) return { graph: subgraph(loaded.graph, withAncestors(loaded.graph, to)) };
  const store = await openStoreAt(storePath);
  try {
    const plan = await planStepRun(store, loaded, target);
    // A step that needs nothing runs on its own when no run has been recorded yet.
    if (!plan.ok && loaded.graph.deps.get(target)!.length === 0) {
      return { graph: subgraph(loaded.graph, new Set([target])) };
    }
    if (!plan.ok) throw new UsageError(plan.problem);
    const keep = new Set([target, ...plan.reuse.keys()]);
    return {
      graph: subgraph(loaded.graph, keep),
      reuse: plan.reuse,
      parentId: plan.parent.id,
      inputs: plan.inputs,
    };
  } finally {
    await store.close();
  }
}
