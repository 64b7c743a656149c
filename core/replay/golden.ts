// Golden runs (docs/replay.md, "Golden runs"; #5): a recorded run as one portable, versioned JSON
// file, `*.keel-run.json` (schema/keel-run.schema.json). It holds the workflow's source, the
// inputs, the event log, every attempt and every value they refer to, so it replays on another
// machine with no store and no secret (the record is already redacted). Naming rule:
// `X.keel-run.json` and `X.<label>.keel-run.json` belong to the workflow `X.keel.yaml` (or
// `.keel.yml`) in the same folder.
import { dirname, isAbsolute, relative, resolve } from "node:path";
import type { AttemptRecord, EventRecord, Finding, RunRecord, WriteBatch } from "../record/records";
import { INLINE_MAX, inlineRef, inlineValue } from "../record/refs";
import { sha256 } from "../runner/recorder";
import {
  EVENT_REF_FIELDS,
  eventRefs,
  promptFileRefs,
  recordedRun,
  type RecordedRun,
} from "./record";

export const GOLDEN_VERSION = 1;
export const GOLDEN_SUFFIX = ".keel-run.json";

export interface GoldenFile {
  readonly keelRun: typeof GOLDEN_VERSION;
  /** The workflow file, relative to the golden file's folder (by the naming rule). */
  readonly workflow: string;
  /**
   * The folder the run was recorded in, relative to the golden file's folder ("." in an export):
   * shell steps' folders are compared relative to it. Older files hold an absolute path.
   */
  readonly folder: string;
  /** A scope or a parent's scope is written only when there is one (older files have none). */
  readonly run: Optional<
    Omit<RunRecord, "workflowPath" | "ownerPid" | "heartbeatAt">,
    "parentScope"
  >;
  readonly source: string;
  readonly events: readonly Optional<Omit<EventRecord, "runId">, "scope">[];
  readonly attempts: readonly Optional<Omit<AttemptRecord, "runId">, "scope">[];
  readonly findings: readonly Omit<Finding, "runId">[];
  /** JSON texts by content hash: every value a record refers to that is not inline. */
  readonly values: Readonly<Record<string, string>>;
  /**
   * The child runs its workflow steps started (docs/dev/scopes.md), each a golden run of its own
   * whose `workflow` and `folder` are relative to this run's workflow folder; only when there
   * are some.
   */
  readonly children?: readonly GoldenFile[];
}

type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/** Leaves out a null `scope` (or `parentScope`): the file of a run without scopes is as before. */
function withoutNullScope<T extends object>(r: T): T {
  const { scope, parentScope, ...rest } = r as { scope?: unknown; parentScope?: unknown };
  if (scope !== null && parentScope !== null) return r;
  return {
    ...rest,
    ...(scope != null ? { scope } : {}),
    ...(parentScope != null ? { parentScope } : {}),
  } as T;
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
    // The prompt files' texts the attempt rendered: a replay renders them again.
    for (const ref of promptFileRefs(record.text(a.inputHash))) keep(ref.hash);
  }
  for (const e of record.events) for (const ref of eventRefs(e)) keep(ref);
  const { workflowPath: _path, ownerPid: _pid, heartbeatAt: _beat, ...run } = record.run;
  const strip = <T extends { runId: string }>({ runId: _id, ...rest }: T) => withoutNullScope(rest);
  const dir = record.run.workflowPath.replace(/[\\/][^\\/]*$/, "");
  const children = [...record.children.values()].map((child) =>
    toGolden(child, relative(dir, child.run.workflowPath).replace(/\\/g, "/")),
  );
  return {
    keelRun: GOLDEN_VERSION,
    workflow,
    folder: record.recordedDir ?? record.run.workflowPath.replace(/[\\/][^\\/]*$/, ""),
    run: withoutNullScope(run),
    source: record.source,
    events: record.events.map(strip),
    attempts: record.attempts.map(strip),
    findings: record.findings.map(strip),
    values: Object.fromEntries(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : 1))),
    ...(children.length > 0 ? { children } : {}),
  };
}

