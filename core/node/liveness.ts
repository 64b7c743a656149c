// Whether a run's owner is still alive: its process exists and its heartbeat is recent.
// A `running` run whose owner is gone is shown as `interrupted` and can be resumed.
import type { RunRecord } from "../store/records";

/** Heartbeats older than this mean the owner stopped, even if a process with its pid exists. */
export const STALE_HEARTBEAT_MS = 30_000;

/**
 * `where` says whose process ids the record holds: `local`, this machine's (the SQLite store), or
 * `remote`, a team's workers' on other machines (a PostgreSQL store), judged by the heartbeat alone.
 */
export function ownerAlive(
  run: RunRecord,
  now = Date.now(),
  where: "local" | "remote" = "local",
): boolean {
  if (run.status !== "running" || run.ownerPid === null) return false;
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
