// `keel run <file> --on postgres://… [--detach]`: submits the run to a team's workers (the DBOS
// executor, loaded on first use from `@keel/workers`) and, unless detached, follows it as a local
// run is followed: progress from the events the workers commit, then the same summary, JSON and
// exit code. The workflow is validated here first; its secrets come from the workers.
import { foldToEnd } from "@keel/core/record/fold";
import type { LoadedWorkflow } from "@keel/core/runner/load";
import type { RunResult, StepSummary } from "@keel/core/runner/types";
import { newRunId } from "@keel/core/store/ids";
import type { RunStore } from "@keel/core/store/run-store";
import { exportRunToOtel, type OtelOptions } from "../otel";
import { styleFor, UsageError } from "../output";
import { agentIds, Progress } from "../progress";
import { storeName } from "../store";
import { printSummary, summaryJson, writeEventsLine } from "../summary";

declare const KEEL_VERSION: string | undefined;
/** How long a followed run may wait for a worker before `keel run --on` says it is queued. */
const QUEUED_NOTICE_MS = 5_000;
const version = () => (typeof KEEL_VERSION === "string" ? KEEL_VERSION : "0");

export interface RunOnOptions {
  readonly url: string;
  readonly loaded: LoadedWorkflow;
  readonly inputs: Record<string, unknown>;
  readonly env: Record<string, string | undefined>;
  readonly json: boolean;
  readonly events: boolean;
  readonly detach: boolean;
  readonly noCache: boolean;
  readonly concurrency?: number;
  readonly otel?: OtelOptions;
}

export async function performRunOn(o: RunOnOptions): Promise<number> {
  const { openDbosExecutor, RunNotExecutedError } = await import("@keel/workers");
  let executor;
  try {
    executor = await openDbosExecutor(o.url, { keelVersion: version() });
  } catch (e) {
    throw new UsageError(
      `cannot reach the workers' store at ${storeName(o.url)}: ${(e as Error).message}`,
    );
  }
  try {
    const started = Date.now();
    const handle = await executor.start({
      runId: newRunId(),
      workflowPath: o.loaded.path,
      source: o.loaded.source,
      inputs: o.inputs,
      env: o.env,
      concurrency: o.concurrency,
      noCache: o.noCache,
    });
    if (o.detach) {
      if (o.json) process.stdout.write(JSON.stringify({ runId: handle.runId }) + "\n");
      else process.stdout.write(`submitted run ${handle.runId}\n`);
      return 0;
    }
    if (!o.json && !o.events) {
      process.stderr.write(`run ${handle.runId} submitted to the workers at ${storeName(o.url)}\n`);
    }
    const progress =
      o.json || o.events
        ? undefined
        : new Progress(
            process.stderr,
            styleFor(process.stderr),
            o.loaded.graph.ids,
            undefined,
            agentIds(o.loaded.workflow),
          );
    // Ctrl-C cancels the run on the workers, and the summary follows as for a local cancel; a
    // second Ctrl-C stops following at once (the run's end is already recorded or on its way).
    let cancelling = false;
    const onSigint = () => {
      if (cancelling) process.exit(130);
      cancelling = true;
      process.stderr.write("\ncancelling the run on the workers… (Ctrl-C again to quit at once)\n");
      executor.cancel(handle.runId).catch((e: unknown) => {
        process.stderr.write(`keel: cannot cancel run ${handle.runId}: ${(e as Error).message}\n`);
      });
    };
    process.on("SIGINT", onSigint);
    // A run no worker takes waits on the queue: say so once, rather than look stuck.
    const waiting = setTimeout(() => {
      process.stderr.write(
        `keel: run ${handle.runId} is queued; no worker has taken it yet (start one with keel worker --store …)\n`,
      );
    }, QUEUED_NOTICE_MS);
    try {
      for await (const e of handle.events()) {
        clearTimeout(waiting);
        if (o.events) writeEventsLine({ event: e });
        else progress?.onEvent(e);
      }
    } catch (e) {
      if (!(e instanceof RunNotExecutedError)) throw e;
      progress?.stop();
      process.stderr.write(`keel: ${e.message}\n`);
      return 1;
    } finally {
      clearTimeout(waiting);
      progress?.stop();
      process.off("SIGINT", onSigint);
    }
    await handle.ended();
    const result = await resultOf(executor.store, handle.runId);
    if (o.otel) await exportRunToOtel(executor.store, handle.runId, o.otel);
    if (o.events) writeEventsLine({ result: summaryJson(result) });
    else if (o.json) process.stdout.write(JSON.stringify(summaryJson(result), null, 2) + "\n");
    else printSummary(result, Date.now() - started);
    return result.status === "succeeded" ? 0 : result.status === "cancelled" ? 130 : 1;
  } finally {
    await executor.close();
  }
}

/** A run's result as the local runner gives it, read from its record. */
export async function resultOf(store: RunStore, runId: string): Promise<RunResult> {
  const run = (await store.getRun(runId))!;
  const [events, attempts, findings] = await Promise.all([
    store.events(runId),
    store.attempts(runId),
    store.findings(runId),
  ]);
  const steps: StepSummary[] = [];
  for (const s of foldToEnd(events, attempts).steps()) {
    steps.push({
      id: s.id,
      status: s.status === "running" ? "pending" : s.status,
      origin: s.origin,
      continued: s.continued,
      attempts: s.attempts,
      durationMs:
        s.startedAt && s.ended ? Math.max(0, Date.parse(s.ended.at) - Date.parse(s.startedAt)) : 0,
      error: s.error as StepSummary["error"],
    });
  }
  const outputs = run.outputsHash
    ? (JSON.parse((await store.blob(run.outputsHash)) ?? "null") as Record<string, unknown> | null)
    : null;
  return {
    runId,
    status: run.status,
    outputs,
    error: run.error,
    findings: findings.map((f) => ({ kind: f.kind, message: f.message })),
    steps,
  };
}