/**
 * The golden file made portable, to be committed and replayed in any checkout: every absolute path
 * into the workspace (`root`, the folder that holds `.keel` or `.git`), in every value, error,
 * log and finding, becomes a path relative to the workflow's folder `dir`: a shell step's `cwd`,
 * a tool module, the folder itself, an error or a stderr that quotes them. Values are named by
 * their content, so a value that changes gets its new reference everywhere it is used. Paths
 * outside the workspace are left as they are; the workflow's source is never changed, and a
 * source that names the workspace's path itself keeps the file as it is (`kept` says so).
 */
export function portableGolden(
  golden: GoldenFile,
  dir: string,
  root: string,
  real: (path: string) => string = (p) => p,
  kept?: (why: string) => void,
): GoldenFile {
  // A workflow that names a path of its workspace in its own source computes values from it when
  // replayed: rewritten in the record only, the record would disagree with every replay.
  const named = [root, real(root)].find(
    (r) => pathRewriter(dir, r) !== undefined && golden.source.includes(r),
  );
  if (named !== undefined) {
    kept?.(`the workflow's source names ${named}, so the file keeps the run's absolute paths`);
    return golden;
  }
  // Both spellings of the workspace: as found, and with symbolic links resolved (what a process's
  // working folder reads as, /private/var… for /var… on macOS).
  const rewriters = [pathRewriter(dir, root), pathRewriter(real(dir), real(root))];
  const text = (t: string) => rewriters.reduce((acc, f) => (f ? f(acc) : acc), t);
  const json = (v: unknown): unknown =>
    typeof v === "string"
      ? text(v)
      : Array.isArray(v)
        ? v.map(json)
        : v && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, json(x)]))
          : v;
  const values: Record<string, string> = {};
  const refs = new Map<string, string>();
  // The prompt files' texts are files, as the source is: kept as they were read, never rewritten
  // (and their hashes stay the ones the attempts' inputs name).
  const files = new Set(
    golden.attempts.flatMap((a) =>
      promptFileRefs(inlineValue(a.inputHash) ?? golden.values[a.inputHash]).map((f) => f.hash),
    ),
  );
  /** A value's reference after its text is rewritten (the same reference when nothing changed). */
  const ref = (r: string | null): string | null => {
    if (r === null || r === golden.run.sourceHash) return r;
    if (files.has(r)) {
      if (golden.values[r] !== undefined) values[r] = golden.values[r];
      return r;
    }
    const known = refs.get(r);
    if (known !== undefined) return known;
    const before = inlineValue(r) ?? golden.values[r];
    if (before === undefined) return r;
    const after = JSON.stringify(json(JSON.parse(before)));
    const next =
      after === before ? r : after.length <= INLINE_MAX ? inlineRef(after) : sha256(after);
    if (inlineValue(next) === undefined) values[next] = after;
    refs.set(r, next);
    return next;
  };
  for (const hash of Object.keys(golden.values)) ref(hash);
  const run = {
    ...golden.run,
    inputsHash: ref(golden.run.inputsHash)!,
    outputsHash: ref(golden.run.outputsHash),
    error: golden.run.error === null ? null : text(golden.run.error),
  };
  return {
    ...golden,
    folder: isAbsolute(golden.folder) ? text(golden.folder) : golden.folder,
    run,
    events: golden.events.map((e) => {
      if (!e.data) return e;
      const data = json(e.data) as Record<string, unknown>;
      for (const field of EVENT_REF_FIELDS) {
        const r = e.data[field];
        if (typeof r === "string") data[field] = ref(r);
      }
      return { ...e, data };
    }),
    attempts: golden.attempts.map((a) => ({
      ...a,
      inputHash: ref(a.inputHash)!,
      outputHash: ref(a.outputHash),
      errorMessage: a.errorMessage === null ? null : text(a.errorMessage),
      meta: a.meta === null ? null : (json(a.meta) as Record<string, unknown>),
    })),
    findings: golden.findings.map((f) => ({
      ...f,
      message: text(f.message),
      data: json(f.data) as Record<string, unknown>,
    })),
    values: Object.fromEntries(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : 1))),
    ...(golden.children
      ? {
          children: golden.children.map((c) =>
            portableGolden(c, resolve(dir, dirname(c.workflow)), root, real, kept),
          ),
        }
      : {}),
  };
}

