// The vocabulary of the provider test server: what a test scripts (behaviours), what the server
// records (requests) and what each API's wire format must supply (ApiFormat).
//
// Behaviours are told apart by the key only they carry (`reply`, `hang`, `status`, …), so a test
// writes `{ hang: true }` rather than `{ kind: "hang" }`; `in` narrows the union.
import type { ServerResponse } from "node:http";

/** Which provider API a request was addressed to. */
export type ApiKind = "openai" | "anthropic";

/** Token counts reported in a reply. */
export interface Usage {
  input: number;
  output: number;
}

/** A normal completion, streamed as SSE when the request asked for `stream: true`. */
export interface ReplyBehaviour {
  /** The assistant's text; an object is sent as its JSON text. */
  reply: string | object;
  /** The served model reported back; defaults to the requested model. */
  model?: string;
  /** OpenAI's `system_fingerprint` (Anthropic has none); `null` when not given. */
  fingerprint?: string;
  /** Token counts; estimated from the text lengths when not given. */
  usage?: Usage;
  /** The response id; `chatcmpl-test-N` / `msg_test_N` from a per-API counter when not given. */
  id?: string;
  /** Wait this long before sending anything (headers included). */
  delayMs?: number;
  /** OpenAI `finish_reason` / Anthropic `stop_reason`; `stop` / `end_turn` when not given. */
  stopReason?: string;
  /** Streams only: wait this long between SSE events. */
  chunkDelayMs?: number;
  /** Tool calls after the text (OpenAI `tool_calls`, Anthropic `tool_use` blocks). */
  toolCalls?: ToolCallReply[];
}

/**
 * A reply that asks for tools, with no text unless `reply` gives one: OpenAI's `content` is then
 * null, Anthropic's message has only `tool_use` blocks. The stop reason defaults to `tool_calls`
 * / `tool_use`.
 */
export interface ToolCallsBehaviour extends Omit<ReplyBehaviour, "reply"> {
  toolCalls: ToolCallReply[];
  reply?: string | object;
}

/** A normal completion, with text, tool calls or both. */
export type Completion = ReplyBehaviour | ToolCallsBehaviour;

/**
 * One tool call of a scripted reply. Faults are written with it: `arguments` as a text that is not
 * JSON (malformed arguments), a `name` the request did not offer (an unknown tool).
 */
export interface ToolCallReply {
  name: string;
  /**
   * An object is sent as its JSON text; a string goes as is. Anthropic's non-streamed `input` is
   * the parsed object, or the string itself when it is not JSON (a malformed reply); streamed, the
   * text goes out in `input_json_delta` pieces, JSON or not. Default `{}`.
   */
  arguments?: string | object;
  /** The call's id; `call_<response id>_<index>` (OpenAI) / `toolu_<response id>_<index>` when not given. */
  id?: string;
  /** OpenAI only: `custom` sends a custom tool call (`custom: {name, input}`), not a function. */
  type?: "function" | "custom";
}

/** Never answer: the client's timeout or AbortSignal must end the request. */
export interface HangBehaviour {
  hang: true;
}

/** An HTTP error with the API's own error body (429 gets Retry-After headers). */
export interface StatusBehaviour {
  status: number;
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  /** Milliseconds, sent as `retry-after-ms` (a header both SDKs read before `Retry-After`). */
  retryAfterMs?: number;
  /** The error message; a status-specific one when not given. */
  message?: string;
  delayMs?: number;
}

/** Status 200, `content-type: application/json`, a body that is not JSON. */
export interface MalformedBehaviour {
  malformed: true;
  /** The body to send; a broken JSON text when not given. */
  body?: string;
}

/**
 * Status 200 with a Content-Length larger than what is sent: half of a valid reply, then the
 * socket is destroyed. On a streamed request this is the same as `truncatedStream`.
 */
export interface TruncatedBehaviour {
  truncated: true;
}

