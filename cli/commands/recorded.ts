// What the replay commands share: finding a recorded run (an id or `latest`) in the store, and
// loading a workflow text with its diagnostics printed the way `keel validate` prints them.
import { loadWorkflow, loadWorkflowText, type LoadedWorkflow } from "@keel/core/runner/load";
import { readRecordedRun, type RecordedRun } from "@keel/core/replay/record";
import type { RunStore } from "@keel/core/store/run-store";
import { formatDiagnostic, locate } from "../diagnostics";
import { styleFor, UsageError } from "../output";
import { openStoreAt, storeName } from "../store";

/** Opens the store at `storePath` just long enough to read the run named `wanted`. */
export async function readRunAt(storePath: string, wanted: string): Promise<RecordedRun> {
  const store = await openStoreAt(storePath, { readOnly: true });
  try {
    return await findRecordedRun(store, wanted, storeName(storePath));
  } finally {
    await store.close();
  }
}

/**
 * The id of the newest run that is not a child run (docs/cli.md: `latest`): a child workflow's
 * runs start after their parent's, and `latest` means the run the user started.
 */
export async function latestRunId(store: RunStore): Promise<string | undefined> {
  for (let limit = 64; ; limit *= 8) {
    const runs = await store.listRuns({ limit });
    const top = runs.find((r) => !r.parentScope);
    if (top || runs.length < limit) return top?.id;
  }
}

/** The run named `wanted` (an id, or `latest`) read back whole; bad usage when there is none. */
export async function findRecordedRun(
  store: RunStore,
  wanted: string,
  storePath: string,
): Promise<RecordedRun> {
  const id = wanted === "latest" ? await latestRunId(store) : wanted;
  const record = id ? await readRecordedRun(store, id) : undefined;
  if (!record) throw new UsageError(`no run '${wanted}' in ${storePath}`);
  return record;
}

/**
 * The workflow to evaluate: the recorded source (at the recorded path, so tool modules and `cwd`
 * resolve as they did), or the file on disk; undefined, with its errors printed, when it has errors.
 */
export function loadForReplay(
  record: RecordedRun,
  current: boolean,
  path = record.run.workflowPath,
): LoadedWorkflow | undefined {
  let result;
  try {
    result = current ? loadWorkflow(path) : loadWorkflowText(path, record.source);
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (result.ok) return result.loaded;
  const s = styleFor(process.stderr);
  for (const d of locate(path, result.source, result.diagnostics)) {
    if (d.severity === "error") process.stderr.write(formatDiagnostic(d, s) + "\n");
  }
  process.stderr.write(
    `keel: the ${current ? "workflow file" : "recorded workflow"} has errors (a tool module may be missing)\n`,
  );
  return undefined;
}
