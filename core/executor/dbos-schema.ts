// DBOS's own tables, created once, under an advisory lock, before any worker launches: two
// workers launching at once on an empty database race on DBOS's migrations and one of them
// crashed (`duplicate key … dbos_migrations_pkey`, scale-out notes §1). Keel's migrations take
// their own lock in pg-store.ts. Workers then launch with `runMigrations: false`. The lock is
// taken by polling (pg-lock.ts): waiting inside pg_advisory_lock deadlocks with DBOS's
// CREATE INDEX CONCURRENTLY.
import { DBOS } from "@dbos-inc/dbos-sdk";
import pg from "pg";
import { releaseLock, takeLock } from "../store/pg-lock";

/** The DBOS application name: scopes Keel's workflows and queues in DBOS's tables. */
export const DBOS_APP = "keel";
/** The queue runs are submitted to. */
export const RUNS_QUEUE = "keel-runs";
/** The registered name of the workflow that executes a run. */
export const RUN_WORKFLOW = "keel_run";
/** The registered name of the workflow that executes one attempt of a step. */
export const ATTEMPT_WORKFLOW = "keel_attempt";
/** The registered name of the workflow that bounds a child run by its step's time limit. */
export const TIMER_WORKFLOW = "keel_timer";
/** The queue of attempts whose provider sets no `concurrency`. */
export const STEPS_QUEUE = "keel-steps";
/**
 * The queue of child runs (a `workflow` step's attempts), without a limit: a run waiting for its
 * children must never hold the slot they need, and a child's attempts are on the steps' queues.
 */
export const CHILD_RUNS_QUEUE = "keel-child-runs";

/** The queue of a provider's attempts: its `concurrency` is the queue's, across every worker. */
export function providerQueue(provider: string, concurrency: number): string {
  return `keel-provider-${provider}-${concurrency}`;
}

/** The DBOS application version: workers recover only the runs of their own version. */
export function appVersion(keelVersion: string): string {
  return `keel-${keelVersion}`;
}

/** Creates or migrates DBOS's schema at `url`, once among every process doing it at once. */
export async function migrateDbos(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await takeLock(client, "keel.migrate.dbos");
    // DBOS announces its migrations on stdout, which is `--json` output's: send them to stderr.
    const write = process.stdout.write;
    process.stdout.write = process.stderr.write.bind(process.stderr) as typeof write;
    try {
      await DBOS.migrate(url);
    } finally {
      process.stdout.write = write;
      await releaseLock(client, "keel.migrate.dbos");
    }
  } finally {
    await client.end();
  }
}
