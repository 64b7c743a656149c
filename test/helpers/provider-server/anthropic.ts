// Anthropic Messages on the wire (POST /v1/messages): the message object, the SSE stream
// (message_start, content_block_start, ping, content_block_delta…, content_block_stop,
// message_delta with stop_reason and usage, message_stop) and the `{ type: "error" }` body.
import type { ApiFormat, RecordedRequest, ReplyBehaviour } from "./types";
import { deltas, replyText, servedModel, sse, usageFor } from "./wire";

// Anthropic's error types by status, from its API reference.
const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};

// Every event goes out with its name twice, as Anthropic sends it: in `event:` and in `type`.
const event = (type: string, fields: object = {}): string =>
  sse(JSON.stringify({ type, ...fields }), type);

function message(request: RecordedRequest, reply: ReplyBehaviour, id: string) {
  return {
    id,
    type: "message",
    role: "assistant",
    model: servedModel(request, reply),
    content: [] as object[],
    stop_reason: null as string | null,
    stop_sequence: null,
    usage: { input_tokens: 0, output_tokens: 0 },
  };
}

/** The Messages wire format. */
export const anthropicFormat: ApiFormat = {
  api: "anthropic",
  requestIdHeader: "request-id",

  responseId: (n) => `msg_test_${n}`,

  completion(request, reply, id) {
    const usage = usageFor(request, reply);
    return {
      ...message(request, reply, id),
      content: [{ type: "text", text: replyText(reply.reply) }],
      stop_reason: reply.stopReason ?? "end_turn",
      usage: { input_tokens: usage.input, output_tokens: usage.output },
    };
  },

  streamEvents(request, reply, id) {
    const usage = usageFor(request, reply);
    const start = message(request, reply, id);
    // message_start reports the input tokens and a first output token, as the API does; the
    // final output count arrives in message_delta.
    start.usage = { input_tokens: usage.input, output_tokens: 1 };
    const events = [
      event("message_start", { message: start }),
      event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
      event("ping"),
    ];
    for (const text of deltas(replyText(reply.reply))) {
      events.push(event("content_block_delta", { index: 0, delta: { type: "text_delta", text } }));
    }
    events.push(
      event("content_block_stop", { index: 0 }),
      event("message_delta", {
        delta: { stop_reason: reply.stopReason ?? "end_turn", stop_sequence: null },
        usage: { output_tokens: usage.output },
      }),
      event("message_stop"),
    );
    return events;
  },

  malformedEvent: () =>
    sse('{"type": "content_block_delta", "index": 0, "delta": {', "content_block_delta"),

  streamErrorEvents(type, message) {
    // Anthropic reports an overload that happens mid-stream as an `error` event, then ends.
    return [
      sse(
        JSON.stringify({ type: "error", error: { type: type ?? "overloaded_error", message } }),
        "error",
      ),
    ];
  },

  errorBody(status, message, type) {
    const errorType =
      type ?? ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
    return { type: "error", error: { type: errorType, message } };
  },
};
