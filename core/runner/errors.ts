// Step errors, classified. The kind decides whether `retry.on` retries it, and is recorded with
// every failed attempt.

export type ErrorKind =
  | "timeout"
  | "rate_limit"
  | "server_error"
  | "invalid_output"
  | "cancelled"
  | "expression"
  | "assertion"
  | "http_status"
  | "exit_code"
  | "tool_error"
  | "client_error"
  | "config"
  /** A map's items failed beyond what the step allows (`on_item_error`, `max_failures`). */
  | "item_failures"
  /** A `repeat` reached its `max` with `until` still false (and `on_max: fail`). */
  | "max_iterations"
  /** An agent still called tools after `max_turns` model calls (and `on_max_turns: fail`). */
  | "max_turns"
  /** An agent's model calls spent more than its `budget`. */
  | "budget"
  /** A model's tool call named no tool of the agent, or its arguments failed the tool's `parameters`. */
  | "invalid_arguments";

export class StepError extends Error {
  /**
   * What a streamed model call had received when it failed (a stream cut off, a timeout): kept,
   * redacted, on the failed attempt's meta as `partial`, never used as an output.
   */
  partial?: string;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** A provider's Retry-After, in milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Any thrown value as a StepError; unknown errors count as the step's own failure. */
export function asStepError(e: unknown, fallback: ErrorKind = "tool_error"): StepError {
  if (e instanceof StepError) return e;
  // Expression failures are told apart by name: errors.ts must not import the evaluator.
  if (e instanceof Error && e.name === "ExpressionError")
    return new StepError("expression", e.message);
  const message = e instanceof Error ? e.message : String(e);
  return new StepError(fallback, message);
}

/** The error kinds a tool (JavaScript or Python) may fail with by naming one; any other is tool_error. */
export const TOOL_ERROR_KINDS: readonly ErrorKind[] = [
  "tool_error",
  "rate_limit",
  "timeout",
  "server_error",
  "client_error",
  "invalid_output",
];
