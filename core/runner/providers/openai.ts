// Model calls to any OpenAI-compatible Chat Completions API through the `openai` SDK.
// The client is built with everything explicit (docs/runner.md, "Providers"): no retries of its own
// (Keel's policy records every attempt), no key, URL, organisation or project from the environment.
import OpenAI from "openai";
import type { LlmRequest, LlmResponse } from "../effects";
import { StepError } from "../errors";
import { classifyProviderError } from "./classify";
import { clientCache, clientSettings, type Connection } from "./connection";

export type { Connection };

const client = clientCache(
  (c, dispatcher) =>
    new OpenAI({
      ...clientSettings(c, "https://api.openai.com/v1", dispatcher),
      organization: null,
      project: null,
    }),
);

export async function callOpenAi(
  request: LlmRequest,
  c: Connection,
  signal: AbortSignal,
): Promise<LlmResponse> {
  const messages = [
    ...(request.system !== null ? [{ role: "system" as const, content: request.system }] : []),
    ...request.messages.map((m) => ({ role: m.role, content: m.content })),
  ];
  const p = request.params;
  try {
    const completion = await (
      await client(c)
    ).chat.completions.create(
      {
        model: request.model ?? "gpt-4o-mini",
        messages,
        ...(p.temperature !== undefined ? { temperature: Number(p.temperature) } : {}),
        ...(p.max_tokens !== undefined ? { max_tokens: Number(p.max_tokens) } : {}),
        ...(p.top_p !== undefined ? { top_p: Number(p.top_p) } : {}),
        ...(p.seed !== undefined ? { seed: Number(p.seed) } : {}),
        ...(p.stop !== undefined ? { stop: p.stop as string | string[] } : {}),
        ...(request.json ? { response_format: { type: "json_object" as const } } : {}),
      },
      { signal },
    );
    const text = completion.choices?.[0]?.message?.content;
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
    };
  } catch (e) {
    throw classifyProviderError(e, signal, request.provider);
  }
}
