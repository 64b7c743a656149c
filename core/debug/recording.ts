// The run a debug session replays: its record, log and attempts, read once from the store; its
// values stay in the store and are read when shown (values.ts).
import type { AttemptRecord, EventRecord, Finding, RunRecord } from "../record/records";
import type { RunStore } from "../store/run-store";

export interface DebugRecording {
  readonly run: RunRecord;
  readonly events: readonly EventRecord[];
  readonly attempts: readonly AttemptRecord[];
  readonly findings: readonly Finding[];
  /** The workflow's source text as it was run. */
  readonly source: string;
}

export class RecordingNotFound extends Error {
  override readonly name = "RecordingNotFound";
  readonly code = "KEEL_DEBUG_NO_RUN";
}

/**
 * Reads a run: by id, or "latest" (the newest run of `workflowPath` when given, else of the
 * store). Throws RecordingNotFound with a sentence that says what to do.
 */
export async function loadRecording(
  store: RunStore,
  runId: string,
  workflowPath?: string,
): Promise<DebugRecording> {
  const run =
    runId === "latest"
      ? (await store.listRuns({ ...(workflowPath ? { workflowPath } : {}), limit: 1 }))[0]
      : await store.getRun(runId);
  if (!run) {
    throw new RecordingNotFound(
      runId === "latest"
        ? `no recorded run${workflowPath ? ` of ${workflowPath}` : ""} in this store: run the workflow first`
        : `no run ${runId} in this store`,
    );
  }
  const [events, attempts, findings, source] = await Promise.all([
    store.events(run.id),
    store.attempts(run.id),
    store.findings(run.id),
    store.blob(run.sourceHash),
  ]);
  if (events.length === 0) throw new RecordingNotFound(`run ${run.id} has no recorded events`);
  return { run, events, attempts, findings, source: source ?? "" };
}
