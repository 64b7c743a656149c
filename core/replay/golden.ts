// Golden runs (SPEC §6, #5): a recorded run as one portable, versioned JSON file, `*.keel-run.json`
// (schema/keel-run.schema.json). It holds the workflow's source, the inputs, the event log, every
// attempt and every value they refer to, so it replays on another machine with no store and no
// secret (the record is already redacted). Naming rule: `X.keel-run.json` and `X.<label>.keel-run.json`
// belong to the workflow `X.keel.yaml` (or `.keel.yml`) in the same folder.
import type { AttemptRecord, EventRecord, Finding, RunRecord, WriteBatch } from "../store/records";
import { recordedRun, type RecordedRun } from "./record";

export const GOLDEN_VERSION = 1;
export const GOLDEN_SUFFIX = ".keel-run.json";

export interface GoldenFile {
  readonly keelRun: typeof GOLDEN_VERSION;
  /** The workflow file, relative to the golden file's folder (by the naming rule). */
  readonly workflow: string;
  /** The folder the run was recorded in: shell steps' folders are compared relative to it. */
  readonly folder: string;
  readonly run: Omit<RunRecord, "workflowPath" | "ownerPid" | "heartbeatAt">;
  readonly source: string;
  readonly events: readonly Omit<EventRecord, "runId">[];
  readonly attempts: readonly Omit<AttemptRecord, "runId">[];
  readonly findings: readonly Omit<Finding, "runId">[];
  /** JSON texts by content hash: every value a record refers to that is not inline. */
  readonly values: Readonly<Record<string, string>>;
}

/** The golden file of a recorded run; `workflow` is the workflow file's name beside it. */
export function toGolden(record: RecordedRun, workflow: string): GoldenFile {
  const values: Record<string, string> = {};
  const keep = (ref: string | null | undefined) => {
    if (!ref || ref.startsWith("=") || ref === record.run.sourceHash) return;
    const text = record.text(ref);
    if (text !== undefined) values[ref] = text;
  };
  keep(record.run.inputsHash);
  keep(record.run.outputsHash);
  for (const a of record.attempts) {
    keep(a.inputHash);
    keep(a.outputHash);
  }
  for (const e of record.events) if (typeof e.data?.output === "string") keep(e.data.output);
  const { workflowPath: _path, ownerPid: _pid, heartbeatAt: _beat, ...run } = record.run;
  const strip = <T extends { runId: string }>({ runId: _id, ...rest }: T) => rest;
  return {
    keelRun: GOLDEN_VERSION,
    workflow,
    folder: record.recordedDir ?? record.run.workflowPath.replace(/[\\/][^\\/]*$/, ""),
    run,
    source: record.source,
    events: record.events.map(strip),
    attempts: record.attempts.map(strip),
    findings: record.findings.map(strip),
    values: Object.fromEntries(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

/** The recorded run a golden file holds, its workflow at `workflowPath` (where it is now). */
export function fromGolden(golden: GoldenFile, workflowPath: string): RecordedRun {
  if (golden.keelRun !== GOLDEN_VERSION)
    throw new Error(
      `golden file version ${String(golden.keelRun)} is not supported (this Keel reads ${GOLDEN_VERSION})`,
    );
  const runId = golden.run.id;
  const run: RunRecord = { ...golden.run, workflowPath, ownerPid: null, heartbeatAt: null };
  const texts = new Map(Object.entries(golden.values));
  texts.set(run.sourceHash, golden.source);
  return recordedRun({
    run,
    events: golden.events.map((e) => ({ ...e, runId })),
    attempts: golden.attempts.map((a) => ({ ...a, runId })),
    findings: golden.findings.map((f) => ({ ...f, runId })),
    texts,
    recordedDir: golden.folder,
  });
}

/** Everything a store needs to hold the run (keel import). */
export function importBatch(record: RecordedRun, golden: GoldenFile): WriteBatch {
  return {
    runs: [record.run],
    // The recorded folder rides on the first event: the store's run record has no field for it.
    events: record.events.map((e) =>
      e.type === "run_started" ? { ...e, data: { ...e.data, folder: golden.folder } } : e,
    ),
    attempts: record.attempts,
    findings: record.findings,
    blobs: [
      { hash: record.run.sourceHash, text: golden.source },
      ...Object.entries(golden.values).map(([hash, text]) => ({ hash, text })),
    ],
  };
}

/**
 * The workflow files a golden file may belong to, by the naming rule, most specific first:
 * `a.b.keel-run.json` → `a.b.keel.yaml`, `a.b.keel.yml`, `a.keel.yaml`, `a.keel.yml`.
 */
export function workflowCandidates(goldenName: string): string[] {
  if (!goldenName.endsWith(GOLDEN_SUFFIX)) return [];
  const parts = goldenName.slice(0, -GOLDEN_SUFFIX.length).split(".");
  const out: string[] = [];
  for (let n = parts.length; n >= 1; n--) {
    const stem = parts.slice(0, n).join(".");
    if (stem) out.push(`${stem}.keel.yaml`, `${stem}.keel.yml`);
  }
  return out;
}
