// `keel worker --store postgres://…`: a worker of a team's pool (docs/team.md, "2. Workers"). It
// takes runs that `keel run --on` submitted, executes them with this machine's workspace and
// secrets (`KEEL_SECRET_<NAME>`), records them in the PostgreSQL store, and hands back to the pool
// the runs of workers that died. SIGTERM or SIGINT stops it gracefully: no new runs, the runs in
// progress get `--grace` to end, and those still going are handed back to the other workers.
import { hostname } from "node:os";
import { isPgUrl } from "@keel/core/store/location";
import { durationMs } from "@keel/core/runner/policy";
import { flag, parseArgs } from "../args";
import { exportRunToOtel } from "../otel";
import { UsageError } from "../output";
import { storeName } from "../store";
import { otelOf, secretsFromEnv } from "../run-options";

declare const KEEL_VERSION: string | undefined;

export const usage =
  "keel worker --store postgres://… [--id name] [--concurrency n] [--attempts n] [--grace 30s] [--otel endpoint [--otel-content]]";

export async function runWorker(argv: readonly string[]): Promise<number> {
  const args = parseArgs(
    argv,
    {
      "--store": true,
      "--id": true,
      "--concurrency": true,
      "--attempts": true,
      "--grace": true,
      "--otel": true,
      "--otel-content": false,
    },
    usage,
  );
  if (args.positionals.length > 0) throw new UsageError(`a worker takes no file\nusage: ${usage}`);
  const url = flag(args, "--store");
  if (!url || !isPgUrl(url))
    throw new UsageError(`--store postgres://… is required\nusage: ${usage}`);
  const concurrency = Number(flag(args, "--concurrency") ?? 8);
  if (!(Number.isInteger(concurrency) && concurrency >= 1))
    throw new UsageError("--concurrency takes a whole number of at least 1");
  const attempts = Number(flag(args, "--attempts") ?? 4 * concurrency);
  if (!(Number.isInteger(attempts) && attempts >= 1))
    throw new UsageError("--attempts takes a whole number of at least 1");
  const graceText = flag(args, "--grace") ?? "30s";
  let graceMs: number;
  try {
    graceMs = durationMs(graceText);
  } catch {
    throw new UsageError(`--grace takes a duration (30s, 2m), not '${graceText}'`);
  }
  const id = flag(args, "--id") ?? `${hostname()}-${process.pid}`;
  const otel = otelOf(args);
  const log = (line: string) =>
    process.stderr.write(`${new Date().toISOString()} worker ${id}: ${line}\n`);

  // A secret of this machine that cannot be masked refuses the worker, not each run later.
  secretsFromEnv([]);
  const { startWorker } = await import("@keel/workers");
  let worker;
  try {
    worker = await startWorker({
      url,
      id,
      concurrency,
      attempts,
      keelVersion: typeof KEEL_VERSION === "string" ? KEEL_VERSION : "0",
      // A secret a run needs and this worker lacks fails that run, not the worker.
      secrets: (names) => {
        try {
          return secretsFromEnv(names);
        } catch (e) {
          throw new Error(`worker ${id}: ${(e as Error).message}`);
        }
      },
      onRunEnded: otel
        ? (store, run) => exportRunToOtel(store, run.runId, otel, true).then(() => {})
        : undefined,
      log,
    });
  } catch (e) {
    throw new UsageError(`cannot start a worker on ${storeName(url)}: ${(e as Error).message}`);
  }
  log(`ready on ${storeName(url)}, ${concurrency} runs and ${attempts} step attempts at once`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  log(`${signal}: stopping; runs in progress have ${graceText} to end`);
  await worker.stop(graceMs);
  log("stopped");
  // Runs past the grace may still hold the event loop (a tool's thread, a provider call): they
  // were handed back, so end the process rather than wait for them.
  process.exit(0);
}
