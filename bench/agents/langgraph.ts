// LangGraph.js, the peer of the agents benchmark (docs/benchmarks.md, "Agents (#20)"): the ReAct
// agent as LangGraph's documentation writes it, a `StateGraph` over `MessagesAnnotation` with an
// `agent` node (ChatOpenAI with the tools bound, pointed at the local server), a `ToolNode` and
// `toolsCondition` between them; checkpointer: SqliteSaver with its defaults. The tools are the
// same module's functions as Keel's (bench/agents/tools.ts), offered with the same JSON Schemas.
import { HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { ToolNode, toolsCondition } from "@langchain/langgraph/prebuilt";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { ChatOpenAI } from "@langchain/openai";
import { answerText, promptText, TOOL_SPECS } from "./tools";

type ToolFn = (args: Record<string, unknown>) => unknown;

export interface LangGraphAgent {
  /** One timed run (invoke only) on a thread of its own; throws unless the answer is right. */
  run(rep: number): Promise<number>;
  /** Lists the checkpoints of a thread: creates the saver's tables, on a new database. */
  list(): Promise<void>;
  /** Closes the database (its -wal file, if any, is then folded into the file). */
  close(): void;
}

/** The agent of `n` turns on `baseUrl`, checkpointing into the SQLite file `file`. */
export function langGraphAgent(
  file: string,
  n: number,
  baseUrl: string,
  functions: Readonly<Record<string, ToolFn>>,
): LangGraphAgent {
  const tools = TOOL_SPECS.map((t) =>
    tool(async (args: Record<string, unknown>) => functions[t.name]!(args), {
      name: t.name,
      description: t.description,
      schema: t.parameters as unknown as Record<string, unknown>,
    }),
  );
  const model = new ChatOpenAI({
    model: "gpt-4o-mini",
    apiKey: "bench",
    maxRetries: 0,
    configuration: { baseURL: baseUrl },
  }).bindTools(tools);
  const agent = async (state: typeof MessagesAnnotation.State) => ({
    messages: [await model.invoke(state.messages)],
  });
  const saver = SqliteSaver.fromConnString(file);
  const app = new StateGraph(MessagesAnnotation)
    .addNode("agent", agent)
    .addNode("tools", new ToolNode(tools))
    .addEdge(START, "agent")
    .addConditionalEdges("agent", toolsCondition, ["tools", END])
    .addEdge("tools", "agent")
    .compile({ checkpointer: saver });
  return {
    async run(rep) {
      const config = {
        configurable: { thread_id: `agent-${n}-${rep}` },
        // Two supersteps a turn (agent, tools); the default limit of 25 stops at 12 turns.
        recursionLimit: 2 * n + 10,
      };
      const start = performance.now();
      const out = await app.invoke({ messages: [new HumanMessage(promptText(n))] }, config);
      const ms = performance.now() - start;
      const messages = out.messages as BaseMessage[];
      const last = messages.at(-1)?.content;
      if (last !== answerText(n)) throw new Error(`langgraph answered ${JSON.stringify(last)}`);
      if (messages.length !== 1 + 3 * (n - 1) + 1)
        throw new Error(`langgraph: ${messages.length} messages, not ${3 * n - 1}`);
      return ms;
    },
    async list() {
      for await (const _ of saver.list({ configurable: { thread_id: "none" } })) break;
    },
    close() {
      (saver as unknown as { db: { close(): void } }).db.close();
    },
  };
}