/** A stream that stops after about half of its events; the socket is then destroyed. */
export interface TruncatedStreamBehaviour {
  truncatedStream: true;
  /** The text the complete stream would have carried. */
  text?: string;
  /**
   * Tool calls the complete stream would have carried: the stream is then cut in the middle of
   * the last call's arguments (after its first piece). A non-streamed request gets half the body.
   */
  toolCalls?: ToolCallReply[];
}

/**
 * Headers and half of the body, then silence with the socket left open (until the client gives
 * up or the server closes): what a provider that stalls mid-reply looks like.
 */
export interface StallBehaviour {
  stall: true;
}

/**
 * A stream that starts normally, then carries the API's in-stream error event (Anthropic's
 * `event: error`, OpenAI's `data: {"error": …}`) and ends. A request that did not ask for a
 * stream gets the same error as an HTTP 500 instead, as the API would send it before any body.
 */
export interface StreamErrorBehaviour {
  streamError: { type?: string; message?: string };
}

/** What the server does with one request. */
export type Behaviour =
  | ReplyBehaviour
  | ToolCallsBehaviour
  | HangBehaviour
  | StatusBehaviour
  | MalformedBehaviour
  | TruncatedBehaviour
  | TruncatedStreamBehaviour
  | StallBehaviour
  | StreamErrorBehaviour;

/** A scripted step: a behaviour, or a function choosing one from the request that arrived. */
export type ScriptStep = Behaviour | ((request: RecordedRequest) => Behaviour);

/** One request as the server received it. */
export interface RecordedRequest {
  /** `unknown` for a path neither API serves (answered 404). */
  api: ApiKind | "unknown";
  method: string;
  /** The path without the query string. */
  path: string;
  /** The query string (`?api-version=…`), or "". */
  query: string;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The key that arrived: the Bearer token of `Authorization`, else `x-api-key`, else `api-key`. */
  apiKey: string | undefined;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  // The request fields a test most often checks, copied from the body exactly as sent.
  model: unknown;
  messages: unknown;
  system: unknown;
  temperature: unknown;
  max_tokens: unknown;
  max_completion_tokens: unknown;
  seed: unknown;
  /** The tools offered, `tool_choice` and `parallel_tool_calls` (OpenAI), as sent. */
  tools: unknown;
  tool_choice: unknown;
  parallel_tool_calls: unknown;
  stream: boolean;
  /** `Date.now()` when the body had arrived. */
  at: number;
  /** What the server answered with; undefined for a 404. */
  behaviour: Behaviour | undefined;
}

/** Everything one API's wire format has to provide; the fault plumbing is shared. */
export interface ApiFormat {
  readonly api: ApiKind;
  /** The response header that carries the request id (the SDKs expose it on errors). */
  readonly requestIdHeader: string;
  /** The n-th generated response id. */
  responseId(n: number): string;
  /** The JSON body of a non-streamed completion. */
  completion(request: RecordedRequest, reply: Completion, id: string): object;
  /**
   * The SSE events of a streamed completion, each a complete `…\n\n` frame, in order; `cut`: only
   * the events up to the first piece of the last tool call's arguments (a stream cut inside them).
   */
  streamEvents(
    request: RecordedRequest,
    reply: Completion,
    id: string,
    cut?: "arguments",
  ): string[];
  /** An SSE frame whose data is not JSON, placed where the API would put a content event. */
  malformedEvent(): string;
  /** The in-stream error event, and what ends the stream after it. */
  streamErrorEvents(type: string | undefined, message: string): string[];
  /** An error body in the API's own format. */
  errorBody(status: number, message: string, type?: string): object;
}

/** One request being answered: what fault and reply writers need. */
export interface Exchange {
  readonly format: ApiFormat;
  readonly request: RecordedRequest;
  readonly res: ServerResponse;
  readonly requestId: string;
  /** The next generated response id for this API. */
  nextResponseId(): string;
  /** A pause that the server cancels on close (it then never resolves, holding no handle). */
  sleep(ms: number): Promise<void>;
}
