// Model calls to the Anthropic Messages API through `@anthropic-ai/sdk`, streamed (a long reply
// never runs into an HTTP idle limit), with the same explicit client settings as OpenAI's.
import Anthropic from "@anthropic-ai/sdk";
import type { LlmRequest, LlmResponse } from "../effects";
import { StepError } from "../errors";
import { classifyProviderError } from "./classify";
import { clientCache, clientSettings, type Connection } from "./connection";

const client = clientCache((c) => new Anthropic(clientSettings(c, "https://api.anthropic.com")));

export async function callAnthropic(
  request: LlmRequest,
  c: Connection,
  signal: AbortSignal,
  /** A streamed step's sink: each text delta as it arrives (docs/runner.md, "Streaming"). */
  onChunk?: (text: string) => void,
): Promise<LlmResponse> {
  // The Messages API takes the system prompt apart from the conversation.
  const system = [
    request.system,
    ...request.messages.filter((m) => m.role === "system").map((m) => m.content),
  ]
    .filter((s): s is string => s !== null && s !== "")
    .join("\n\n");
  const messages = request.messages
    .filter((m) => m.role !== "system")
    .map((m) => ({ role: m.role as "user" | "assistant", content: m.content }));
  const p = request.params;
  const params = {
    model: request.model ?? "claude-sonnet-4-5",
    max_tokens: p.max_tokens !== undefined ? Number(p.max_tokens) : 4096,
    messages,
    ...(system ? { system } : {}),
    ...(p.temperature !== undefined ? { temperature: Number(p.temperature) } : {}),
    ...(p.top_p !== undefined ? { top_p: Number(p.top_p) } : {}),
    ...(p.stop !== undefined
      ? { stop_sequences: Array.isArray(p.stop) ? (p.stop as string[]) : [String(p.stop)] }
      : {}),
  };
  try {
    const stream = (await client(c)).messages.stream(
      params as Parameters<Anthropic["messages"]["stream"]>[0],
      { signal },
    );
    if (onChunk) stream.on("text", (delta) => delta !== "" && onChunk(delta));
    const message = await stream.finalMessage();
    const text = message.content.map((block) => (block.type === "text" ? block.text : "")).join("");
    if (message.content.length === 0) {
      throw new StepError(
        "server_error",
        `provider '${request.provider}': the reply has no content`,
      );
    }
    return {
      text,
      servedModel: message.model ?? null,
      responseId: message.id ?? null,
      fingerprint: null,
      usage: message.usage
        ? { input: message.usage.input_tokens, output: message.usage.output_tokens }
        : null,
    };
  } catch (e) {
    throw classifyProviderError(e, signal, request.provider);
  }
}
