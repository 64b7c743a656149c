// `keel export <run>`: a run as a golden file on stdout (paths relative to its workflow, so it can
// be committed), or its spans sent to an OpenTelemetry collector.
import { existsSync, realpathSync } from "node:fs";
import { basename, dirname } from "node:path";
import { portableGolden, toGolden } from "@keel/core/replay/golden";
import { workspaceRoot } from "@keel/core/node/workspace-settings";
import { defaultStorePath } from "@keel/core/node/store-path";
import { flag, parseArgs } from "../args";
import { UsageError } from "../output";
import { sendRecordToOtel } from "../otel";
import { otelOf } from "../run-options";
import { readRunAt } from "./recorded";

export const exportUsage =
  "keel export <run id | latest> [--store path | postgres://…] [--otel endpoint [--otel-content]]  (> name.keel-run.json)";

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
