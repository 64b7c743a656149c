// A recorded run read back from a store: everything replay, diff and export need, in one read.
import type { AttemptRecord, EventRecord, Finding, RunRecord } from "../record/records";
import type { RunStore } from "../store/run-store";

export interface RecordedRun {
  readonly run: RunRecord;
  /** The workflow's source text as it was run. */
  readonly source: string;
  readonly inputs: Record<string, unknown>;
  /** The `env.NAME` values the run read (replay answers them from the record: docs/replay.md). */
  readonly env: Record<string, string | undefined>;
  readonly events: readonly EventRecord[];
  readonly attempts: readonly AttemptRecord[];
  readonly findings: readonly Finding[];
  /**
   * The folder the workflow was run from, when it is no longer the workflow's (an imported golden
   * file): shell steps' recorded folders are compared relative to it.
   */
  readonly recordedDir?: string;
  /**
   * The child runs its workflow steps started (docs/dev/scopes.md), by run id, each with its own
   * children; a replay replays them in place of the steps that started them.
   */
  readonly children: ReadonlyMap<string, RecordedRun>;
  /** A value by its reference (core/record/refs.ts); undefined when the store lacks it. */
  value(ref: string): unknown;
  /** The JSON text of a reference. */
  text(ref: string): string | undefined;
}

/**
 * The fields of an event's data that hold value references: a step's or unit's `output`, and a
 * map's `list` (its `expanded` event: docs/dev/scopes.md).
 */
export const EVENT_REF_FIELDS = ["output", "list"] as const;

/** The value references an event's data holds. */
export function eventRefs(e: EventRecord): string[] {
  const refs: string[] = [];
  for (const field of EVENT_REF_FIELDS) {
    const ref = e.data?.[field];
    if (typeof ref === "string") refs.push(ref);
  }
  return refs;
}

/** Reads a run and every value its record refers to; undefined when the store has no such run. */
export async function readRecordedRun(
  store: RunStore,
  runId: string,
): Promise<RecordedRun | undefined> {
  const run = await store.getRun(runId);
  if (!run) return undefined;
  const [events, attempts, findings] = await Promise.all([
    store.events(runId),
    store.attempts(runId),
    store.findings(runId),
  ]);
  const refs = new Set<string>([run.sourceHash, run.inputsHash]);
  if (run.outputsHash) refs.add(run.outputsHash);
  for (const a of attempts) {
    refs.add(a.inputHash);
    if (a.outputHash) refs.add(a.outputHash);
  }
  for (const e of events) for (const ref of eventRefs(e)) refs.add(ref);
  const texts = new Map<string, string>();
  await Promise.all(
    [...refs].map(async (ref) => {
      const text = await store.blob(ref);
      if (text !== undefined) texts.set(ref, text);
    }),
  );
  // The prompt files' texts the attempts' inputs name (docs/dev/authoring.md).
  const promptRefs = attempts.flatMap((a) =>
    promptFileRefs(a.inputHash.startsWith("=") ? a.inputHash.slice(1) : texts.get(a.inputHash)).map(
      (ref) => ref.hash,
    ),
  );
  await Promise.all(
    promptRefs.map(async (ref) => {
      const text = texts.has(ref) ? undefined : await store.blob(ref);
      if (text !== undefined) texts.set(ref, text);
    }),
  );
  const children = new Map<string, RecordedRun>();
  for (const e of events) {
    const child = e.type === "child_started" ? e.data?.childRun : undefined;
    if (typeof child !== "string" || children.has(child)) continue;
    const read = await readRecordedRun(store, child);
    if (read) children.set(child, read);
  }
  return recordedRun({ run, events, attempts, findings, texts, children });
}

/**
 * The prompt files an llm attempt's input (its JSON text) names, `systemFile` then `promptFile`:
 * each path as written and the hash of its text in the record (docs/dev/authoring.md).
 */
export function promptFileRefs(
  input: string | undefined,
): { readonly path: string; readonly hash: string }[] {
  if (input === undefined || !input.includes('File":{"path"')) return [];
  const v = JSON.parse(input) as Record<string, { path?: unknown; hash?: unknown } | undefined>;
  return [v.systemFile, v.promptFile].flatMap((ref) =>
    typeof ref?.path === "string" && typeof ref.hash === "string"
      ? [{ path: ref.path, hash: ref.hash }]
      : [],
  );
}

/**
 * The prompt files' texts a run rendered, by path as written: what its replay renders again
 * (docs/replay.md), whatever the files hold now. The newest attempt's text wins.
 */
export function recordedPromptTexts(record: RecordedRun): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of record.attempts) {
    for (const ref of promptFileRefs(record.text(a.inputHash))) {
      const text = record.text(ref.hash);
      if (text !== undefined) out.set(ref.path, text);
    }
  }
  return out;
}

/** A RecordedRun over values already at hand (a golden file, or a store's read). */
export function recordedRun(parts: {
  run: RunRecord;
  events: readonly EventRecord[];
  attempts: readonly AttemptRecord[];
  findings: readonly Finding[];
  texts: ReadonlyMap<string, string>;
  recordedDir?: string;
  children?: ReadonlyMap<string, RecordedRun>;
}): RecordedRun {
  const { run, texts } = parts;
  const text = (ref: string) =>
    ref.startsWith("=") ? ref.slice(1) : (texts.get(ref) ?? undefined);
  const value = (ref: string) => {
    const t = text(ref);
    return t === undefined ? undefined : (JSON.parse(t) as unknown);
  };
  const started = parts.events.find((e) => e.type === "run_started");
  return {
    ...parts,
    source: texts.get(run.sourceHash) ?? "",
    inputs: (value(run.inputsHash) as Record<string, unknown> | undefined) ?? {},
    env: (started?.data?.env as Record<string, string | undefined> | undefined) ?? {},
    // An imported golden run keeps the folder it was recorded in (golden.ts importBatch).
    recordedDir: parts.recordedDir ?? (started?.data?.folder as string | undefined),
    children: parts.children ?? new Map(),
    value,
    text,
  };
}
