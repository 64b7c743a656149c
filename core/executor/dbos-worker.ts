// A Keel worker (`keel worker --store postgres://…`, docs/team.md): a DBOS executor that takes runs
// off the `keel-runs` queue and the attempts of their steps off the steps' queues, and records
// them in the PostgreSQL store. A run is the DBOS workflow `keel_run` (dbos-run.ts), whose id is
// the Keel run id; each attempt of a step with an effect is a child workflow `keel_attempt`
// (dbos-attempt.ts), so one run's steps spread over the pool, and a provider's `concurrency` is a
// limit for the whole pool (its queue's). A workflow whose worker died is executed again by
// another worker, from DBOS's checkpoints: the run takes the same decisions, and nothing recorded
// is recorded twice.
// Invariants:
// - Keel's and DBOS's migrations run once, each under an advisory lock, before DBOS launches
//   (`runMigrations: false`): workers starting together on an empty database do not race.
// - Every live worker holds the advisory lock `keel.worker.<id>` on a connection of its own for
//   as long as it lives. A worker whose lock is free is dead: every worker looks, every
//   `recoverEveryMs`, for workers that own pending runs, and hands the runs of a dead one back to
//   the queue (DBOS's recovery), holding that worker's lock meanwhile so two live workers never
//   recover it at once. DBOS self-hosted recovers nothing by itself (scale-out notes §1).
// - The queue is registered after launch (DBOS 5 keeps queues in the database).
import { DBOS } from "@dbos-inc/dbos-sdk";
import { DBOSExecutor } from "@dbos-inc/dbos-sdk/internal/dbos-executor";
import pg from "pg";
import { openPgStore, type PgStore } from "../store/pg-store";
import type { RunSpec } from "./executor";
import {
  appVersion,
  ATTEMPT_WORKFLOW,
  CHILD_RUNS_QUEUE,
  DBOS_APP,
  migrateDbos,
  providerQueue,
  RUN_WORKFLOW,
  RUNS_QUEUE,
  STEPS_QUEUE,
  TIMER_WORKFLOW,
} from "./dbos-schema";
import { executeDistributed, type Executed } from "./dbos-run";
import { executeAttempt, type AttemptTask } from "./dbos-attempt";
import type { WorkerContext } from "./dbos-record";

export interface WorkerOptions {
  readonly url: string;
  /** The worker's name, unique among the live workers of the database (DBOS's executor id). */
  readonly id: string;
  /** Runs this worker executes at once, at most (their workflows mostly wait for attempts). */
  readonly concurrency: number;
  /** Step attempts this worker executes at once, at most; default 4 × `concurrency`. */
  readonly attempts?: number;
  readonly keelVersion: string;
  readonly secrets: (names: readonly string[]) => Record<string, string>;
  /** Called after each run this worker executed has ended (an OpenTelemetry export). */
  readonly onRunEnded?: (store: PgStore, executed: Executed) => Promise<void>;
  readonly log?: (line: string) => void;
  /** How often to look for dead workers' runs; default 500 ms. */
  readonly recoverEveryMs?: number;
  /** How often the queues are polled at least; default 50 ms (DBOS's default is 1 s). */
  readonly pollMs?: number;
  /** How often a run looks for the ends of its attempts; default 25 ms. */
  readonly waitMs?: number;
}

export interface Worker {
  readonly id: string;
  /** Runs handed back to the queue from dead workers so far. */
  readonly recovered: number;
  /**
   * Stops taking runs, waits up to `graceMs` for the runs executing here to end, and stops. A
   * run still executing then is handed back: its lock goes with this process, and another worker
   * resumes it. Exit the process after it: runs past the grace are abandoned, not awaited.
   */
  stop(graceMs: number): Promise<void>;
}

const lockName = (id: string) => `keel.worker.${id}`;

