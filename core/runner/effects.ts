// The Effects interface: the only way a run touches the world (docs/dev/architecture.md).
// Everything that can differ between two runs goes through it: model calls, HTTP, tools, commands
// and the clock.
// Recording wraps the real implementation; replay substitutes the record.

export interface LlmMessage {
  readonly role: "system" | "user" | "assistant" | "tool";
  readonly content: string;
  /** An assistant message's tool calls (an agent's turn; docs/format.md, "Agents"). */
  readonly tool_calls?: readonly LlmToolCall[];
  /** A `tool` message: the id of the call it answers. */
  readonly tool_call_id?: string;
}

/** A tool call as the model sent it: its arguments are the raw text, which may not be JSON. */
export interface LlmToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

/** A tool offered to the model. */
export interface LlmToolSpec {
  readonly name: string;
  readonly description: string | null;
  /** JSON Schema of the arguments (an object). */
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** A model call as resolved from the step: exactly what is sent (and recorded). */
export interface LlmRequest {
  readonly provider: string;
  readonly providerType: "openai" | "azure_openai" | "anthropic" | "scripted";
  /** Azure OpenAI's `api-version` (the deployment is `model`). */
  readonly apiVersion?: string;
  readonly model: string | null;
  readonly system: string | null;
  readonly messages: readonly LlmMessage[];
  readonly params: Readonly<Record<string, unknown>>;
  readonly json: boolean;
  /** The provider's API base URL and extra headers, as rendered (null: the provider's default). */
  readonly baseUrl: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The prompt file the messages (`promptFile`) or the system text (`systemFile`) came from: its
   * path as written and the hash of its text, stored in the run's record (docs/dev/authoring.md).
   */
  readonly promptFile?: PromptFileRef;
  readonly systemFile?: PromptFileRef;
  /** The tools offered (an agent's turn); absent for a plain model call. */
  readonly tools?: readonly LlmToolSpec[];
  /** `none`: tools are listed but the model must answer (an agent's last turn, `on_max_turns: answer`). */
  readonly toolChoice?: "auto" | "none";
  /** Whether the model may ask for several calls at once; absent: the provider's default. */
  readonly parallelToolCalls?: boolean;
  /** The version of how an agent's loop renders its conversation (docs/dev/agents.md). */
  readonly agentProtocol?: number;
}

/** A prompt file as an attempt's input names it: its text is a blob of the record by `hash`. */
export interface PromptFileRef {
  readonly path: string;
  readonly hash: string;
}

export interface LlmResponse {
  /** The reply text. */
  readonly text: string;
  readonly servedModel: string | null;
  readonly responseId: string | null;
  readonly fingerprint: string | null;
  readonly usage: { readonly input: number; readonly output: number } | null;
  /** A streamed call: how the reply arrived (node-effects.ts measures it; docs/dev/authoring.md). */
  readonly stream?: StreamTiming;
  /** The tool calls the model asked for, in the order it sent them (only when tools were offered). */
  readonly toolCalls?: readonly LlmToolCall[];
}

/** How a streamed reply arrived: its chunks' lengths and times, as the provider sent them. */
export interface StreamTiming {
  /** Milliseconds from the call's start to its first chunk; null when none came. */
  readonly ttftMs: number | null;
  /** Each chunk as [length in UTF-16 code units of the raw text, ms since the call's start]. */
  readonly chunks: readonly (readonly [number, number])[];
}

/** A streamed model call (`stream: true`): the reply's chunks are reported as they arrive. */
export interface LlmStream {
  /** The attempt the call works for: its chunks are reported with its step, scope and number. */
  readonly scope?: AttemptScope;
}

/** An embedding call as resolved from an `embed` step: exactly what is sent (and recorded). */
export interface EmbedRequest {
  readonly provider: string;
  readonly providerType: "openai" | "azure_openai" | "scripted";
  readonly model: string | null;
  /** The texts, in order: one vector comes back for each. */
  readonly input: readonly string[];
  readonly dimensions: number | null;
  readonly baseUrl: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Azure OpenAI's `api-version` (the deployment is `model`). */
  readonly apiVersion?: string;
}

export interface EmbedResponse {
  /** One vector per text of the request, in its order. */
  readonly vectors: readonly (readonly number[])[];
  readonly servedModel: string | null;
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

/** A Python tool's call (docs/format.md, "Python tools"): `args` are passed as keyword arguments. */
export interface PythonCall extends ToolCall {
  /** Absolute path of the interpreter that runs it (core/runner/python/interpreter.ts). */
  readonly interpreter: string;
}

export interface PythonResult {
  readonly value: unknown;
  /** The interpreter's version (`3.12.1`), recorded with the attempt. */
  readonly version: string;
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
  /** The unit's item or iteration (`[doc-3]`, `#2`); null or absent for the step itself. */
  readonly scope?: string | null;
  processStarted?(p: StartedProcess): void;
  output?(text: string): void;
  /** A streamed reply's text as it arrives: kept as the partial reply if the attempt times out. */
  chunk?(text: string): void;
}

export interface Effects {
  /** The wall clock, as ISO-8601 UTC with milliseconds. */
  now(): string;
  /**
   * `apiKey` is passed apart from the request, which is recorded. With `stream`, the reply is
   * streamed and each chunk reported as it arrives; it never enters the record (only the
   * assembled reply and its `stream` timing do).
   */
  llm(
    request: LlmRequest,
    signal: AbortSignal,
    apiKey?: string,
    stream?: LlmStream,
  ): Promise<LlmResponse>;
  /** Embeddings of texts; `apiKey` is passed apart from the request, which is recorded. */
  embed(request: EmbedRequest, signal: AbortSignal, apiKey?: string): Promise<EmbedResponse>;
  http(request: HttpRequest, signal: AbortSignal): Promise<HttpResponse>;
  shell(command: ShellCommand, signal: AbortSignal, scope?: AttemptScope): Promise<ShellResult>;
  tool(call: ToolCall, signal: AbortSignal, scope?: AttemptScope): Promise<unknown>;
  /** Runs a Python tool in a worker; absent where Python tools cannot run (a replay answers them). */
  python?(call: PythonCall, signal: AbortSignal, scope?: AttemptScope): Promise<PythonResult>;
  /** Ends what the effects keep between calls (Python workers): called at the run's end. */
  close?(): Promise<void>;
}
