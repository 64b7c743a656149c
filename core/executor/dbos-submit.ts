// Submitting runs to a team's workers and following them (`keel run --on postgres://…`): the
// DBOS executor seen from outside. A run is enqueued as the DBOS workflow `keel_run` with the Keel
// run id as its workflow id, so submitting twice starts it once; its progress is read from the
// Keel record in the PostgreSQL store, which the worker commits as it goes, and failures that
// happen before the record exists (a worker that cannot load the workflow or lacks a secret)
// from DBOS's status of the workflow.
import { DBOSClient } from "@dbos-inc/dbos-sdk";
import { openPgStore, type PgStore } from "../store/pg-store";
import { parse } from "yaml";
import { foldToEnd } from "../record/fold";
import type { EventRecord } from "../record/records";
import type { Executor, RunHandle, RunSpec } from "./executor";
import { storeHandle } from "./local";
import { childFiles } from "./dbos-children";
import { appVersion, DBOS_APP, migrateDbos, RUN_WORKFLOW, RUNS_QUEUE } from "./dbos-schema";

export interface DbosExecutorOptions {
  readonly keelVersion: string;
  /** How often a follower reads the store; default 100 ms. */
  readonly pollMs?: number;
}

export async function openDbosExecutor(
  url: string,
  options: DbosExecutorOptions,
): Promise<DbosExecutor> {
  const store = await openPgStore(url, { maxConnections: 2 });
  try {
    await migrateDbos(url);
    const client = await DBOSClient.create({
      systemDatabaseUrl: url,
      applicationName: DBOS_APP,
      systemDatabasePoolSize: 2,
      systemDatabaseIdleTransactionTimeoutMs: 0,
    });
    return new DbosExecutor(client, store, options);
  } catch (e) {
    await store.close();
    throw e;
  }
}

export class DbosExecutor implements Executor {
  private closed = false;

  constructor(
    private readonly client: DBOSClient,
    readonly store: PgStore,
    private readonly options: DbosExecutorOptions,
  ) {}

  async start(spec: RunSpec): Promise<RunHandle> {
    // The child workflows' files go with the run, read here, where it is submitted.
    const children = spec.children ?? childFiles(spec.workflowPath, spec.source);
    await this.client.enqueue(
      {
        workflowName: RUN_WORKFLOW,
        queueName: RUNS_QUEUE,
        workflowID: spec.runId,
        appVersion: appVersion(this.options.keelVersion),
      },
      { ...spec, children },
    );
    return this.attach(spec.runId);
  }

  attach(runId: string): RunHandle {
    return storeHandle(this.store, runId, this.options.pollMs ?? 100, () => this.failure(runId));
  }

  /** Why DBOS ended the run's workflow when the record has no end for it; undefined otherwise. */
  private async failure(runId: string): Promise<string | undefined> {
    const status = await this.client.getWorkflow(runId);
    if (!status) return `no run ${runId} was submitted`;
    // A cancel whose end is not recorded yet (its canceller may have stopped in between): the
    // record ends as cancelled here, and the follower reads that end.
    if (status.status === "CANCELLED") {
      await recordCancelled(this.store, runId);
      return undefined;
    }
    if (status.status === "ERROR" || status.status.startsWith("MAX_")) {
      // The record may have ended in the meantime: it wins.
      const run = await this.store.getRun(runId);
      if (run && run.status !== "running") return undefined;
      const error = status.error as { message?: unknown } | string | undefined;
      const message =
        typeof error === "string" ? error : typeof error?.message === "string" ? error.message : "";
      return `the workers could not execute run ${runId} (${status.status.toLowerCase()})${message ? `: ${message}` : ""}`;
    }
    return undefined;
  }

  /**
   * Cancels a run wherever it executes: DBOS cancels its workflow and its attempts' (queued ones
   * never start; one executing finishes its effect, and what it would record is refused), then
   * the run's end is recorded here as a local cancel records it. Returns false when the run had
   * already ended.
   */
  async cancel(runId: string): Promise<boolean> {
    await this.client.cancelWorkflow(runId, { cancelChildren: true });
    const ended = await recordCancelled(this.store, runId);
    await recordChildrenCancelled(this.store, runId);
    return ended;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.destroy();
    await this.store.close();
  }
}

const CANCELLED = "the run was cancelled";

/**
 * Records the end of the child runs of `runId` that were under way (started, not finished), and
 * of theirs: DBOS cancelled their workflows with their parent's.
 */
export async function recordChildrenCancelled(store: PgStore, runId: string): Promise<void> {
  const events = await store.events(runId);
  const finished = new Set(
    events.filter((e) => e.type === "child_finished").map((e) => e.data?.childRun),
  );
  for (const e of events) {
    const child = e.data?.childRun;
    if (e.type !== "child_started" || typeof child !== "string" || finished.has(child)) continue;
    await recordCancelled(store, child);
    await recordChildrenCancelled(store, child);
  }
}

/**
 * Records the end of a cancelled run that has not ended, on one transaction with the run's row
 * locked (no worker appends in between, and none appends after: the store refuses appends to an
 * ended run): every step that had not ended is cancelled, in flight or not started, then
 * `run_finished`. False when the run had ended already.
 */
export async function recordCancelled(store: PgStore, runId: string): Promise<boolean> {
  const run = await store.getRun(runId);
  if (!run || run.status !== "running") return false;
  const source = await store.blob(run.sourceHash);
  let declared: string[] = [];
  try {
    const doc = parse(source ?? "") as { steps?: Record<string, unknown> } | null;
    declared = Object.keys(doc?.steps ?? {});
  } catch {
    // Steps that never started are then left out; those that had are still cancelled.
  }
  const at = new Date().toISOString();
  return store.appendAfter(runId, (current, events) => {
    if (!current || current.status !== "running") return undefined;
    const fold = foldToEnd(events, [], declared);
    const out: EventRecord[] = [];
    const event = (e: Omit<EventRecord, "runId" | "seq" | "at">) =>
      out.push({ runId, seq: 0, at, ...e });
    for (const step of fold.steps()) {
      if (step.status === "running") {
        // The attempt in flight (or waiting for its retry): the one after the last that failed.
        const failed = events.filter((e) => e.stepId === step.id && e.type === "attempt_failed");
        const attempt = (failed.at(-1)?.attempt ?? 0) + 1;
        const data = { kind: "cancelled", message: CANCELLED, continued: false };
        event({ type: "step_cancelled", stepId: step.id, scope: null, attempt, data });
      } else if (step.status === "pending") {
        event({ type: "step_cancelled", stepId: step.id, scope: null, attempt: null, data: null });
      }
    }
    event({
      type: "run_finished",
      stepId: null,
      scope: null,
      attempt: null,
      data: { status: "cancelled", error: CANCELLED },
    });
    const ended = { ...current, status: "cancelled" as const, endedAt: at, error: CANCELLED };
    return { runs: [ended], events: out };
  });
}
