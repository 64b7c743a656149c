// `keel export <run>` (a golden file on stdout), `keel import <file>` (into the store) and
// `keel test [folder]` (replay every golden file against the current workflows; exit 1 on a
// divergence). The file format and naming rule are in core/replay/golden.ts and docs/replay.md.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import {
  fromGolden,
  GOLDEN_SUFFIX,
  importBatch,
  portableGolden,
  toGolden,
  workflowCandidates,
  type GoldenFile,
} from "@keel/core/replay/golden";
import type { RecordedRun } from "@keel/core/replay/record";
import { workspaceRoot } from "@keel/core/node/workspace-settings";
import { replayRun } from "@keel/core/replay/replay";
import { defaultStorePath } from "@keel/core/node/store-path";
import { flag, parseArgs } from "../args";
import { styleFor, UsageError } from "../output";
import { sendRecordToOtel } from "../otel";
import { openStoreAt } from "../store";
import { formatDivergence } from "./replay";
import { otelOf } from "./run";
import { loadForReplay, readRunAt } from "./recorded";

export const exportUsage =
  "keel export <run id | latest> [--store path | postgres://…] [--otel endpoint [--otel-content]]  (> name.keel-run.json)";
export const importUsage = "keel import <file.keel-run.json> [--store path]";
export const testUsage = "keel test [folder]";

export async function runExport(argv: readonly string[]): Promise<number> {
  const args = parseArgs(
    argv,
    { "--store": true, "--otel": true, "--otel-content": false },
    exportUsage,
  );
  if (args.positionals.length !== 1) throw new UsageError(`name one run\nusage: ${exportUsage}`);
  const record = await readRunAt(
    flag(args, "--store") ?? defaultStorePath("."),
    args.positionals[0]!,
  );
  // --otel: the run's spans go to a collector instead of a golden file to stdout.
  const otel = otelOf(args);
  if (otel) return (await sendRecordToOtel(record, otel)) ? 0 : 1;
  if (record.run.mode === "rerun") {
    process.stderr.write(
      "keel: note: this run reused outputs of its parent; the golden file replays it as recorded\n",
    );
  }
  // A golden file is committed: it holds paths relative to its workflow, not this checkout's.
  const dir = dirname(record.run.workflowPath);
  const golden = portableGolden(
    toGolden(record, basename(record.run.workflowPath)),
    dir,
    workspaceRoot(dir),
    (p) => (existsSync(p) ? realpathSync(p) : p),
    (why) => process.stderr.write(`keel: note: ${why}\n`),
  );
  process.stdout.write(JSON.stringify(golden, null, 2) + "\n");
  return 0;
}

function readGolden(file: string): GoldenFile {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as GoldenFile;
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/** The run a golden file holds, read against its workflow; bad usage when it is not one. */
function goldenRun(file: string, golden: GoldenFile): RecordedRun {
  try {
    return fromGolden(golden, workflowOf(file, golden));
  } catch (e) {
    throw new UsageError(`${file} is not a golden run file Keel can read: ${(e as Error).message}`);
  }
}

/** The workflow a golden file belongs to: by the naming rule, else the file it names. */
function workflowOf(file: string, golden: GoldenFile): string {
  const dir = dirname(file);
  for (const name of workflowCandidates(basename(file))) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  return resolve(dir, golden.workflow);
}

export async function runImport(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { "--store": true }, importUsage);
  if (args.positionals.length !== 1) throw new UsageError(`name one file\nusage: ${importUsage}`);
  const file = resolve(args.positionals[0]!);
  const golden = readGolden(file);
  const record = goldenRun(file, golden);
  const store = await openStoreAt(flag(args, "--store") ?? defaultStorePath(dirname(file)));
  try {
    if (await store.getRun(record.run.id)) {
      process.stdout.write(`run ${record.run.id} is already in the store\n`);
      return 0;
    }
    await store.commit(importBatch(record, golden));
  } finally {
    await store.close();
  }
  process.stdout.write(`imported run ${record.run.id} (${record.run.workflowName})\n`);
  return 0;
}

export async function runTest(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, {}, testUsage);
  if (args.positionals.length > 1)
    throw new UsageError(`name at most one folder\nusage: ${testUsage}`);
  const root = resolve(args.positionals[0] ?? ".");
  if (!statSync(root, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`no such folder: ${args.positionals[0]}\nusage: ${testUsage}`);
  const s = styleFor(process.stdout);
  const files = findGolden(root);
  let passed = 0;
  let failed = 0;
  const started = performance.now();
  for (const file of files) {
    const shown = relative(process.cwd(), file) || file;
    const t = performance.now();
    let problem: string | undefined;
    try {
      const golden = readGolden(file);
      const record = goldenRun(file, golden);
      const loaded = loadForReplay(record, true);
      if (!loaded) problem = "  the workflow has errors";
      else {
        const report = await replayRun(record, loaded);
        const wf = relative(process.cwd(), loaded.path) || loaded.path;
        if (report.divergence) problem = formatDivergence(report.divergence, wf, s);
      }
    } catch (e) {
      problem = `  ${(e as Error).message}`;
    }
    const ms = `(${(performance.now() - t).toFixed(1)}ms)`;
    if (problem === undefined) {
      passed++;
      process.stdout.write(`${s.green("✔")} ${shown} ${s.dim(ms)}\n`);
    } else {
      failed++;
      process.stdout.write(`${s.red("✖")} ${shown} ${s.dim(ms)}\n${problem}\n`);
    }
  }
  const total = (performance.now() - started).toFixed(1);
  process.stdout.write(
    `ℹ tests ${files.length}\nℹ pass ${passed}\nℹ fail ${failed}\nℹ duration_ms ${total}\n${passed} passed, ${failed} failed\n`,
  );
  return failed > 0 ? 1 : 0;
}

/** Every golden file under `root`, sorted; build and dependency folders are left out. */
function findGolden(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (!["node_modules", ".git", ".keel", "dist"].includes(e.name)) walk(join(dir, e.name));
      } else if (e.name.endsWith(GOLDEN_SUFFIX)) out.push(join(dir, e.name));
    }
  };
  walk(root);
  return out.sort();
}
