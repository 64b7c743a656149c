// Reading a golden file (*.keel-run.json) from disk, for `keel import` and `keel test`: its JSON,
// the run it holds and the workflow it belongs to. The format and naming rule are in
// core/replay/golden.ts and docs/replay.md.
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fromGolden, workflowCandidates, type GoldenFile } from "@keel/core/replay/golden";
import type { RecordedRun } from "@keel/core/replay/record";
import { UsageError } from "./output";

export function readGolden(file: string): GoldenFile {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as GoldenFile;
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/** The run a golden file holds, read against its workflow; bad usage when it is not one. */
export function goldenRun(file: string, golden: GoldenFile): RecordedRun {
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
