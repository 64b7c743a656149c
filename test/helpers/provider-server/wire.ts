// Wire details shared by both API formats: SSE framing, the text of a reply, default token
// counts and how a reply is cut into stream deltas.
import type { Completion, RecordedRequest, ToolCallReply, Usage } from "./types";

/** One SSE frame; `event` is omitted for OpenAI, whose frames are data-only. */
export function sse(data: string, event?: string): string {
  return (event === undefined ? "" : `event: ${event}\n`) + `data: ${data}\n\n`;
}

/** The text of a reply as it goes on the wire: an object is sent as its JSON text. */
export function replyText(reply: string | object | undefined): string {
  if (reply === undefined) return "";
  return typeof reply === "string" ? reply : JSON.stringify(reply);
}

/** A tool call's arguments as they go on the wire: an object as its JSON text, a string as is. */
export function argumentText(call: ToolCallReply): string {
  return typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments ?? {});
}

/**
 * The arguments' text cut into stream pieces: three when it is long enough, so a stream cut after
 * the first piece stops inside them; joined they give the text back exactly.
 */
export function argumentPieces(text: string): string[] {
  if (text === "") return [];
  const size = Math.max(1, Math.ceil(text.length / 3));
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

// About four characters per token, as the providers' own rules of thumb say; deterministic, so a
// test can assert the figures without scripting them.
const estimate = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

/** The usage a reply reports: the scripted figures, else estimates from the prompt and text. */
export function usageFor(request: RecordedRequest, reply: Completion): Usage {
  if (reply.usage) return reply.usage;
  const prompt = JSON.stringify([request.system ?? null, request.messages ?? null]);
  const calls = (reply.toolCalls ?? []).map((c) => c.name + argumentText(c)).join("");
  return { input: estimate(prompt), output: estimate(replyText(reply.reply) + calls) };
}

/** The served model: the scripted one, else the requested one. */
export function servedModel(request: RecordedRequest, reply: Completion): string {
  if (reply.model !== undefined) return reply.model;
  return typeof request.model === "string" ? request.model : "test-model";
}

/**
 * The text cut into stream deltas, one word (with its trailing space) each, so a stream has
 * several deltas to truncate between; joined they give the text back exactly.
 */
export function deltas(text: string): string[] {
  return text.match(/\s*\S+\s*|\s+/g) ?? [];
}
