// Model calls to any OpenAI-compatible Chat Completions API through the `openai` SDK.
// The client is built with everything explicit (docs/runner.md, "Providers"): no retries of its own
// (Keel's policy records every attempt), no key, URL, organisation or project from the environment.
import OpenAI, { AzureOpenAI } from "openai";
import type { EmbedRequest, EmbedResponse, LlmMessage, LlmRequest, LlmResponse } from "../effects";
import { StepError } from "../errors";
import { classifyProviderError } from "./classify";
import { clientCache, clientSettings, type Connection } from "./connection";

export type { Connection };

const client = clientCache((c): OpenAI => {
  if (!c.azure)
    return new OpenAI({
      ...clientSettings(c, "https://api.openai.com/v1"),
      organization: null,
      project: null,
    });
  // Azure: the endpoint, not a base URL; the deployment is each request's model; the key goes in
  // `api-key`. Nothing is read from the AZURE_OPENAI_* variables: every setting is given.
  const { baseURL, ...settings } = clientSettings(c, "");
  return new AzureOpenAI({
    ...settings,
    endpoint: baseURL,
    apiVersion: c.azure.apiVersion,
    organization: null,
    project: null,
  });
});

export async function callOpenAi(
  request: LlmRequest,
  c: Connection,
  signal: AbortSignal,
  /** A streamed step's sink: each text delta as it arrives (docs/runner.md, "Streaming"). */
  onChunk?: (text: string) => void,
): Promise<LlmResponse> {
  const messages = [
    ...(request.system !== null ? [{ role: "system" as const, content: request.system }] : []),
    ...request.messages.map(toOpenAiMessage),
  ];
  const p = request.params;
  const body = {
    model: request.model ?? "gpt-4o-mini",
    messages,
    ...(p.temperature !== undefined ? { temperature: Number(p.temperature) } : {}),
    ...(p.max_tokens !== undefined ? { max_tokens: Number(p.max_tokens) } : {}),
    ...(p.top_p !== undefined ? { top_p: Number(p.top_p) } : {}),
    ...(p.seed !== undefined ? { seed: Number(p.seed) } : {}),
    ...(p.stop !== undefined ? { stop: p.stop as string | string[] } : {}),
    ...(request.json ? { response_format: { type: "json_object" as const } } : {}),
    ...toolFields(request),
  };
  try {
    if (onChunk) return await streamOpenAi(await client(c), body, request, signal, onChunk);
    const completion = await (await client(c)).chat.completions.create(body, { signal });
    const message = completion.choices?.[0]?.message;
    // Only function calls are Keel's tools; other kinds (`custom`) are not offered, so not read.
    const toolCalls = (message?.tool_calls ?? []).flatMap((call) =>
      call.type === "function"
        ? [{ id: call.id, name: call.function.name, arguments: call.function.arguments }]
        : [],
    );
    // A reply that only asks for tools may have no content at all.
    const text = message?.content ?? (toolCalls.length > 0 ? "" : undefined);
    if (typeof text !== "string") {
      throw new StepError(
        "server_error",
        `provider '${request.provider}': the reply has no message content`,
      );
    }
    return {
      text,
      servedModel: completion.model ?? null,
      responseId: completion.id ?? null,
      fingerprint: completion.system_fingerprint ?? null,
      usage: completion.usage
        ? { input: completion.usage.prompt_tokens, output: completion.usage.completion_tokens }
        : null,
      ...(toolCalls.length > 0 ? { toolCalls } : {}),
    };
  } catch (e) {
    throw classifyProviderError(e, signal, request.provider);
  }
}

/**
 * The tools offered, as Chat Completions takes them: `tool_choice` only for `none` (the API's
 * default with tools is `auto`), `parallel_tool_calls` only when the step says. No tools, no
 * fields: the API refuses an empty `tools` list and a `tool_choice` without tools.
 */
function toolFields(request: LlmRequest) {
  if (!request.tools || request.tools.length === 0) return {};
  return {
    tools: request.tools.map((t) => ({
      type: "function" as const,
      function: {
        name: t.name,
        ...(t.description !== null ? { description: t.description } : {}),
        parameters: t.parameters as Record<string, unknown>,
      },
    })),
    ...(request.toolChoice === "none" ? { tool_choice: "none" as const } : {}),
    ...(request.parallelToolCalls !== undefined
      ? { parallel_tool_calls: request.parallelToolCalls }
      : {}),
  };
}

