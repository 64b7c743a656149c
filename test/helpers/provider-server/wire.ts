// Wire details shared by both API formats: SSE framing, the text of a reply, default token
// counts and how a reply is cut into stream deltas.
import type { RecordedRequest, ReplyBehaviour, Usage } from "./types";

/** One SSE frame; `event` is omitted for OpenAI, whose frames are data-only. */
export function sse(data: string, event?: string): string {
  return (event === undefined ? "" : `event: ${event}\n`) + `data: ${data}\n\n`;
}

/** The text of a reply as it goes on the wire: an object is sent as its JSON text. */
export function replyText(reply: string | object): string {
  return typeof reply === "string" ? reply : JSON.stringify(reply);
}

// About four characters per token, as the providers' own rules of thumb say; deterministic, so a
// test can assert the figures without scripting them.
const estimate = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

/** The usage a reply reports: the scripted figures, else estimates from the prompt and text. */
export function usageFor(request: RecordedRequest, reply: ReplyBehaviour): Usage {
  if (reply.usage) return reply.usage;
  const prompt = JSON.stringify([request.system ?? null, request.messages ?? null]);
  return { input: estimate(prompt), output: estimate(replyText(reply.reply)) };
}

/** The served model: the scripted one, else the requested one. */
export function servedModel(request: RecordedRequest, reply: ReplyBehaviour): string {
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
