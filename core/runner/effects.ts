// The Effects interface: the only way a run touches the world (docs/dev/architecture.md).
// Everything that can differ between two runs goes through it: model calls, HTTP, tools, commands
// and the clock.
// Recording wraps the real implementation; replay substitutes the record.

export interface LlmMessage {
  readonly role: "system" | "user" | "assistant";
  readonly content: string;
}

/** A model call as resolved from the step: exactly what is sent (and recorded). */
export interface LlmRequest {
  readonly provider: string;
  readonly providerType: "openai" | "anthropic" | "scripted";
  readonly model: string | null;
  readonly system: string | null;
  readonly messages: readonly LlmMessage[];
  readonly params: Readonly<Record<string, unknown>>;
  readonly json: boolean;
  /** The provider's API base URL and extra headers, as rendered (null: the provider's default). */
  readonly baseUrl: string | null;
  readonly headers: Readonly<Record<string, string>>;
}

export interface LlmResponse {
  /** The reply text. */
  readonly text: string;
  readonly servedModel: string | null;
  readonly responseId: string | null;
  readonly fingerprint: string | null;
  readonly usage: { readonly input: number; readonly output: number } | null;
}

export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface ShellCommand {
  readonly argv: readonly string[];
  readonly cwd: string;
  /** Variables set on top of the inherited environment. */
  readonly env: Readonly<Record<string, string>>;
}

export interface ShellResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ToolCall {
  /** Absolute path of the module. */
  readonly module: string;
  readonly exportName: string;
  readonly args: unknown;
  /** Folder of the workflow file (the tool's `ctx.workflowDir`). */
  readonly dir: string;
}

/** A process group a command started: its leader's pid and start time (processes.ts). */
export interface StartedProcess {
  readonly pid: number;
  readonly start: string;
}

/**
 * The attempt an effect works for, and where it reports what it starts and prints: a command's
 * process group (recorded, so that a resume can end it when the run's process died), a tool's
 * output (recorded with its attempt).
 */
export interface AttemptScope {
  readonly runId: string;
  readonly stepId: string;
  readonly attempt: number;
  processStarted?(p: StartedProcess): void;
  output?(text: string): void;
}

export interface Effects {
  /** The wall clock, as ISO-8601 UTC with milliseconds. */
  now(): string;
  /** `apiKey` is passed apart from the request, which is recorded. */
  llm(request: LlmRequest, signal: AbortSignal, apiKey?: string): Promise<LlmResponse>;
  http(request: HttpRequest, signal: AbortSignal): Promise<HttpResponse>;
  shell(command: ShellCommand, signal: AbortSignal, scope?: AttemptScope): Promise<ShellResult>;
  tool(call: ToolCall, signal: AbortSignal, scope?: AttemptScope): Promise<unknown>;
}
