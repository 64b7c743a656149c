// Options a run takes from the command line and the environment, shared by the commands that
// start runs (`keel run`, `rerun`, `resume`, `test`, `worker`).
import { environmentSecrets, SecretError } from "@keel/core/node/secrets";
import { UsageError } from "./output";

/** Where a run's spans go: an OpenTelemetry collector, with the prompts and outputs or not. */
export interface OtelTarget {
  readonly endpoint: string;
  readonly content: boolean;
}

/** `--otel <endpoint>` and `--otel-content`, as a run's export target. */
export function otelOf(args: {
  readonly flags: ReadonlyMap<string, readonly string[]>;
}): OtelTarget | undefined {
  const endpoint = args.flags.get("--otel")?.at(-1);
  if (endpoint === undefined) {
    if (args.flags.has("--otel-content"))
      throw new UsageError("--otel-content needs --otel <endpoint>");
    return undefined;
  }
  return { endpoint, content: args.flags.has("--otel-content") };
}

/**
 * Every secret of the environment (KEEL_SECRET_<NAME>): those the workflow reads must be set, and
 * all are masked in what the run writes (core/node/secrets.ts); a missing or too short one is
 * bad usage.
 */
export function secretsFromEnv(names: readonly string[]): Record<string, string> {
  try {
    return environmentSecrets(names);
  } catch (e) {
    if (e instanceof SecretError) throw new UsageError(e.message);
    throw e;
  }
}
