// Whether a run's owner is still alive: its process exists and its heartbeat is recent.
// A `running` run whose owner is gone is shown as `interrupted` and can be resumed.
import type { RunRecord } from "../store/records";

/** Heartbeats older than this mean the owner stopped, even if a process with its pid exists. */
export const STALE_HEARTBEAT_MS = 30_000;

export function ownerAlive(run: RunRecord, now = Date.now()): boolean {
  if (run.status !== "running" || run.ownerPid === null) return false;
  try {
    process.kill(run.ownerPid, 0);
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    if ((e as { code?: string }).code !== "EPERM") return false;
  }
  return run.heartbeatAt !== null && now - Date.parse(run.heartbeatAt) < STALE_HEARTBEAT_MS;
}

/** The status to show: `interrupted` for a running run whose owner is gone. */
export function shownStatus(run: RunRecord, now = Date.now()): RunRecord["status"] {
  return run.status === "running" && !ownerAlive(run, now) ? "interrupted" : run.status;
}
