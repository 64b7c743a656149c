// `keel test [folder]`: replays every golden file under the folder against the current workflows;
// exit 1 on a divergence. Prints one line per file and a summary like node's test runner.
import { readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { GOLDEN_SUFFIX } from "@keel/core/replay/golden";
import { replayRun } from "@keel/core/replay/replay";
import { parseArgs } from "../args";
import { styleFor, UsageError } from "../output";
import { goldenRun, readGolden } from "../golden-files";
import { formatDivergence } from "./replay";
import { loadForReplay } from "./recorded";

export const testUsage = "keel test [folder]";

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
        // The workflows as they are now, child workflows included.
        const report = await replayRun(record, loaded, { currentChildren: true });
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
