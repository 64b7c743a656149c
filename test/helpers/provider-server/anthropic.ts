// Anthropic Messages on the wire (POST /v1/messages): the message object, the SSE stream
// (message_start, content_block_start, ping, content_block_delta…, content_block_stop,
// message_delta with stop_reason and usage, message_stop) and the `{ type: "error" }` body.
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

function message(request: RecordedRequest, reply: Completion, id: string) {
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

const toolUseId = (call: ToolCallReply, id: string, index: number) =>
  call.id ?? `toolu_${id}_${index}`;

// A complete tool_use block's input: the arguments parsed, or the text itself when it is not JSON.
function inputOf(call: ToolCallReply): unknown {
  if (typeof call.arguments !== "string") return call.arguments ?? {};
  try {
    return JSON.parse(call.arguments);
  } catch {
    return call.arguments;
  }
}

// A message with tool calls and no text has only its tool_use blocks.
const hasText = (reply: Completion): boolean =>
  !reply.toolCalls?.length || replyText(reply.reply) !== "";

const stopOf = (reply: Completion): string =>
  reply.stopReason ?? (reply.toolCalls?.length ? "tool_use" : "end_turn");

/** The Messages wire format. */
export const anthropicFormat: ApiFormat = {
  api: "anthropic",
  requestIdHeader: "request-id",

  responseId: (n) => `msg_test_${n}`,

  completion(request, reply, id) {
    const usage = usageFor(request, reply);
    return {
      ...message(request, reply, id),
      content: [
        ...(hasText(reply) ? [{ type: "text", text: replyText(reply.reply) }] : []),
        ...(reply.toolCalls ?? []).map((call, i) => ({
          type: "tool_use",
          id: toolUseId(call, id, i),
          name: call.name,
          input: inputOf(call),
        })),
      ],
      stop_reason: stopOf(reply),
      usage: { input_tokens: usage.input, output_tokens: usage.output },
    };
  },

  streamEvents(request, reply, id, cut) {
    const usage = usageFor(request, reply);
    const start = message(request, reply, id);
    // message_start reports the input tokens and a first output token, as the API does; the
    // final output count arrives in message_delta.
    start.usage = { input_tokens: usage.input, output_tokens: 1 };
    const events = [event("message_start", { message: start })];
    let index = 0;
    if (hasText(reply)) {
      events.push(
        event("content_block_start", { index, content_block: { type: "text", text: "" } }),
        event("ping"),
      );
      for (const text of deltas(replyText(reply.reply)))
        events.push(event("content_block_delta", { index, delta: { type: "text_delta", text } }));
      events.push(event("content_block_stop", { index }));
      index++;
    }
    // Each call: a tool_use block opened with an empty input, its arguments' text in
    // input_json_delta pieces, then closed.
    const calls = reply.toolCalls ?? [];
    for (const [i, call] of calls.entries()) {
      const block = { type: "tool_use", id: toolUseId(call, id, i), name: call.name, input: {} };
      events.push(event("content_block_start", { index, content_block: block }));
      const pieces = argumentPieces(argumentText(call));
      const cutHere = cut === "arguments" && i === calls.length - 1;
      for (const partial_json of cutHere ? pieces.slice(0, 1) : pieces) {
        const delta = { type: "input_json_delta", partial_json };
        events.push(event("content_block_delta", { index, delta }));
      }
      if (cutHere) return events;
      events.push(event("content_block_stop", { index }));
      index++;
    }
    events.push(
      event("message_delta", {
        delta: { stop_reason: stopOf(reply), stop_sequence: null },
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
