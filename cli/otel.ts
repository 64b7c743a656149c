// `--otel <endpoint>`: a recorded run's spans to an OpenTelemetry collector (docs/cli.md,
// "OpenTelemetry"), through production mode's bundle (`@keel/production`), loaded only when asked
// for.
import { readRecordedRun, type RecordedRun } from "@keel/core/replay/record";
import type { RunStore } from "@keel/core/store/run-store";

declare const KEEL_VERSION: string | undefined;

export interface OtelOptions {
  readonly endpoint: string;
  /** Prompts, replies, tool arguments and results go in the spans too (opt-in). */
  readonly content: boolean;
}

/**
 * Reads a run from the store and sends its spans; false (with a message) when that failed.
 * `parentsOnly` (a worker, which ends child runs too): a child run sends nothing, since its spans
 * are sent in its parent's trace (docs/dev/production-mode.md, "OpenTelemetry export").
 */
export async function exportRunToOtel(
  store: RunStore,
  runId: string,
  options: OtelOptions,
  parentsOnly = false,
): Promise<boolean> {
  if (parentsOnly && (await store.getRun(runId))?.parentId) return true;
  const record = await readRecordedRun(store, runId);
  if (!record) {
    process.stderr.write(`keel: run ${runId} is not in the store: no spans sent\n`);
    return false;
  }
  return sendRecordToOtel(record, options);
}

/** Sends a recorded run's spans; false (with a message) when the collector did not take them. */
export async function sendRecordToOtel(
  record: RecordedRun,
  options: OtelOptions,
): Promise<boolean> {
  const { exportSpans, spansOfRun, tracesUrl } = await import("@keel/production");
  let url: string;
  try {
    url = tracesUrl(options.endpoint);
  } catch {
    process.stderr.write(
      `keel: --otel takes a URL (http://host:4318), not '${options.endpoint}'\n`,
    );
    return false;
  }
  try {
    const version = typeof KEEL_VERSION === "string" ? KEEL_VERSION : "0";
    const n = await exportSpans(
      spansOfRun(record, { content: options.content }),
      record.run.id,
      { endpoint: url },
      version,
    );
    process.stderr.write(`keel: sent ${n} spans of run ${record.run.id} to ${url}\n`);
    return true;
  } catch (e) {
    process.stderr.write(
      `keel: could not send the spans of run ${record.run.id} to ${url}: ${(e as Error).message}\n`,
    );
    return false;
  }
}
