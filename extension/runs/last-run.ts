// A workflow's newest recorded run, read from the same store the CLI writes (`.keel/runs.sqlite`
// in the workspace), through the one reader of a run's log (the step-through fold): for the
// graph panel's step states and for the language server's `keel/lastRun` (hover, code lenses).
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { shownStatus } from "@keel/core/node/liveness";
import { defaultStorePath } from "@keel/core/node/store-path";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { foldToEnd, type StepAt } from "@keel/core/record/fold";
import type { AttemptRecord, EventRecord, RunRecord } from "@keel/core/record/records";
import type { RunStore } from "@keel/core/store/run-store";
import type { RecordingMessage } from "@keel/core/protocol/webview";
import type { LastRun } from "@keel/core/protocol/lsp";

const PREVIEW_CHARS = 200;
/** How much of a rendered prompt a hover shows. */
const PROMPT_CHARS = 2000;

interface Recorded {
  readonly run: RunRecord;
  readonly events: EventRecord[];
  readonly attempts: AttemptRecord[];
  readonly store: RunStore;
}

/**
 * Opens the store, finds the run (by default the workflow's newest), folds its log; closes the
 * store after `use`.
 */
async function withLastRun<T>(
  workflowPath: string,
  use: (r: Recorded) => Promise<T>,
  runId?: string,
): Promise<T | undefined> {
  const file = defaultStorePath(dirname(workflowPath));
  if (!existsSync(file)) return undefined;
  const store = openSqliteStore(file);
  try {
    const run = runId
      ? await store.getRun(runId)
      : (await store.listRuns({ workflowPath, limit: 1 }))[0];
    if (!run) return undefined;
    const [events, attempts] = await Promise.all([store.events(run.id), store.attempts(run.id)]);
    return await use({ run, events, attempts, store });
  } finally {
    await store.close();
  }
}

function durationMs(s: StepAt): number | undefined {
  const a = s.attempt;
  return a ? Math.max(0, Date.parse(a.endedAt) - Date.parse(a.startedAt)) : undefined;
}

export async function lastRun(workflowPath: string): Promise<LastRun | null> {
  const found = await withLastRun(workflowPath, async ({ run, events, attempts, store }) => {
    const out: LastRun["steps"] = {};
    for (const s of foldToEnd(events, attempts).steps()) {
      const ms = durationMs(s);
      const text = s.output ? await store.blob(s.output) : undefined;
      out[s.id] = {
        status: s.status,
        ...(s.origin ? { origin: s.origin } : {}),
        ...(ms === undefined ? {} : { durationMs: ms }),
        ...(text === undefined
          ? {}
          : {
              outputPreview:
                text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text,
            }),
        ...(s.error ? { error: `${s.error.kind}: ${s.error.message}` } : {}),
      };
      const prompt = await promptPreview(store, attempts, s.id);
      if (prompt !== undefined) out[s.id] = { ...out[s.id]!, promptPreview: prompt };
    }
    return { runId: run.id, status: shownStatus(run), startedAt: run.startedAt, steps: out };
  });
  return found ?? null;
}

/**
 * The prompt an llm step's last attempt rendered from a prompt file (its recorded input names
 * `promptFile` or `systemFile`), each message as `role: text`; undefined for any other step. A
 * map's items each render their own: the last one recorded stands for them.
 */
async function promptPreview(
  store: RunStore,
  attempts: readonly AttemptRecord[],
  stepId: string,
): Promise<string | undefined> {
  // The step's own last attempt; for a map or loop, the last attempt of its items recorded.
  const own = attempts.filter((a) => a.stepId === stepId);
  const last =
    own
      .filter((a) => a.scope === null)
      .sort((x, y) => x.attempt - y.attempt)
      .at(-1) ?? own.at(-1);
  if (!last) return undefined;
  const text = last.inputHash.startsWith("=")
    ? last.inputHash.slice(1)
    : await store.blob(last.inputHash);
  if (!text || !text.includes('File":{"path"')) return undefined;
  const input = JSON.parse(text) as {
    system?: string | null;
    messages?: { role: string; content: string }[];
  };
  const parts = [
    ...(input.system ? [`system: ${input.system}`] : []),
    ...(input.messages ?? []).map((m) => `${m.role}: ${m.content}`),
  ];
  const all = parts.join("\n\n");
  return all.length > PROMPT_CHARS ? `${all.slice(0, PROMPT_CHARS)}…` : all;
}

/** A recorded run for the panel's step-through: the newest of the workflow, or the one given. */
export function recording(
  workflowPath: string,
  runId?: string,
): Promise<RecordingMessage | undefined> {
  return withLastRun(
    workflowPath,
    async ({ run, events, attempts }) => ({
      type: "recording" as const,
      runId: run.id,
      status: shownStatus(run),
      startedAt: run.startedAt,
      parentId: run.parentId ?? null,
      parentScope: run.parentScope ?? null,
      events: events as RecordingMessage["events"],
      attempts: attempts as RecordingMessage["attempts"],
    }),
    runId,
  );
}

/**
 * The workflow file of recorded run `runId`, from the store of `workflowPath` (a child run is in
 * its parent's store): where the graph panel opens a child run or goes back to its parent.
 */
export async function workflowOfRun(workflowPath: string, runId: string): Promise<string | null> {
  return (await withLastRun(workflowPath, async ({ run }) => run.workflowPath, runId)) ?? null;
}

/** The JSON text behind a value reference, from the workflow's store. */
export async function valueText(workflowPath: string, ref: string): Promise<string | null> {
  const file = defaultStorePath(dirname(workflowPath));
  if (!existsSync(file)) return null;
  const store = openSqliteStore(file);
  try {
    return (await store.blob(ref)) ?? null;
  } finally {
    await store.close();
  }
}
