// Timeouts and retry policy: which settings apply to a step (the step's, its provider's,
// `defaults.<type>`, then `defaults`), and how long to wait between attempts.
import type { Step, Workflow } from "../model/schema";
import type { ErrorKind } from "./errors";

export interface RetrySettings {
  max_attempts?: number;
  backoff?: "fixed" | "exponential";
  initial?: string;
  max_delay?: string;
  jitter?: boolean;
  on?: string[];
}

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly backoff: "fixed" | "exponential";
  readonly initialMs: number;
  readonly maxDelayMs: number;
  readonly jitter: boolean;
  readonly on: ReadonlySet<string>;
}

const DEFAULT_ON = ["timeout", "rate_limit", "server_error"];

/** Milliseconds of a duration (`500ms`, `30s`, `2m`, `1h`); validation guarantees the format. */
export function durationMs(text: string): number {
  const m = /^([0-9.]+)(ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
  return Number(m[1]) * unit;
}

/** The first setting given, in order of precedence. */
export function firstOf<T>(...values: (T | undefined)[]): T | undefined {
  return values.find((v) => v !== undefined);
}

export function retryPolicy(settings: RetrySettings | undefined): RetryPolicy {
  return {
    maxAttempts: settings?.max_attempts ?? 1,
    backoff: settings?.backoff ?? "exponential",
    initialMs: settings?.initial ? durationMs(settings.initial) : 1000,
    maxDelayMs: settings?.max_delay ? durationMs(settings.max_delay) : 30_000,
    jitter: settings?.jitter ?? false,
    on: new Set(settings?.on ?? DEFAULT_ON),
  };
}

export function shouldRetry(policy: RetryPolicy, attempt: number, kind: ErrorKind): boolean {
  return attempt < policy.maxAttempts && policy.on.has(kind);
}

/** The wait before attempt `attempt + 1`; a provider's Retry-After wins, within max_delay. */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs?: number,
  random = Math.random,
): number {
  let delay = policy.backoff === "fixed" ? policy.initialMs : policy.initialMs * 2 ** (attempt - 1);
  delay = Math.min(delay, policy.maxDelayMs);
  if (policy.jitter) delay = random() * delay;
  if (retryAfterMs !== undefined)
    delay = Math.min(Math.max(delay, retryAfterMs), Math.max(policy.maxDelayMs, delay));
  return Math.round(delay);
}

/**
 * The time limit of one attempt of each step type when nothing sets one (docs/runner.md): a step
 * that reaches outside the process always ends, even against a server that never answers. Pure
 * steps (`transform`, `assert`) end by themselves and have none.
 */
export const DEFAULT_TIMEOUTS: Readonly<Record<Step["type"], string | undefined>> = {
  llm: "10m",
  http: "2m",
  tool: "10m",
  shell: "1h",
  transform: undefined,
  assert: undefined,
  // A child run's own steps have their time limits; the whole child has one only when set.
  workflow: undefined,
  embed: "2m",
  // An agent's model calls and tool calls each have their own (docs/dev/agents.md).
  agent: undefined,
};

/**
 * What `defaults.<type>` says for the step's type (docs/format.md, "Defaults"): below the step's
 * own keys and its provider's, above `defaults` for every step.
 */
export function typeDefaults(
  step: Pick<Step, "type">,
  workflow: Workflow,
): NonNullable<NonNullable<Workflow["defaults"]>["llm"]> | undefined {
  const defaults = workflow.defaults as Record<string, unknown> | undefined;
  return defaults?.[step.type] as NonNullable<NonNullable<Workflow["defaults"]>["llm"]> | undefined;
}

/** Whether a failure of the step lets the run go on (`on_error`, then `defaults.<type>`). */
export function continuesOnError(step: Step, workflow: Workflow): boolean {
  return (step.on_error ?? typeDefaults(step, workflow)?.on_error) === "continue";
}

/**
 * A step's time limit on `provider`: the step's, the provider's, the step type's default, the
 * workflow's default, then the step type's own (DEFAULT_TIMEOUTS).
 */
export function stepTimeout(
  step: Step,
  workflow: Workflow,
  provider: string | undefined,
): string | undefined {
  return firstOf(
    step.timeout,
    provider ? workflow.providers?.[provider]?.timeout : undefined,
    typeDefaults(step, workflow)?.timeout,
    workflow.defaults?.timeout,
    DEFAULT_TIMEOUTS[step.type],
  );
}

/** The retry policy of a step's attempts on `provider` (none for steps without one). */
export function stepRetryPolicy(step: Step, workflow: Workflow, provider?: string): RetryPolicy {
  return retryPolicy(
    firstOf(
      step.retry,
      provider ? workflow.providers?.[provider]?.retry : undefined,
      typeDefaults(step, workflow)?.retry,
      workflow.defaults?.retry,
    ),
  );
}

/** The retry policy once a step has fallen back to `provider`. */
export function fallbackRetryPolicy(workflow: Workflow, provider: string): RetryPolicy {
  return retryPolicy(
    firstOf(
      workflow.providers?.[provider]?.retry,
      workflow.defaults?.llm?.retry,
      workflow.defaults?.retry,
    ),
  );
}

/** What follows a failed attempt: another one after a wait, the provider's fallback, or the end. */
export type AfterFailure =
  | { readonly next: "retry"; readonly delayMs: number }
  | { readonly next: "fallback"; readonly provider: string }
  | { readonly next: null };

/**
 * Decides what follows the `tries`-th failed attempt on `provider` under `policy`; a cancelled
 * run neither retries nor falls back, and neither does an error in the workflow itself.
 */
export function afterFailure(
  workflow: Workflow,
  provider: string | undefined,
  policy: RetryPolicy,
  tries: number,
  err: { readonly kind: ErrorKind; readonly retryAfterMs?: number },
  cancelled: boolean,
): AfterFailure {
  if (cancelled) return { next: null };
  if (shouldRetry(policy, tries, err.kind)) {
    return { next: "retry", delayMs: retryDelayMs(policy, tries, err.retryAfterMs) };
  }
  const fallback = provider ? workflow.providers?.[provider]?.fallback : undefined;
  if (fallback !== undefined && err.kind !== "expression" && err.kind !== "config") {
    return { next: "fallback", provider: fallback };
  }
  return { next: null };
}
