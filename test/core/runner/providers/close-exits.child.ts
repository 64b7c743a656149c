// Run by provider-server.test.ts in a child process: leaves requests hanging and stalled, closes
// the server, prints how each request ended as JSON, and must then exit on its own (no
// process.exit), which shows close() left no socket or timer behind.
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { startProviderServer } from "../../../helpers/provider-server";

const describe = (error: unknown): string => {
  if (!(error instanceof Error)) return `not an error: ${String(error)}`;
  const cause = (error as { cause?: unknown }).cause;
  const text = `${error.constructor.name}: ${error.message}`;
  // Connection errors are described by their cause; the others by their own message.
  return error.message === "Connection error." && cause instanceof Error
    ? `${error.constructor.name} <- ${cause.constructor.name}: ${cause.message}`
    : text;
};

async function main(): Promise<void> {
  const server = await startProviderServer();
  server.script([{ hang: true }, { stall: true }, { stall: true }]);
  // Counts responses whose headers arrived, so close() comes when both stalls are mid-body: a
  // request that is merely logged may not have had its first bytes flushed yet.
  let headersSeen = 0;
  let bothStalled: () => void = () => {};
  const stalled = new Promise<void>((resolve) => (bothStalled = resolve));
  const counting: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (++headersSeen === 2) bothStalled();
    return response;
  };
  // Timeouts far beyond the parent's patience: only close() can end these requests in time.
  const options = { maxRetries: 0, timeout: 60_000, logLevel: "off" as const, fetch: counting };
  const openai = new OpenAI({ ...options, apiKey: "sk-test", baseURL: server.openaiBaseURL });
  const anthropic = new Anthropic({
    ...options,
    apiKey: "sk-test",
    baseURL: server.anthropicBaseURL,
  });
  const messages = [{ role: "user" as const, content: "hi" }];
  const outcomes = Promise.allSettled([
    openai.chat.completions.create({ model: "m", messages }),
    anthropic.messages.create({ model: "m", max_tokens: 16, messages }),
    anthropic.messages.stream({ model: "m", max_tokens: 16, messages }).finalMessage(),
  ]);
  await server.waitForRequest(3);
  await stalled;
  const started = Date.now();
  await server.close();
  const took = Date.now() - started;
  const [openaiHang, anthropicStall, anthropicStreamStall] = (await outcomes).map((o) =>
    o.status === "rejected" ? describe(o.reason) : "fulfilled",
  );
  process.stdout.write(
    JSON.stringify({
      closedInMs: took < 500 ? "< 500" : String(took),
      openaiHang,
      anthropicStall,
      anthropicStreamStall,
    }),
  );
}

void main();
