// The local OpenAI-compatible server of the agents benchmark (docs/benchmarks.md, "Agents (#20)"),
// in a process of its own so that its work does not share the measured loop's event loop (a real
// provider is another machine). It plays the model of a research agent from the conversation it
// is sent, so every system under test (Keel, LangGraph.js, the bare SDK loop) gets the same
// replies: the first user message says `in N turns`; turn t (1 + the assistant messages so far)
// asks for two tool calls, `search {query: "topic t"}` and `fetch_page {id: "doc-t"}`, until turn
// N, which answers `answerText(N)`. From turn 2 on the request must end with the two tool results
// of the turn before (their texts name its query and id); a conversation that lost them is
// answered `broken …`, so the system's final answer is wrong and the bench fails.
//
// Prints `URL <base url>` once listening; when its standard input closes, prints `REQUESTS <n>`
// (the completions it answered) and exits.
import { startProviderServer } from "../../test/helpers/provider-server";
import type { Behaviour, RecordedRequest } from "../../test/helpers/provider-server/types";
import { answerText } from "./tools";

interface Message {
  readonly role: string;
  readonly content?: unknown;
}

/** What the model says to `request`: two tool calls, the answer, or `broken …`. */
function reply(request: RecordedRequest): Behaviour {
  const messages = (Array.isArray(request.messages) ? request.messages : []) as Message[];
  const first = messages.find((m) => m.role === "user");
  const n = Number(/in (\d+) turns/.exec(String(first?.content ?? ""))?.[1]);
  if (!Number.isInteger(n)) return { reply: "broken: no `in N turns` in the first user message" };
  const turn = messages.filter((m) => m.role === "assistant").length + 1;
  if (turn > 1) {
    const last = messages.slice(-2);
    const text = last.map((m) => (m.role === "tool" ? String(m.content) : "")).join("\n");
    if (!text.includes(`topic ${turn - 1}`) || !text.includes(`doc-${turn - 1}`))
      return { reply: `broken at turn ${turn}: the tool results of turn ${turn - 1} are missing` };
  }
  const usage = { input: 40 * turn, output: 20 };
  if (turn >= n) return { reply: answerText(n), usage };
  return {
    toolCalls: [
      { name: "search", arguments: { query: `topic ${turn}` } },
      { name: "fetch_page", arguments: { id: `doc-${turn}` } },
    ],
    usage,
  };
}

async function main(): Promise<void> {
  const server = await startProviderServer();
  let answered = 0;
  server.setDefault((request) => {
    answered++;
    return reply(request);
  });
  process.stdout.write(`URL ${server.openaiBaseURL}\n`);
  process.stdin.resume();
  process.stdin.on("end", () => {
    process.stdout.write(`REQUESTS ${answered}\n`);
    void server.close();
  });
}

void main();
