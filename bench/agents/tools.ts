// What every system of the agents benchmark (docs/benchmarks.md, "Agents (#20)") shares: the two
// tools as one JavaScript module (written to the run's folder: Keel's `uses:` runs it in its tool
// worker, LangGraph.js and the bare SDK loop import the same file), their JSON Schemas, the prompt
// and the expected answer, and the Keel workflow.

/**
 * The tools: cheap, deterministic functions of their arguments, whose results (about 400 and 300
 * characters) are what a search and a page fetch would give a model, in kind if not in size.
 */
export const TOOLS_MODULE = `// The agents benchmark's tools (bench/agents/tools.ts).
export function search(args) {
  const query = String(args.query);
  const hits = [1, 2, 3].map((i) => ({
    id: query.replace(/ /g, "-") + "-" + i,
    title: "Result " + i + " for " + query,
    snippet: "A passage about " + query + " that mentions what the question asked, hit " + i + ".",
  }));
  return { query, hits };
}

export function fetch_page(args) {
  const id = String(args.id);
  return { id, text: "Page " + id + ". " + "Keel records every step of a run. ".repeat(8) };
}
`;

export const TOOLS_FILE = "tools.mjs";

/** The tools' parameters, as Keel's workflow declares them and the other systems offer them. */
export const TOOL_SPECS = [
  {
    name: "search",
    description: "Search the knowledge base.",
    parameters: {
      type: "object",
      required: ["query"],
      properties: { query: { type: "string" } },
    },
  },
  {
    name: "fetch_page",
    description: "Fetch a page by its id.",
    parameters: {
      type: "object",
      required: ["id"],
      properties: { id: { type: "string" } },
    },
  },
] as const;

/** The agent's prompt; the server reads `in N turns` from it (bench/agents/provider.ts). */
export const promptText = (n: number): string =>
  `Research how Keel records agents, in ${n} turns: each turn, search and fetch a page; then answer.`;

/** The answer the server gives at turn `n`: each system's final output must be this. */
export const answerText = (n: number): string =>
  `Keel records each turn; answered after ${n} turns.`;

/** The most turns the Keel agent may take; the largest N of the benchmark answers within it. */
export const MAX_TURNS = 250;

/** Keel's workflow: one agent step on an `openai` provider at `baseUrl`, the two tools. */
export function agentWorkflow(n: number, baseUrl: string): string {
  const tools = TOOL_SPECS.flatMap((t) => [
    `      ${t.name}:`,
    `        description: ${t.description}`,
    `        uses: ./${TOOLS_FILE}#${t.name}`,
    `        parameters: ${JSON.stringify(t.parameters)}`,
  ]);
  return [
    "keel: 1",
    `name: agent-${n}`,
    "providers:",
    `  local: { type: openai, model: gpt-4o-mini, base_url: "${baseUrl}" }`,
    "steps:",
    "  research:",
    "    type: agent",
    "    provider: local",
    `    prompt: "${promptText(n)}"`,
    `    max_turns: ${MAX_TURNS}`,
    // Every run calls the server: the bench measures the loop, not the cache.
    "    cache: false",
    // Both calls of a turn at once, as LangGraph's ToolNode runs them.
    "    parallel_tool_calls: true",
    "    tools:",
    ...tools,
    "outputs:",
    "  answer: steps.research.output",
    "  turns: $count(steps.research.turns)",
    "",
  ].join("\n");
}