/** A message of the conversation as Chat Completions takes it. */
function toOpenAiMessage(m: LlmMessage): OpenAI.ChatCompletionMessageParam {
  if (m.role === "tool")
    return { role: "tool", content: m.content, tool_call_id: m.tool_call_id ?? "" };
  if (m.role === "assistant" && m.tool_calls && m.tool_calls.length > 0)
    return {
      role: "assistant",
      content: m.content === "" ? null : m.content,
      tool_calls: m.tool_calls.map((c) => ({
        id: c.id,
        type: "function" as const,
        function: { name: c.name, arguments: c.arguments },
      })),
    };
  return { role: m.role, content: m.content };
}

/**
 * A streamed completion: the text deltas of the first choice, reported and assembled; usage
 * comes in the last chunk (`stream_options.include_usage`). Tool calls arrive in pieces keyed by
 * their index: the first piece names the call (id, name), the others carry more of its
 * arguments' text. A stream that ends without a finish reason was cut off, whatever the
 * connection said, even in the middle of a call's arguments.
 */
async function streamOpenAi(
  openai: OpenAI,
  body: OpenAI.ChatCompletionCreateParamsNonStreaming,
  request: LlmRequest,
  signal: AbortSignal,
  onChunk: (text: string) => void,
): Promise<LlmResponse> {
  const stream = await openai.chat.completions.create(
    { ...body, stream: true, stream_options: { include_usage: true } },
    { signal },
  );
  let text = "";
  let finished = false;
  let servedModel: string | null = null;
  let responseId: string | null = null;
  let fingerprint: string | null = null;
  let usage: LlmResponse["usage"] = null;
  const calls = new Map<number, { id: string; name: string; arguments: string; type: string }>();
  for await (const chunk of stream) {
    servedModel ??= chunk.model ?? null;
    responseId ??= chunk.id ?? null;
    fingerprint ??= chunk.system_fingerprint ?? null;
    if (chunk.usage)
      usage = { input: chunk.usage.prompt_tokens, output: chunk.usage.completion_tokens };
    const choice = chunk.choices?.[0];
    if (choice?.finish_reason) finished = true;
    const delta = choice?.delta?.content;
    if (typeof delta === "string" && delta !== "") {
      text += delta;
      onChunk(delta);
    }
    for (const piece of choice?.delta?.tool_calls ?? []) {
      const call = calls.get(piece.index);
      if (!call) {
        calls.set(piece.index, {
          id: piece.id ?? "",
          name: piece.function?.name ?? "",
          arguments: piece.function?.arguments ?? "",
          type: piece.type ?? "function",
        });
      } else call.arguments += piece.function?.arguments ?? "";
    }
  }
  if (!finished) {
    throw new StepError(
      "server_error",
      `provider '${request.provider}': the stream ended before the reply's end`,
    );
  }
  const toolCalls = [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .flatMap(([, call]) => (call.type === "function" ? [call] : []))
    .map(({ id, name, arguments: args }) => ({ id, name, arguments: args }));
  return {
    text,
    servedModel,
    responseId,
    fingerprint,
    usage,
    ...(toolCalls.length > 0 ? { toolCalls } : {}),
  };
}

/** Embeddings through the SDK's `embeddings.create` (OpenAI, Azure OpenAI, any compatible server). */
export async function embedOpenAi(
  request: EmbedRequest,
  c: Connection,
  signal: AbortSignal,
): Promise<EmbedResponse> {
  try {
    const r = await (
      await client(c)
    ).embeddings.create(
      {
        model: request.model ?? "text-embedding-3-small",
        input: [...request.input],
        encoding_format: "float",
        ...(request.dimensions !== null ? { dimensions: request.dimensions } : {}),
      },
      { signal },
    );
    const data = [...(r.data ?? [])].sort((a, b) => a.index - b.index);
    if (data.some((d) => !Array.isArray(d.embedding)))
      throw new StepError(
        "server_error",
        `provider '${request.provider}': a reply without vectors`,
      );
    return {
      vectors: data.map((d) => d.embedding),
      servedModel: r.model ?? null,
      usage: r.usage ? { input: r.usage.prompt_tokens, output: 0 } : null,
    };
  } catch (e) {
    throw classifyProviderError(e, signal, request.provider);
  }
}