/**
 * Rewrites every absolute path into `root` found in a text as a path relative to `dir` ("." for
 * `dir` itself, "/" separators); undefined when there is nothing to rewrite (no workspace, or a
 * workspace at the file system's root).
 */
function pathRewriter(dir: string, root: string): ((text: string) => string) | undefined {
  if (!isAbsolute(root) || dirname(root) === root) return undefined;
  const escaped = root.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  // The root, at a path's end or followed by a separator and what a path may hold in a message.
  const end = "\\s'\"`:;,()\\[\\]{}<>";
  const pattern = new RegExp(`${escaped}(?:[\\\\/][^${end}]*)?(?=$|[\\\\/${end}])`, "g");
  return (text) =>
    text.includes(root)
      ? text.replace(pattern, (p) => relative(dir, p).replace(/\\/g, "/") || ".")
      : text;
}

/** The recorded run a golden file holds, its workflow at `workflowPath` (where it is now). */
export function fromGolden(golden: GoldenFile, workflowPath: string): RecordedRun {
  if (golden.keelRun !== GOLDEN_VERSION)
    throw new Error(
      `golden file version ${String(golden.keelRun)} is not supported (this Keel reads ${GOLDEN_VERSION})`,
    );
  const kinds: Record<string, string> = {
    workflow: "string",
    folder: "string",
    run: "object",
    source: "string",
    events: "array",
    attempts: "array",
    findings: "array",
    values: "object",
  };
  for (const [key, kind] of Object.entries(kinds)) {
    const v = (golden as unknown as Record<string, unknown>)[key];
    if (kind === "array" ? !Array.isArray(v) : typeof v !== kind || v === null)
      throw new Error(`its '${key}' is missing or not ${kind === "array" ? "an" : "a"} ${kind}`);
  }
  const runId = golden.run.id;
  const run: RunRecord = {
    ...golden.run,
    parentScope: golden.run.parentScope ?? null,
    workflowPath,
    ownerPid: null,
    heartbeatAt: null,
  };
  const texts = new Map(Object.entries(golden.values));
  texts.set(run.sourceHash, golden.source);
  return recordedRun({
    run,
    events: golden.events.map((e) => ({ ...e, scope: e.scope ?? null, runId })),
    attempts: golden.attempts.map((a) => ({ ...a, scope: a.scope ?? null, runId })),
    findings: golden.findings.map((f) => ({ ...f, runId })),
    texts,
    // An exported file's folder is relative to the workflow's, which is beside the file now.
    recordedDir: resolve(dirname(workflowPath), golden.folder),
    children: new Map(
      (golden.children ?? []).map((c) => {
        const child = fromGolden(c, resolve(dirname(workflowPath), c.workflow));
        return [child.run.id, child];
      }),
    ),
  });
}

/** Everything a store needs to hold the run and its child runs (keel import). */
export function importBatch(record: RecordedRun, golden: GoldenFile): WriteBatch {
  const own = runBatch(record, golden);
  const children = (golden.children ?? []).map((c) =>
    importBatch(record.children.get(c.run.id)!, c),
  );
  const all = <K extends keyof WriteBatch>(key: K) =>
    [own, ...children].flatMap((b) => (b[key] ?? []) as NonNullable<WriteBatch[K]>[number][]);
  return {
    runs: all("runs"),
    events: all("events"),
    attempts: all("attempts"),
    findings: all("findings"),
    blobs: all("blobs"),
  } as WriteBatch;
}

function runBatch(record: RecordedRun, golden: GoldenFile): WriteBatch {
  return {
    runs: [record.run],
    // The recorded folder rides on the first event: the store's run record has no field for it.
    events: record.events.map((e) =>
      e.type === "run_started"
        ? { ...e, data: { ...e.data, folder: record.recordedDir ?? golden.folder } }
        : e,
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
