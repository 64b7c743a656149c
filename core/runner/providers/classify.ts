// Turns what the provider SDKs throw into Keel's error kinds, from the behaviour observed against
// the test server (docs/dev/provider-clients.md). Timeouts and cancels are Keel's own signals and
// are decided by which signal fired, never by the SDK's error class.
import { StepError } from "../errors";
import { isIdleTimeout } from "./connection";

interface SdkError {
  status?: number;
  name?: string;
  message?: string;
  headers?: { get(name: string): string | null } | Record<string, string>;
  cause?: unknown;
  constructor?: { name?: string };
}

export function classifyProviderError(
  e: unknown,
  signal: AbortSignal,
  provider: string,
): StepError {
  if (signal.aborted)
    return (signal.reason as StepError) ?? new StepError("cancelled", "cancelled");
  if (e instanceof StepError) return e;
  const err = (e ?? {}) as SdkError;
  const message = `provider '${provider}': ${err.message ?? String(e)}`;
  const status = typeof err.status === "number" ? err.status : undefined;
  if (status === 429) return new StepError("rate_limit", message, retryAfter(err.headers));
  if (status === 408) return new StepError("timeout", message);
  if (status !== undefined && status >= 500) return new StepError("server_error", message);
  if (status !== undefined && status >= 400) return new StepError("client_error", message);
  const kind = err.constructor?.name ?? err.name ?? "";
  if (kind === "APIConnectionTimeoutError" || isIdleTimeout(e))
    return new StepError("timeout", message);
  // Malformed or truncated replies, dropped connections and errors inside a stream.
  return new StepError("server_error", message);
}

function retryAfter(headers: SdkError["headers"]): number | undefined {
  if (!headers) return undefined;
  const get = (name: string): string | null =>
    typeof (headers as { get?: unknown }).get === "function"
      ? (headers as { get(n: string): string | null }).get(name)
      : ((headers as Record<string, string>)[name] ?? null);
  const ms = get("retry-after-ms");
  if (ms !== null && Number.isFinite(Number(ms))) return Number(ms);
  const value = get("retry-after");
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