export async function startWorker(o: WorkerOptions): Promise<Worker> {
  const log = o.log ?? (() => {});
  const store = await openPgStore(o.url, { maxConnections: Math.min(8, o.concurrency + 2) });
  // Keepalive probes, so that a connection cut by the network is found dead on this side too.
  const liveness = new pg.Client({
    connectionString: o.url,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  try {
    await migrateDbos(o.url);
    await liveness.connect();
    const held = await liveness.query("SELECT pg_try_advisory_lock(hashtext($1)) AS ok", [
      lockName(o.id),
    ]);
    if (!held.rows[0]?.ok) {
      throw new Error(`a worker named '${o.id}' is already running on this database`);
    }
  } catch (e) {
    await store.close();
    await liveness.end().catch(() => {});
    throw e;
  }
  // A dropped liveness connection means peers may take this worker's runs: stop at once.
  liveness.on("error", (e) => {
    log(`lost the database connection that says this worker is alive (${e.message}): stopping`);
    process.exit(1);
  });

  const context: WorkerContext = {
    id: o.id,
    store,
    secrets: o.secrets,
    pollMs: o.waitMs ?? 50,
  };
  const pollMs = o.pollMs ?? 50;
  const attempt = DBOS.registerWorkflow(
    async (task: AttemptTask) => executeAttempt(context, task),
    { name: ATTEMPT_WORKFLOW },
  );
  const queues = new Set<string>();
  // Registered below: a workflow step's child run is a run workflow of its own.
  const registered: { run?: (spec: RunSpec) => Promise<Executed> } = {};
  // A workflow step's time limit: a durable sleep the run waits for beside the child run.
  const sleeper = DBOS.registerWorkflow(
    async (ms: number) => {
      await DBOS.sleep(ms);
      return ms;
    },
    { name: TIMER_WORKFLOW },
  );
  const flows = {
    attempt,
    timer: sleeper,
    get run() {
      return registered.run!;
    },
    // A provider with a `concurrency` gets a queue of its own, limited pool-wide; the others
    // share the steps' queue. Registered on first use; every worker picks it up from the database.
    async queueOf(limit: number | undefined, provider: string | undefined) {
      if (!provider || !limit) return STEPS_QUEUE;
      const name = providerQueue(provider, limit);
      if (!queues.has(name)) {
        await DBOS.registerQueue(name, {
          concurrency: limit,
          minPollingIntervalMs: pollMs,
          onConflict: "always_update",
        });
        queues.add(name);
      }
      return name;
    },
  };
  registered.run = DBOS.registerWorkflow(
    async (spec: RunSpec) => {
      log(`run ${spec.runId} started`);
      const executed: Executed = await executeDistributed(context, flows, spec);
      log(`run ${spec.runId} ${executed.status}`);
      // An export that fails is the collector's problem, not the run's: it ended as recorded.
      if (o.onRunEnded) {
        await o.onRunEnded(store, executed).catch((e: unknown) => {
          log(`after run ${spec.runId}: ${(e as Error).message}`);
        });
      }
      return executed;
    },
    { name: RUN_WORKFLOW },
  );
  DBOS.setConfig({
    name: DBOS_APP,
    systemDatabaseUrl: o.url,
    executorID: o.id,
    applicationVersion: appVersion(o.keelVersion),
    runMigrations: false,
    logLevel: "error",
    // DBOS sets it with a query on every new connection, which pg 8.23 reports as a deprecated
    // overlapping query on each worker start; the server's own setting is kept instead.
    systemDatabaseIdleTransactionTimeoutMs: 0,
  });
  await DBOS.launch();
  for (const [queue, limit] of [
    [RUNS_QUEUE, o.concurrency],
    [STEPS_QUEUE, o.attempts ?? 4 * o.concurrency],
  ] as const) {
    await DBOS.registerQueue(queue, {
      workerConcurrency: limit,
      minPollingIntervalMs: pollMs,
      onConflict: "always_update",
    });
  }
  await DBOS.registerQueue(CHILD_RUNS_QUEUE, {
    minPollingIntervalMs: pollMs,
    onConflict: "always_update",
  });

  let recovered = 0;
  let recovering = false;
  const recoverDead = async () => {
    if (recovering) return;
    recovering = true;
    try {
      const owners = await liveness.query(
        `SELECT DISTINCT executor_id FROM dbos.workflow_status
         WHERE status = 'PENDING' AND name = ANY($1) AND executor_id <> $2`,
        [[RUN_WORKFLOW, ATTEMPT_WORKFLOW, TIMER_WORKFLOW], o.id],
      );
      for (const { executor_id: dead } of owners.rows as { executor_id: string }[]) {
        const free = await liveness.query("SELECT pg_try_advisory_lock(hashtext($1)) AS ok", [
          lockName(dead),
        ]);
        if (!free.rows[0]?.ok) continue;
        try {
          const handles = await DBOSExecutor.globalInstance!.recoverPendingWorkflows([dead]);
          recovered += handles.length;
          if (handles.length > 0) {
            log(
              `worker '${dead}' is gone: ${handles.length} of its runs and attempts are back on the queues`,
            );
          }
        } finally {
          await liveness.query("SELECT pg_advisory_unlock(hashtext($1))", [lockName(dead)]);
        }
      }
    } catch (e) {
      log(`looking for dead workers failed: ${(e as Error).message}`);
    } finally {
      recovering = false;
    }
  };
  const timer = setInterval(() => void recoverDead(), o.recoverEveryMs ?? 500);
  void recoverDead();

  let stopped = false;
  return {
    id: o.id,
    get recovered() {
      return recovered;
    },
    async stop(graceMs: number) {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await DBOS.shutdown({ workflowCompletionTimeoutMS: graceMs });
      // DBOS is disconnected: what still runs here cannot end its workflow, which stays pending
      // under this worker's id and goes to another worker once this process (and its lock) is
      // gone. The caller exits the process right after this.
      const left = await liveness
        .query(
          `SELECT name, count(*)::int AS n FROM dbos.workflow_status
           WHERE status = 'PENDING' AND executor_id = $1 AND name = ANY($2) GROUP BY name`,
          [o.id, [RUN_WORKFLOW, ATTEMPT_WORKFLOW]],
        )
        .catch(() => ({ rows: [] }));
      const count = (name: string) =>
        (left.rows as { name: string; n: number }[]).find((r) => r.name === name)?.n ?? 0;
      if (count(RUN_WORKFLOW) + count(ATTEMPT_WORKFLOW) > 0) {
        log(
          `${count(RUN_WORKFLOW)} runs and ${count(ATTEMPT_WORKFLOW)} step attempts still in progress are handed back to the other workers`,
        );
      }
      await store.close();
      liveness.removeAllListeners("error");
      await liveness.end().catch(() => {});
    },
  };
}
