// Model calls to the Anthropic Messages API through `@anthropic-ai/sdk`, streamed (a long reply
// never runs into an HTTP idle limit), with the same explicit client settings as OpenAI's.
import Anthropic from "@anthropic-ai/sdk";
import type { LlmMessage, LlmRequest, LlmResponse, LlmToolCall } from "../effects";
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
  const conversation = toAnthropicMessages(request.messages.filter((m) => m.role !== "system"));
  // `system:` alone: the API needs at least one message, so the system text is sent as the one
  // user message, with no system prompt (docs/runner.md, "Providers").
  const alone = conversation.length === 0 && system !== "";
  const messages = alone ? [{ role: "user" as const, content: system }] : conversation;
  const p = request.params;
  const params = {
    model: request.model ?? "claude-sonnet-4-5",
    max_tokens: p.max_tokens !== undefined ? Number(p.max_tokens) : 4096,
    messages,
    ...(system && !alone ? { system } : {}),
    ...toolFields(request),
    ...(p.temperature !== undefined ? { temperature: Number(p.temperature) } : {}),
    ...(p.top_p !== undefined ? { top_p: Number(p.top_p) } : {}),
    ...(p.stop !== undefined
      ? { stop_sequences: Array.isArray(p.stop) ? (p.stop as string[]) : [String(p.stop)] }
      : {}),
  };
  try {
    const events = await (
      await client(c)
    ).messages.create(
      { ...(params as Anthropic.MessageCreateParamsNonStreaming), stream: true },
      { signal },
    );
    const reply = await assemble(events, onChunk);
    if (!reply.stopped) {
      throw new StepError(
        "server_error",
        `provider '${request.provider}': the stream ended before the reply's end`,
      );
    }
    if (reply.blocks === 0) {
      throw new StepError(
        "server_error",
        `provider '${request.provider}': the reply has no content`,
      );
    }
    const toolCalls = reply.calls.map((call): LlmToolCall => ({
      ...call,
      arguments: argumentsOf(call.arguments),
    }));
    return {
      text: reply.text,
      servedModel: reply.model,
      responseId: reply.id,
      fingerprint: null,
      usage: reply.usage,
      ...(toolCalls.length > 0 ? { toolCalls } : {}),
    };
  } catch (e) {
    throw classifyProviderError(e, signal, request.provider);
  }
}

/**
 * A streamed message put together from its raw events: the text of its text blocks (each delta
 * reported), its tool_use blocks with their arguments' text as it arrived, usage from
 * message_start as message_delta updates it. The SDK's own MessageStream is not used: it parses a
 * tool's input when its block ends and throws when that is not JSON, which the agent's loop must
 * see as the model's malformed arguments, not as a failed call (docs/dev/provider-clients.md).
 */
async function assemble(
  events: AsyncIterable<Anthropic.RawMessageStreamEvent>,
  onChunk?: (text: string) => void,
) {
  let text = "";
  let id: string | null = null;
  let model: string | null = null;
  let usage: LlmResponse["usage"] = null;
  let stopped = false;
  let blocks = 0;
  const calls = new Map<number, { id: string; name: string; arguments: string }>();
  for await (const event of events) {
    switch (event.type) {
      case "message_start":
        id = event.message.id ?? null;
        model = event.message.model ?? null;
        usage = {
          input: event.message.usage.input_tokens,
          output: event.message.usage.output_tokens,
        };
        break;
      case "content_block_start":
        blocks++;
        if (event.content_block.type === "text") text += event.content_block.text;
        if (event.content_block.type === "tool_use") {
          const { id: callId, name, input } = event.content_block;
          // The input arrives in deltas; one given whole at the start is taken as it is.
          const given = input && Object.keys(input).length > 0 ? JSON.stringify(input) : "";
          calls.set(event.index, { id: callId, name, arguments: given });
        }
        break;
      case "content_block_delta":
        if (event.delta.type === "text_delta") {
          text += event.delta.text;
          if (event.delta.text !== "") onChunk?.(event.delta.text);
        } else if (event.delta.type === "input_json_delta") {
          const call = calls.get(event.index);
          if (call) call.arguments += event.delta.partial_json;
        }
        break;
      case "message_delta":
        // The final output count; the input count only when the API sends it again.
        usage = {
          input: event.usage.input_tokens ?? (usage as LlmResponse["usage"])?.input ?? 0,
          output: event.usage.output_tokens,
        };
        break;
      case "message_stop":
        stopped = true;
        break;
    }
  }
  const ordered = [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
  return { text, id, model, usage, stopped, blocks, calls: ordered };
}

/**
 * A tool call's arguments as Keel keeps them: the JSON text of its `input`, normalised (what
 * `JSON.stringify(input)` gives); a text that is not JSON is kept as the model sent it, for the
 * agent's loop to judge. A call with no argument deltas has the empty input `{}`.
 */
function argumentsOf(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === "") return "{}";
  try {
    return JSON.stringify(JSON.parse(raw));
  } catch {
    return raw;
  }
}

/**
 * The tools offered, as the Messages API takes them; `tool_choice` `none` when the model must
 * answer, `auto` without parallel calls when the step forbids them. No tools, no fields.
 */
function toolFields(request: LlmRequest) {
  if (!request.tools || request.tools.length === 0) return {};
  const choice =
    request.toolChoice === "none"
      ? { tool_choice: { type: "none" as const } }
      : request.parallelToolCalls === false
        ? { tool_choice: { type: "auto" as const, disable_parallel_tool_use: true } }
        : {};
  return {
    tools: request.tools.map((t) => ({
      name: t.name,
      ...(t.description !== null ? { description: t.description } : {}),
      input_schema: t.parameters,
    })),
    ...choice,
  };
}

type Block =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown }
  | { type: "tool_result"; tool_use_id: string; content: string };

type AnthropicMessage = { role: "user" | "assistant"; content: string | Block[] };

/**
 * The conversation as the Messages API takes it: an assistant message's tool calls become
 * `tool_use` blocks after its text, and the `tool` messages that follow it become one user
 * message of `tool_result` blocks, in their order.
 */
function toAnthropicMessages(list: readonly LlmMessage[]): AnthropicMessage[] {
  const out: AnthropicMessage[] = [];
  for (const m of list) {
    if (m.role === "tool") {
      const result: Block = {
        type: "tool_result",
        tool_use_id: m.tool_call_id ?? "",
        content: m.content,
      };
      const last = out[out.length - 1];
      if (
        last?.role === "user" &&
        Array.isArray(last.content) &&
        last.content[0]?.type === "tool_result"
      )
        last.content.push(result);
      else out.push({ role: "user", content: [result] });
    } else if (m.role === "assistant" && m.tool_calls && m.tool_calls.length > 0) {
      out.push({
        role: "assistant",
        content: [
          ...(m.content !== "" ? [{ type: "text" as const, text: m.content }] : []),
          ...m.tool_calls.map((c) => ({
            type: "tool_use" as const,
            id: c.id,
            name: c.name,
            input: inputOf(c.arguments),
          })),
        ],
      });
    } else out.push({ role: m.role as "user" | "assistant", content: m.content });
  }
  return out;
}

/**
 * A recorded call's arguments sent back as a `tool_use` input, which must be an object: arguments
 * that are not a JSON object (the model sent malformed JSON, which the loop answered with an
 * error result) go back as `{}`.
 */
function inputOf(args: string): unknown {
  try {
    const value = JSON.parse(args) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}
