// Timeouts and retry policy: which settings apply to a step (step, then provider, then
// `defaults`), and how long to wait between attempts.
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
