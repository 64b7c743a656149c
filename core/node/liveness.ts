// Whether a run's owner is still alive: its process exists and its heartbeat is recent.
// A `running` run whose owner is gone is shown as `interrupted` and can be resumed.
import type { RunRecord } from "../record/records";

/** Heartbeats older than this mean the owner stopped, even if a process with its pid exists. */
export const STALE_HEARTBEAT_MS = 30_000;

/**
 * `where` says whose process ids the record holds: `local`, this machine's (the SQLite store), or
 * `remote`, other machines' (a PostgreSQL store), judged by the heartbeat alone. In a remote
 * store, a running run without an owner process is executed by the team's workers: alive.
 */
export function ownerAlive(
  run: RunRecord,
  now = Date.now(),
  where: "local" | "remote" = "local",
): boolean {
  if (run.status !== "running") return false;
  // A run on a team's workers has no owner process: DBOS keeps it going, whichever worker dies
  // (core/executor/dbos-run.ts), and `keel cancel` stops it.
  if (run.ownerPid === null) return where === "remote";
  if (where === "remote") {
    return run.heartbeatAt !== null && now - Date.parse(run.heartbeatAt) < STALE_HEARTBEAT_MS;
  }
  try {
    process.kill(run.ownerPid, 0);
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    if ((e as { code?: string }).code !== "EPERM") return false;
  }
  return run.heartbeatAt !== null && now - Date.parse(run.heartbeatAt) < STALE_HEARTBEAT_MS;
}

/** The status to show: `interrupted` for a running run whose owner is gone. */
export function shownStatus(
  run: RunRecord,
  now = Date.now(),
  where: "local" | "remote" = "local",
): RunRecord["status"] {
  return run.status === "running" && !ownerAlive(run, now, where) ? "interrupted" : run.status;
}
