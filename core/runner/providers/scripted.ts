// The built-in `scripted` provider (docs/runner.md, "Providers"): deterministic offline answers.
// `match` is a substring of the rendered prompt (system + messages), or a regular expression
// written `/…/flags`; the first match wins, then `default`; a response may answer with an error
// kind instead, after an optional `delay`. `chunks` sends the reply in pieces, each after its
// own optional delay, as a streamed provider would (a step with `stream: true` reports them); with
// `error` as well, the chunks arrive and then the error does: a stream cut in the middle.
// `tool_calls` answers an agent's turn with calls to its tools (after the chunks, if any), and
// `turn: N` narrows a response to the Nth model call of an agent's conversation.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "yaml";
import type { EmbedRequest, EmbedResponse, LlmRequest, LlmResponse, LlmToolCall } from "../effects";
import { StepError } from "../errors";
import { durationMs } from "../policy";
import { sha256 } from "../recorder";

interface ScriptedResponse {
  /** Optional when `turn` is given. */
  match?: string;
  /** Only the Nth model call of a conversation: its messages hold N-1 assistant messages. */
  turn?: number;
  reply?: unknown;
  error?: "rate_limit" | "timeout" | "server_error";
  delay?: string;
  chunks?: ScriptedChunk[];
  tool_calls?: ScriptedToolCall[];
}

/** A tool call a scripted response asks for: a string of arguments is sent as is, JSON or not. */
interface ScriptedToolCall {
  name: string;
  arguments?: string | Record<string, unknown>;
  id?: string;
}

/** A piece of a scripted reply: its text, or its text after a delay. */
type ScriptedChunk = string | { text: string; delay?: string };

export interface ScriptedConfig {
  model?: string;
  responses?: ScriptedResponse[];
  file?: string;
  default?: unknown;
}

export async function answerScripted(
  config: ScriptedConfig,
  request: LlmRequest,
  dir: string,
  signal: AbortSignal,
  onChunk?: (text: string) => void,
): Promise<LlmResponse> {
  const prompt = [request.system ?? "", ...request.messages.map((m) => m.content)].join("\n");
  const responses = [
    ...(config.responses ?? []),
    ...(config.file ? loadFile(resolve(dir, config.file)) : []),
  ];
  // The turn of this call: one more than the assistant messages before it.
  const turn = request.messages.filter((m) => m.role === "assistant").length + 1;
  const hit = responses.find(
    (r) =>
      (r.turn === undefined || r.turn === turn) &&
      (r.match === undefined ? r.turn !== undefined : matches(r.match, prompt)),
  );
  if (hit?.delay) await wait(durationMs(hit.delay), signal);
  for (const chunk of hit?.chunks ?? []) {
    const piece = typeof chunk === "string" ? chunk : chunk.text;
    if (typeof chunk !== "string" && chunk.delay) await wait(durationMs(chunk.delay), signal);
    if (piece !== "") onChunk?.(piece);
  }
  if (hit?.error)
    throw new StepError(hit.error, `scripted provider '${request.provider}' answered ${hit.error}`);
  const toolCalls = toolCallsOf(hit, request, turn);
  const reply = hit?.chunks
    ? hit.chunks.map((c) => (typeof c === "string" ? c : c.text)).join("")
    : hit
      ? (hit.reply ?? (hit.tool_calls ? "" : undefined))
      : config.default;
  if (reply === undefined) {
    throw new StepError(
      "config",
      `no response of scripted provider '${request.provider}' matches the prompt, and it has no default`,
    );
  }
  const text = typeof reply === "string" ? reply : JSON.stringify(reply);
  // What the model "wrote": its text and its calls, for the id and the estimated output tokens.
  const written = text + toolCalls.map((c) => c.name + c.arguments).join("");
  return {
    text,
    servedModel: request.model ?? config.model ?? "scripted",
    responseId: `scripted-${sha256(prompt + "\u0000" + written).slice(0, 16)}`,
    fingerprint: null,
    usage: { input: Math.ceil(prompt.length / 4), output: Math.ceil(written.length / 4) },
    ...(toolCalls.length > 0 ? { toolCalls } : {}),
  };
}

/**
 * The tool calls a response asks for, with ids `call_<turn>_<index>` unless it names them; none
 * when the call offers no tools or says `tool_choice: none` (the model must answer in text).
 */
function toolCallsOf(
  hit: ScriptedResponse | undefined,
  request: LlmRequest,
  turn: number,
): LlmToolCall[] {
  if (!hit?.tool_calls || !request.tools || request.toolChoice === "none") return [];
  return hit.tool_calls.map((c, index) => ({
    id: c.id ?? `call_${turn}_${index}`,
    name: c.name,
    arguments: typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments ?? {}),
  }));
}

function matches(pattern: string, prompt: string): boolean {
  const regex = /^\/(.*)\/([a-z]*)$/s.exec(pattern);
  if (!regex) return prompt.includes(pattern);
  return new RegExp(regex[1]!, regex[2]).test(prompt);
}

const files = new Map<string, ScriptedResponse[]>();

function loadFile(path: string): ScriptedResponse[] {
  let list = files.get(path);
  if (!list) {
    const data = parse(readFileSync(path, "utf8")) as unknown;
    const items = Array.isArray(data)
      ? data
      : (data as { responses?: unknown[] } | null)?.responses;
    if (!Array.isArray(items)) throw new StepError("config", `${path} holds no list of responses`);
    list = items as ScriptedResponse[];
    files.set(path, list);
  }
  return list;
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Vectors a scripted provider answers embeddings with. */
const SCRIPTED_DIMENSIONS = 8;

/**
 * A scripted provider's embeddings: a vector made from each text's sha256, the same for the same
 * text on every run and machine (offline, in CI), unit length, so cosine similarity is a dot product.
 */
export function embedScripted(config: ScriptedConfig, request: EmbedRequest): EmbedResponse {
  const size = request.dimensions ?? SCRIPTED_DIMENSIONS;
  const vectors = request.input.map((text) => {
    const raw: number[] = [];
    for (let block = 0; raw.length < size; block++) {
      const hash = sha256(`${block}\u0000${text}`);
      for (let i = 0; i + 4 <= hash.length && raw.length < size; i += 4)
        raw.push(parseInt(hash.slice(i, i + 4), 16) / 0x7fff - 1);
    }
    const norm = Math.hypot(...raw) || 1;
    return raw.map((x) => Math.round((x / norm) * 1e6) / 1e6);
  });
  const tokens = request.input.reduce((n, t) => n + Math.ceil(t.length / 4), 0);
  return {
    vectors,
    servedModel: request.model ?? config.model ?? "scripted",
    usage: { input: tokens, output: 0 },
  };
}
