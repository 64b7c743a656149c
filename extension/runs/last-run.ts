// The step states of a workflow's newest recorded run, for the graph panel: read from the same
// store the CLI writes (`.keel/runs.sqlite` in the workspace), through the one reader of a run's
// log (the step-through fold).
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { defaultStorePath } from "@keel/core/node/store-path";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { foldToEnd } from "@keel/core/replay/fold";
import type { StatusMessage } from "@keel/core/protocol/webview";

export async function lastRunStatus(workflowPath: string): Promise<StatusMessage | undefined> {
  const file = defaultStorePath(dirname(workflowPath));
  if (!existsSync(file)) return undefined;
  const store = openSqliteStore(file);
  try {
    const [run] = await store.listRuns({ workflowPath, limit: 1 });
    if (!run) return undefined;
    const [events, attempts] = await Promise.all([store.events(run.id), store.attempts(run.id)]);
    const fold = foldToEnd(events, attempts);
    const steps: StatusMessage["steps"] = {};
    for (const s of fold.steps()) {
      const a = s.attempt;
      steps[s.id] = {
        status: s.status,
        attempts: s.attempts,
        cached: s.origin === "cached",
        ...(a ? { durationMs: Math.max(0, Date.parse(a.endedAt) - Date.parse(a.startedAt)) } : {}),
      };
    }
    return { type: "status", runId: run.id, steps };
  } finally {
    await store.close();
  }
}
