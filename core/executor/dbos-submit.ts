// Submitting runs to a team's workers and following them (`keel run --on postgres://…`): the
// DBOS executor seen from outside. A run is enqueued as the DBOS workflow `keel_run` with the Keel
// run id as its workflow id, so submitting twice starts it once; its progress is read from the
// Keel record in the PostgreSQL store, which the worker commits as it goes, and failures that
// happen before the record exists (a worker that cannot load the workflow or lacks a secret)
// from DBOS's status of the workflow.
import { DBOSClient } from "@dbos-inc/dbos-sdk";
import { openPgStore, type PgStore } from "../store/pg-store";
import type { EventRecord, RunRecord } from "../store/records";
import type { Executor, RunHandle, RunSpec } from "./executor";
import { appVersion, DBOS_APP, migrateDbos, RUN_WORKFLOW, RUNS_QUEUE } from "./dbos-schema";

export interface DbosExecutorOptions {
  readonly keelVersion: string;
  /** How often a follower reads the store; default 100 ms. */
  readonly pollMs?: number;
}

/** Thrown when DBOS ended a run's workflow without a Keel record saying how the run ended. */
export class RunNotExecutedError extends Error {}

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
    await this.client.enqueue(
      {
        workflowName: RUN_WORKFLOW,
        queueName: RUNS_QUEUE,
        workflowID: spec.runId,
        appVersion: appVersion(this.options.keelVersion),
      },
      spec,
    );
    return this.attach(spec.runId);
  }

  attach(runId: string): RunHandle {
    const pollMs = this.options.pollMs ?? 100;
    const store = this.store;
    const failure = () => this.failure(runId);
    return {
      runId,
      async *events(afterSeq = 0) {
        let seen = afterSeq;
        for (;;) {
          const batch: EventRecord[] = await store.events(runId, seen);
          for (const e of batch) {
            seen = e.seq;
            yield e;
            if (e.type === "run_finished") return;
          }
          if (batch.length === 0) {
            const run = await store.getRun(runId);
            if (run && run.status !== "running") return;
            const why = await failure();
            if (why) throw new RunNotExecutedError(why);
            await sleep(pollMs);
          }
        }
      },
      async ended(): Promise<RunRecord> {
        for (;;) {
          const run = await store.getRun(runId);
          if (run && run.status !== "running") return run;
          const why = await failure();
          if (why) throw new RunNotExecutedError(why);
          await sleep(pollMs);
        }
      },
    };
  }

  /** Why DBOS ended the run's workflow when the record has no end for it; undefined otherwise. */
  private async failure(runId: string): Promise<string | undefined> {
    const status = await this.client.getWorkflow(runId);
    if (!status) return `no run ${runId} was submitted`;
    if (
      status.status === "ERROR" ||
      status.status === "CANCELLED" ||
      status.status.startsWith("MAX_")
    ) {
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

  async cancel(runId: string): Promise<void> {
    await this.client.cancelWorkflow(runId);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.destroy();
    await this.store.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
