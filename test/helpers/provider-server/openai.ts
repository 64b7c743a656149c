// OpenAI Chat Completions on the wire (POST /v1/chat/completions): the completion object, the
// `chat.completion.chunk` stream ending in `data: [DONE]`, and the `{ error: {…} }` body.
import type { ApiFormat, RecordedRequest, ReplyBehaviour } from "./types";
import { deltas, replyText, servedModel, sse, usageFor } from "./wire";

// OpenAI's error `type` and `code` by status, as its API sends them.
function errorKind(status: number): { type: string; code: string | null } {
  if (status === 400) return { type: "invalid_request_error", code: null };
  if (status === 401) return { type: "invalid_request_error", code: "invalid_api_key" };
  if (status === 403) return { type: "invalid_request_error", code: "unsupported_country" };
  if (status === 404) return { type: "invalid_request_error", code: "unknown_url" };
  if (status === 429) return { type: "requests", code: "rate_limit_exceeded" };
  return { type: "server_error", code: null };
}

function usageBody(request: RecordedRequest, reply: ReplyBehaviour) {
  const { input, output } = usageFor(request, reply);
  return { prompt_tokens: input, completion_tokens: output, total_tokens: input + output };
}

// The stream's usage chunk is only sent when the request asked for it, as OpenAI does.
function wantsUsage(request: RecordedRequest): boolean {
  const body = request.body as { stream_options?: { include_usage?: unknown } } | null;
  return body?.stream_options?.include_usage === true;
}

/** The Chat Completions wire format. */
export const openaiFormat: ApiFormat = {
  api: "openai",
  requestIdHeader: "x-request-id",

  responseId: (n) => `chatcmpl-test-${n}`,

  completion(request, reply, id) {
    return {
      id,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: servedModel(request, reply),
      system_fingerprint: reply.fingerprint ?? null,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: replyText(reply.reply), refusal: null },
          logprobs: null,
          finish_reason: reply.stopReason ?? "stop",
        },
      ],
      usage: usageBody(request, reply),
      service_tier: "default",
    };
  },

  streamEvents(request, reply, id) {
    const withUsage = wantsUsage(request);
    const base = {
      id,
      object: "chat.completion.chunk",
      created: Math.floor(Date.now() / 1000),
      model: servedModel(request, reply),
      system_fingerprint: reply.fingerprint ?? null,
      // With include_usage every chunk carries `usage: null` until the last one.
      ...(withUsage ? { usage: null } : {}),
    };
    const chunk = (delta: object, finish: string | null) =>
      sse(
        JSON.stringify({
          ...base,
          choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
        }),
      );
    const events = [chunk({ role: "assistant", content: "", refusal: null }, null)];
    for (const piece of deltas(replyText(reply.reply)))
      events.push(chunk({ content: piece }, null));
    events.push(chunk({}, reply.stopReason ?? "stop"));
    if (withUsage) {
      events.push(sse(JSON.stringify({ ...base, choices: [], usage: usageBody(request, reply) })));
    }
    events.push(sse("[DONE]"));
    return events;
  },

  malformedEvent: () => sse('{"id": "chatcmpl-broken", "choices": [{"delta": {"content": "x"'),

  streamErrorEvents(type, message) {
    // OpenAI sends an error mid-stream as a data frame holding `error`, then closes the stream.
    return [sse(JSON.stringify({ error: { message, type: type ?? "server_error", code: null } }))];
  },

  errorBody(status, message, type) {
    const kind = errorKind(status);
    return { error: { message, type: type ?? kind.type, param: null, code: kind.code } };
  },
};
