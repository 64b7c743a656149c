// Shared by the provider-server tests: the real SDK clients built the way Keel builds them, and
// small assertions on what they throw.
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import type { LlmRequest } from "@keel/core/runner/effects";
import { startProviderServer, type ProviderServer } from "../../../helpers/provider-server";
export const OPENAI_KEY = "sk-test-openai";
export const ANTHROPIC_KEY = "sk-ant-test";
export const MESSAGES = [{ role: "user" as const, content: "Say hello." }];

export async function serve(t: TestContext): Promise<ProviderServer> {
  const server = await startProviderServer();
  t.after(() => server.close());
  return server;
}

// Logs are off because both SDKs otherwise print unparsable stream data to the console.
export function openai(server: ProviderServer, timeout = 5_000): OpenAI {
  return new OpenAI({
    apiKey: OPENAI_KEY,
    baseURL: server.openaiBaseURL,
    maxRetries: 0,
    timeout,
    logLevel: "off",
  });
}

export function anthropic(server: ProviderServer, timeout = 5_000): Anthropic {
  return new Anthropic({
    apiKey: ANTHROPIC_KEY,
    baseURL: server.anthropicBaseURL,
    maxRetries: 0,
    timeout,
    logLevel: "off",
  });
}

export const askOpenAI = (client: OpenAI, signal = new AbortController().signal) =>
  client.chat.completions.create({ model: "gpt-4o", messages: MESSAGES }, { signal });

export const askAnthropic = (client: Anthropic, signal = new AbortController().signal) =>
  client.messages.create({ model: "claude-test", max_tokens: 64, messages: MESSAGES }, { signal });

/** The error a promise rejects with; fails the test if it resolves. */
export async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return assert.fail("expected the request to fail");
}

/** Asserts the error is an instance of exactly this class, not of a subclass. */
export function assertExactly(
  error: unknown,
  expected: { prototype: unknown; name: string },
): void {
  const actual = error instanceof Object ? Object.getPrototypeOf(error) : undefined;
  assert.equal(
    actual,
    expected.prototype,
    `expected ${expected.name}, got ${String(actual?.constructor?.name)}: ${String(error)}`,
  );
}

export const causeOf = (error: unknown): unknown => (error as { cause?: unknown }).cause;

export const streamAnthropic = (client: Anthropic, signal = new AbortController().signal) =>
  client.messages.stream({ model: "claude-test", max_tokens: 64, messages: MESSAGES }, { signal });

/** A model call as the runner resolves it, with the fields a test does not care about filled in. */
export function llmRequest(
  providerType: LlmRequest["providerType"],
  extra: Partial<LlmRequest> = {},
): LlmRequest {
  return {
    provider: "p",
    providerType,
    model: "test-model",
    system: null,
    messages: MESSAGES,
    params: {},
    json: false,
    baseUrl: null,
    headers: {},
    ...extra,
  };
}
