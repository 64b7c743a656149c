// OpenAI Chat Completions on the wire (POST /v1/chat/completions): the completion object, the
// `chat.completion.chunk` stream ending in `data: [DONE]`, and the `{ error: {…} }` body.
import type { ApiFormat, Completion, RecordedRequest, ToolCallReply } from "./types";
import {
  argumentPieces,
  argumentText,
  deltas,
  replyText,
  servedModel,
  sse,
  usageFor,
} from "./wire";

// OpenAI's error `type` and `code` by status, as its API sends them.
function errorKind(status: number): { type: string; code: string | null } {
  if (status === 400) return { type: "invalid_request_error", code: null };
  if (status === 401) return { type: "invalid_request_error", code: "invalid_api_key" };
  if (status === 403) return { type: "invalid_request_error", code: "unsupported_country" };
  if (status === 404) return { type: "invalid_request_error", code: "unknown_url" };
  if (status === 429) return { type: "requests", code: "rate_limit_exceeded" };
  return { type: "server_error", code: null };
}

function usageBody(request: RecordedRequest, reply: Completion) {
  const { input, output } = usageFor(request, reply);
  return { prompt_tokens: input, completion_tokens: output, total_tokens: input + output };
}

// The stream's usage chunk is only sent when the request asked for it, as OpenAI does.
function wantsUsage(request: RecordedRequest): boolean {
  const body = request.body as { stream_options?: { include_usage?: unknown } } | null;
  return body?.stream_options?.include_usage === true;
}

const callId = (call: ToolCallReply, id: string, index: number) => call.id ?? `call_${id}_${index}`;

// A tool call of a complete message: a function call, or a custom one (`type: custom`).
function toolCall(call: ToolCallReply, id: string, index: number) {
  return call.type === "custom"
    ? {
        id: callId(call, id, index),
        type: "custom",
        custom: { name: call.name, input: argumentText(call) },
      }
    : {
        id: callId(call, id, index),
        type: "function",
        function: { name: call.name, arguments: argumentText(call) },
      };
}

// With tool calls and no text, the message's content is null, as the API sends it.
const contentOf = (reply: Completion): string | null =>
  reply.toolCalls?.length && replyText(reply.reply) === "" ? null : replyText(reply.reply);

const finishOf = (reply: Completion): string =>
  reply.stopReason ?? (reply.toolCalls?.length ? "tool_calls" : "stop");

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
          message: {
            role: "assistant",
            content: contentOf(reply),
            refusal: null,
            ...(reply.toolCalls?.length
              ? { tool_calls: reply.toolCalls.map((c, i) => toolCall(c, id, i)) }
              : {}),
          },
          logprobs: null,
          finish_reason: finishOf(reply),
        },
      ],
      usage: usageBody(request, reply),
      service_tier: "default",
    };
  },

  streamEvents(request, reply, id, cut) {
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
    // Each call: a first piece naming it (id, type, name, empty arguments), then its arguments'
    // text in pieces, all keyed by the call's index.
    const calls = reply.toolCalls ?? [];
    for (const [index, call] of calls.entries()) {
      if (call.type === "custom") {
        events.push(chunk({ tool_calls: [{ index, ...toolCall(call, id, index) }] }, null));
        continue;
      }
      const opening = { name: call.name, arguments: "" };
      const first = { index, id: callId(call, id, index), type: "function", function: opening };
      events.push(chunk({ tool_calls: [first] }, null));
      const pieces = argumentPieces(argumentText(call));
      const cutHere = cut === "arguments" && index === calls.length - 1;
      for (const piece of cutHere ? pieces.slice(0, 1) : pieces)
        events.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }, null));
      if (cutHere) return events;
    }
    events.push(chunk({}, finishOf(reply)));
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
