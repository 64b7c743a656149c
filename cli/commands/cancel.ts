// `keel cancel <run> --store postgres://…`: cancels a run that a team's workers execute (submitted
// with `keel run --on … --detach`, or followed elsewhere). Its queued attempts never start, an
// attempt executing finishes its effect without recording it, and the run's record ends
// `cancelled`, its unfinished steps cancelled. A local run is cancelled where it runs (Ctrl-C in
// its terminal, or the editor's Cancel).
import { isPgUrl } from "@keel/core/store/location";
import { flag, parseArgs } from "../args";
import { UsageError } from "../output";
import { storeName } from "../store";

declare const KEEL_VERSION: string | undefined;

export const usage = "keel cancel <run id> --store postgres://…";

export async function runCancel(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { "--store": true }, usage);
  if (args.positionals.length !== 1) throw new UsageError(`name one run\nusage: ${usage}`);
  const url = flag(args, "--store");
  if (!url || !isPgUrl(url)) {
    throw new UsageError(
      `--store postgres://… is required: a local run is cancelled where it runs (Ctrl-C, or Cancel in the editor)\nusage: ${usage}`,
    );
  }
  const runId = args.positionals[0]!;
  const { openDbosExecutor } = await import("@keel/workers");
  let executor;
  try {
    executor = await openDbosExecutor(url, {
      keelVersion: typeof KEEL_VERSION === "string" ? KEEL_VERSION : "0",
    });
  } catch (e) {
    throw new UsageError(
      `cannot reach the workers' store at ${storeName(url)}: ${(e as Error).message}`,
    );
  }
  try {
    const run = await executor.store.getRun(runId);
    if (!run) throw new UsageError(`no run '${runId}' in ${storeName(url)}`);
    if (run.status !== "running") {
      process.stdout.write(`run ${runId} has already ended: ${run.status}\n`);
      return 0;
    }
    const cancelled = await executor.cancel(runId);
    const ended = await executor.store.getRun(runId);
    process.stdout.write(
      cancelled
        ? `cancelled run ${runId}\n`
        : `run ${runId} ended before the cancel: ${ended?.status ?? "unknown"}\n`,
    );
    return 0;
  } finally {
    await executor.close();
  }
}
