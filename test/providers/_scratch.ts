import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { startProviderServer, type Behaviour } from "../helpers/provider-server";

const name = (e: unknown) => (e instanceof Error ? `${e.constructor.name}: ${e.message}${e.cause ? ` (cause ${(e.cause as Error).constructor?.name}: ${(e.cause as Error).message})` : ""}` : String(e));

async function main() {
const server = await startProviderServer();
const oa = new OpenAI({ apiKey: "sk-o", baseURL: server.openaiBaseURL, maxRetries: 0, timeout: 300 });
const an = new Anthropic({ apiKey: "sk-a", baseURL: server.anthropicBaseURL, maxRetries: 0, timeout: 300 });
const cases: [string, Behaviour, boolean][] = [
  ["reply", { reply: "hello world", fingerprint: "fp_1" }, false],
  ["429", { status: 429, retryAfter: 2 }, false],
  ["500", { status: 500 }, false],
  ["503", { status: 503 }, false],
  ["529", { status: 529 }, false],
  ["hang", { hang: true }, false],
  ["malformed", { malformed: true }, false],
  ["truncated", { truncated: true }, false],
  ["stall", { stall: true }, false],
  ["streamError", { streamError: { type: "overloaded_error" } }, false],
  ["s-reply", { reply: "hello world again" }, true],
  ["s-hang", { hang: true }, true],
  ["s-malformed", { malformed: true }, true],
  ["s-truncated", { truncatedStream: true }, true],
  ["s-stall", { stall: true }, true],
  ["s-streamError", { streamError: {} }, true],
  ["s-429", { status: 429 }, true],
];
for (const [label, b, stream] of cases) {
  for (const api of ["openai", "anthropic"] as const) {
    server.script([b]);
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), 1500);
    const t0 = Date.now();
    try {
      let out: unknown;
      if (api === "openai") {
        if (stream) {
          const s = await oa.chat.completions.create({ model: "gpt-x", messages: [{ role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true } }, { signal: ac.signal });
          let text = ""; let n = 0;
          for await (const c of s) { n++; text += c.choices[0]?.delta.content ?? ""; }
          out = { text, n };
        } else out = await oa.chat.completions.create({ model: "gpt-x", messages: [{ role: "user", content: "hi" }] }, { signal: ac.signal });
      } else {
        if (stream) {
          const s = an.messages.stream({ model: "claude-x", max_tokens: 100, messages: [{ role: "user", content: "hi" }] }, { signal: ac.signal });
          out = await s.finalMessage();
        } else out = await an.messages.create({ model: "claude-x", max_tokens: 100, messages: [{ role: "user", content: "hi" }] }, { signal: ac.signal });
      }
      console.log(label, api, Date.now() - t0, "OK", JSON.stringify(out).slice(0, 200));
    } catch (e) {
      console.log(label, api, Date.now() - t0, "ERR", name(e));
    }
    clearTimeout(t);
  }
}
await server.close();
console.log("closed");
}
void main();
