// `keel replay <run>`: evaluates the workflow again with every effect answered from the record
// and reports the first divergence. Exit codes: 0 reproduced, 1 a divergence, 2 bad usage.
import { relative } from "node:path";
import { replayRun, type ReplayReport } from "@keel/core/replay/replay";
import { lineDiff } from "@keel/core/replay/text-diff";
import type { Divergence } from "@keel/core/replay/divergence";
import { defaultStorePath } from "@keel/core/node/store-path";
import type { ReplayResult } from "@keel/core/protocol/cli";
import { flag, parseArgs } from "../args";
import { styleFor, UsageError, type Style } from "../output";
import { loadForReplay, readRunAt } from "./recorded";
import { replayChunks, StreamPrinter } from "../stream";

export const usage =
  "keel replay <run id | latest> [--current] [--record-tools] [--json | --stream] [--store path]";

export async function runReplay(argv: readonly string[]): Promise<number> {
  const args = parseArgs(
    argv,
    {
      "--current": false,
      "--record-tools": false,
      "--json": false,
      "--stream": false,
      "--store": true,
    },
    usage,
  );
  if (args.positionals.length !== 1) throw new UsageError(`name one run\nusage: ${usage}`);
  const storePath = flag(args, "--store") ?? defaultStorePath(".");
  const record = await readRunAt(storePath, args.positionals[0]!);
  if (args.flags.has("--stream") && args.flags.has("--json"))
    throw new UsageError("--stream prints text as it comes; it does not go with --json");
  const current = args.flags.has("--current");
  const loaded = loadForReplay(record, current);
  if (!loaded) return 2;
  // --stream: the recorded chunks first, from the record alone, at their recorded pace.
  if (args.flags.has("--stream"))
    await replayChunks(record, new StreamPrinter((t) => process.stdout.write(t)));
  // --record-tools: pure tools are answered from the record too, so nothing of the workspace runs.
  const report = await replayRun(record, loaded, {
    pureTools: !args.flags.has("--record-tools"),
    currentChildren: current,
  });
  if (args.flags.has("--json")) {
    const d = report.divergence;
    // What the extension reads (core/protocol/cli.ts).
    const json: ReplayResult = {
      runId: report.runId,
      replayOf: report.replayOf,
      status: report.status,
      divergence: d && {
        step: d.step,
        scope: d.scope,
        field: d.field,
        expected: d.expected,
        actual: d.actual,
        path: d.path,
        line: d.line,
        message: d.message,
      },
      effectsExecuted: report.effectsExecuted,
      outputs: report.outputs,
    };
    process.stdout.write(JSON.stringify(json, null, 2) + "\n");
  } else {
    const file = relative(process.cwd(), loaded.path) || loaded.path;
    printReport(report, current ? `the current ${file}` : "the recorded source", file);
  }
  return report.divergence ? 1 : 0;
}

/** The report as people read it: the verdict, then the first divergence with its line and diff. */
export function printReport(report: ReplayReport, what: string, file: string): void {
  const s = styleFor(process.stdout);
  const head = `replay of run ${report.replayOf} with ${what}`;
  const d = report.divergence;
  if (!d) {
    process.stdout.write(
      `${head}: ${s.green("no divergence")} (${report.status}, ${report.effectsExecuted} effects executed)\n`,
    );
    return;
  }
  process.stdout.write(`${head}: ${s.red("divergence")}\n${formatDivergence(d, file, s)}\n`);
  const more = report.divergences.slice(1);
  if (more.length > 0) {
    // Named by unit: an agent's turn or call, a map's item (`research#2`, `research#3/search.1`).
    const list = more.map((x) => `${x.step ?? "outputs"}${x.scope ?? ""} (${x.field})`).join(", ");
    process.stdout.write(s.dim(`${more.length} more: ${list}\n`));
  }
}

export function formatDivergence(d: Divergence, file: string, s: Style): string {
  const where = d.line !== null ? `${file}:${d.line}` : file;
  // A path that is the field itself (an agent turn's `tools`) is not said twice.
  const part = d.path && d.path !== d.field ? `${d.field}, ${d.path}` : d.field;
  const diff = lineDiff(d.expected, d.actual)
    .split("\n")
    .map((l) => (l.startsWith("-") ? s.red(l) : l.startsWith("+") ? s.green(l) : s.dim(l)))
    .map((l) => `    ${l}`)
    .join("\n");
  const unit = d.step === null ? "(outputs)" : d.step + (d.scope ?? "");
  return `  ${where}  step ${s.bold(unit)} (${part})\n  ${d.message}\n    ${s.dim("--- recorded  +++ replay")}\n${diff}`;
}
