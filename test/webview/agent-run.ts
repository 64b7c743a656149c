// A real agent run for the graph panel's tests of the agent node: `research` (type agent, a
// scripted provider) takes 4 turns and asks for 6 tool calls, two of them refused
// (invalid_arguments: a query that is not text, a tool that does not exist), then answers;
// `report` reads the answer; `notes`, needing nothing, is drawn under `research`, where its lanes
// hang over it. The graph message is what the extension sends for its file.
import { validate } from "@keel/core/check/validate";
import { LineIndex } from "@keel/core/model/line-index";
import { graphView } from "@keel/core/service/graph-view";
import type { GraphMessage } from "@keel/core/protocol/webview";
import type { EventRecord } from "@keel/core/record/records";
import { runText, type TestRun } from "../core/runner/harness";
import type { ProviderServer } from "../helpers/provider-server";

export const TOOLS = {
  "tools.mjs": `
export async function search(args) { return { hits: ["doc-" + args.query] }; }
export async function fetchPage(args) { return { url: args.url, text: "Keel records every run." }; }
`,
};

/** `provider` replaces the scripted provider (a test server's, whose turns cost something). */
export function agentFlow(provider?: string): string {
  return `keel: 1
name: research
providers:
${
  provider ??
  `  model:
    type: scripted
    responses:
      - turn: 1
        tool_calls:
          - { name: search, arguments: { query: keel } }
          - { name: search, arguments: { query: 3 } }
      - turn: 2
        tool_calls:
          - { name: fetch_page, arguments: { url: "https://keel.dev/docs" } }
          - { name: lookup, arguments: { q: replay } }
      - turn: 3
        tool_calls:
          - { name: search, arguments: { query: replay } }
          - { name: fetch_page, arguments: { url: "https://keel.dev/replay" } }
      - turn: 4
        reply: Keel runs workflows and replays them.`
}
steps:
  research:
    type: agent
    prompt: "Question: what is keel?"
    max_turns: 5
    tools:
      search:
        description: Search the knowledge base.
        uses: ./tools.mjs#search
        parameters:
          type: object
          required: [query]
          properties: { query: { type: string } }
      fetch_page:
        description: Read a page.
        uses: ./tools.mjs#fetchPage
        parameters:
          type: object
          required: [url]
          properties: { url: { type: string } }
  report:
    type: transform
    expr: steps.research.output
  notes:
    type: transform
    expr: '"drawn under research, where its lanes hang"'
outputs:
  answer: steps.report.output
`;
}

/** The agent's units at the end, in the fold's order: each turn, then its calls by index. */
export const UNITS = [
  "research#1",
  "research#1/search.0",
  "research#1/search.1",
  "research#2",
  "research#2/fetch_page.0",
  "research#2/lookup.1",
  "research#3",
  "research#3/search.0",
  "research#3/fetch_page.1",
  "research#4",
];

export function agentGraph(text = agentFlow()): GraphMessage {
  const { model, diagnostics } = validate(text);
  return graphView(model, diagnostics, new LineIndex(text), "file:///w/research.keel.yaml");
}

export interface AgentRun extends TestRun {
  readonly events: EventRecord[];
  readonly recording: Record<string, unknown>;
}

/** Runs the agent workflow and reads its record back as the panel is sent it. */
export async function agentRun(
  text = agentFlow(),
  options: Parameters<typeof runText>[1] = {},
): Promise<AgentRun> {
  const run = await runText(text, { files: TOOLS, ...options });
  if (run.result.status !== "succeeded") throw new Error(JSON.stringify(run.result));
  const id = run.result.runId;
  const events = await run.store.events(id);
  const attempts = await run.store.attempts(id);
  const record = (await run.store.getRun(id))!;
  return {
    ...run,
    events,
    recording: {
      type: "recording",
      runId: id,
      status: record.status,
      startedAt: record.startedAt,
      events,
      attempts,
    },
  };
}

/**
 * The same agent against the local OpenAI server with a priced model (gpt-4o: $2.50 in, $10 out
 * per million tokens): each turn uses 1000 tokens in and 200 out, $0.0045, so the four cost $0.018.
 */
export function pricedAgentRun(server: ProviderServer): Promise<AgentRun> {
  const usage = { input: 1000, output: 200 };
  server.script([
    {
      usage,
      toolCalls: [
        { name: "search", arguments: { query: "keel" } },
        { name: "search", arguments: { query: 3 } },
      ],
    },
    {
      usage,
      toolCalls: [
        { name: "fetch_page", arguments: { url: "https://keel.dev/docs" } },
        { name: "lookup", arguments: { q: "replay" } },
      ],
    },
    {
      usage,
      toolCalls: [
        { name: "search", arguments: { query: "replay" } },
        { name: "fetch_page", arguments: { url: "https://keel.dev/replay" } },
      ],
    },
    { usage, reply: "Keel runs workflows and replays them." },
  ]);
  return agentRun(
    agentFlow(`  model:
    type: openai
    model: gpt-4o
    base_url: "${server.openaiBaseURL}"
    api_key: "\${{ secrets.KEY }}"`),
    { secrets: { KEY: "sk-test" } },
  );
}
