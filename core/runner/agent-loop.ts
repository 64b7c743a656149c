// The rules of an agent's loop (docs/format.md, "Agents"; docs/dev/agents.md) that do not depend
// on where it runs: the steps its model calls and tool calls run as, each tool call's checks, what
// the model is told, the budget, the messages appended and when the loop stops. The local runner
// (agent.ts) and the workers' scheduler (core/executor/dbos-run.ts) drive an `AgentLoop` each,
// the one with awaits, the other from the ends of the attempts its body waits for.
import type { Step } from "../model/schema";
import { validatorFor } from "../model/json-values";
import { StepError, type ErrorKind } from "./errors";
import type { LlmMessage, LlmToolSpec } from "./effects";
import type { AgentReply } from "./steps";
import { answerOf } from "./steps";
import type { StepState } from "./types";

export type AgentStep = Extract<Step, { type: "agent" }>;
export type AgentTool = AgentStep["tools"][string];

/** A tool call as `steps.<id>.turns` shows it. */
export interface ToolCallView {
  readonly name: string;
  readonly args: unknown;
  readonly status: string;
  readonly output: unknown;
  readonly error?: { readonly kind: string; readonly message: string };
}

/** A turn as `steps.<id>.turns` shows it. */
export interface TurnView {
  readonly turn: number;
  readonly tool_calls: ToolCallView[];
  readonly usage: { readonly input: number; readonly output: number } | null;
}

/** Why an agent stopped (`steps.<id>.stop_reason`). */
export type StopReason = "answer" | "max_turns" | "budget" | "tool_error" | "error" | "cancelled";

/** The scope segment of a tool call: `#3/search.1`. A name the model made up is made safe. */
export function toolCallScope(turn: number, name: string, index: number): string {
  const safe = name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64) || "_";
  return `#${turn}/${safe}.${index}`;
}

/** The next model call: its turn number, whether it is the last (`on_max_turns: answer`), its messages. */
export interface NextTurn {
  readonly turn: number;
  readonly final: boolean;
  /** The messages after the prompt's: replies with their tool calls, and the tools' results. */
  readonly appended: LlmMessage[];
}

/** A tool call the model asked for: refused for its name or arguments, or to run as `step`. */
export type PlannedCall =
  | { readonly index: number; readonly scope: string; readonly refused: string }
  | {
      readonly index: number;
      readonly scope: string;
      readonly refused?: undefined;
      /** The tool's name. */
      readonly name: string;
      readonly step: Step;
      readonly args: unknown;
    };

/** What follows a turn that succeeded: the agent's end, or its tool calls. */
export type AfterTurn =
  | { readonly end: "answer"; readonly output: unknown; readonly reason: StopReason }
  | { readonly end: "failed"; readonly error: StepError; readonly reason: StopReason }
  | { readonly end?: undefined; readonly calls: PlannedCall[] };

/** An agent's loop as it goes: its turns, the conversation after the prompt, what it spent. */
export class AgentLoop {
  readonly turns: TurnView[] = [];
  private readonly appended: LlmMessage[] = [];
  private readonly spent = { tokens: 0, usd: 0 };
  private turn = 0;
  private calls: AgentReply["tool_calls"] = [];
  private results: string[] = [];

  constructor(
    readonly step: AgentStep,
    readonly specs: readonly LlmToolSpec[],
  ) {}

  /** The model call that comes next. */
  next(): NextTurn {
    this.turn++;
    return {
      turn: this.turn,
      final: this.turn > this.step.max_turns,
      appended: [...this.appended],
    };
  }

  /** Takes a turn that succeeded: the agent's answer, a limit it hit, or the tool calls to make. */
  turnEnded(state: StepState): AfterTurn {
    const { step } = this;
    const t = this.turn;
    const final = t > step.max_turns;
    const reply = state.output as AgentReply;
    const usage = (state.meta?.usage as TurnView["usage"] | undefined) ?? null;
    const view: TurnView = { turn: t, tool_calls: [], usage };
    this.turns.push(view);
    if (usage) this.spent.tokens += usage.input + usage.output;
    this.spent.usd += typeof state.meta?.costUsd === "number" ? state.meta.costUsd : 0;
    const calls = reply.tool_calls ?? [];
    if (calls.length === 0) {
      try {
        return {
          end: "answer",
          output: answerOf(step, reply.content),
          reason: final ? "max_turns" : "answer",
        };
      } catch (e) {
        return { end: "failed", error: e as StepError, reason: "error" };
      }
    }
    const over = this.overBudget();
    if (over) return { end: "failed", error: over, reason: "budget" };
    if (t >= step.max_turns && step.on_max_turns !== "answer") {
      return {
        end: "failed",
        error: new StepError(
          "max_turns",
          `still calling tools after max_turns ${step.max_turns} (turn ${t} asked for ${calls.map((c) => c.name).join(", ")}): raise max_turns, or set on_max_turns: answer for one last answer without tools`,
        ),
        reason: "max_turns",
      };
    }
    this.appended.push({ role: "assistant", content: reply.content, tool_calls: calls });
    this.calls = calls;
    this.results = new Array<string>(calls.length);
    return { calls: calls.map((_, i) => this.plan(i)) };
  }

  /** Call `i` of this turn: checked (its tool, its arguments), then the step it runs as. */
  private plan(index: number): PlannedCall {
    const { step } = this;
    const call = this.calls[index]!;
    const scope = toolCallScope(this.turn, call.name, index);
    const tool = Object.hasOwn(step.tools, call.name) ? step.tools[call.name] : undefined;
    if (!tool)
      return this.refuse(
        index,
        scope,
        call.arguments,
        `there is no tool '${call.name}': the tools are ${Object.keys(step.tools).join(", ")}`,
      );
    let args: unknown;
    try {
      args = call.arguments.trim() === "" ? {} : (JSON.parse(call.arguments) as unknown);
    } catch {
      return this.refuse(
        index,
        scope,
        call.arguments,
        `the arguments of ${call.name} are not JSON: ${call.arguments.slice(0, 200)}`,
      );
    }
    const problem = argumentsProblem(this.specs, call.name, args);
    if (problem)
      return this.refuse(
        index,
        scope,
        args,
        `the arguments of ${call.name} do not fit its parameters: ${problem}`,
      );
    return { index, scope, name: call.name, step: toolStep(tool), args };
  }

  /** A call never run: the model is told why, and the turn shows it failed. */
  private refuse(index: number, scope: string, args: unknown, message: string): PlannedCall {
    this.view.tool_calls[index] = {
      name: this.calls[index]!.name,
      args,
      status: "failed",
      output: null,
      error: { kind: "invalid_arguments", message },
    };
    this.results[index] = JSON.stringify({ error: message });
    return { index, scope, refused: message };
  }

  private get view(): TurnView {
    return this.turns.at(-1)!;
  }

  /** Takes call `index`'s end (a call that ran), as the turn shows it and the model is told. */
  callEnded(index: number, args: unknown, state: StepState): void {
    const call = this.calls[index]!;
    const tool = this.step.tools[call.name]!;
    const output = state.status === "succeeded" ? state.output : null;
    this.view.tool_calls[index] = {
      name: call.name,
      args,
      status: state.status,
      output,
      ...(state.error ? { error: state.error } : {}),
    };
    this.results[index] =
      state.status === "succeeded"
        ? resultText(tool, output)
        : JSON.stringify({ error: state.error ?? { kind: state.status, message: state.status } });
  }

  /**
   * Once every call of the turn ended: the agent's failure (`tool_errors: fail` and a call that
   * failed), else the results are appended in call order and the next turn follows.
   */
  callsEnded(): StepError | undefined {
    const view = this.view;
    const failed = view.tool_calls.findIndex((c) => c.status !== "succeeded");
    if (failed >= 0 && this.step.tool_errors === "fail") {
      const call = view.tool_calls[failed]!;
      return new StepError(
        (call.error?.kind ?? "tool_error") as ErrorKind,
        `turn ${this.turn}, call ${call.name}.${failed}: ${call.error?.message ?? "failed"}`,
      );
    }
    this.calls.forEach((c, i) =>
      this.appended.push({ role: "tool", content: this.results[i]!, tool_call_id: c.id }),
    );
    return undefined;
  }

  /** Ends the agent's unit state: `steps.<id>.turns` and `stop_reason`, readable after a failure too. */
  end(state: StepState, reason: StopReason): void {
    state.turns = this.turns;
    state.stopReason = reason;
  }

  private overBudget(): StepError | undefined {
    const b = this.step.budget;
    const { spent, turn } = this;
    if (!b) return undefined;
    if (b.tokens !== undefined && spent.tokens > b.tokens)
      return new StepError(
        "budget",
        `the budget of ${b.tokens} tokens was spent by turn ${turn} (${spent.tokens} tokens), and the model still called tools: raise budget.tokens or lower max_turns`,
      );
    if (b.usd !== undefined && spent.usd > b.usd)
      return new StepError(
        "budget",
        `the budget of $${b.usd} was spent by turn ${turn} ($${spent.usd.toFixed(4)}), and the model still called tools: raise budget.usd or lower max_turns`,
      );
    return undefined;
  }
}

/** The error that fails the agent when one of its turns did not succeed, naming it. */
export function scopedError(where: string, state: Pick<StepState, "error">): StepError {
  const why = state.error ?? { kind: "config" as const, message: "did not succeed" };
  return new StepError(why.kind, `${where}: ${why.message}`);
}

/** The model calls' step: the agent's prompt and provider fields as an `llm` step. */
export function modelCallStep(
  step: AgentStep,
  defaults: { timeout?: string; retry?: unknown; cache?: unknown } | undefined,
): Step {
  const {
    type: _type,
    tools: _tools,
    max_turns: _max,
    budget: _budget,
    on_max_turns: _on,
    tool_errors: _errors,
    parallel_tool_calls: _parallel,
    for_each: _each,
    key: _key,
    concurrency: _concurrency,
    max_items: _maxItems,
    on_item_error: _onItem,
    max_failures: _maxFailures,
    output: _output,
    on_error: _onError,
    snapshot: _snapshot,
    ...llm
  } = step;
  return {
    ...llm,
    type: "llm",
    ...(step.timeout === undefined && defaults?.timeout ? { timeout: defaults.timeout } : {}),
    ...(step.retry === undefined && defaults?.retry ? { retry: defaults.retry } : {}),
    ...(step.cache === undefined && defaults?.cache !== undefined ? { cache: defaults.cache } : {}),
  } as Step;
}

/** The arguments checked against the tool's parameters: the first problem, or undefined. */
function argumentsProblem(
  specs: readonly LlmToolSpec[],
  name: string,
  args: unknown,
): string | undefined {
  const schema = specs.find((s) => s.name === name)?.parameters;
  if (!schema) return undefined;
  const validate = validatorFor(schema as Record<string, unknown>);
  if (validate(args)) return undefined;
  const first = validate.errors?.[0];
  return `${first?.instancePath ? `at ${first.instancePath} ` : ""}${first?.message ?? "invalid"}`;
}

/** A whole template that gives the model's arguments as they are (never rendered again). */
const ARGS = "${{ args }}";

/** The step a tool call runs as: a `tool`, `http` or `workflow` step with the tool's settings. */
export function toolStep(tool: AgentTool): Step {
  const common = {
    ...(tool.timeout !== undefined ? { timeout: tool.timeout } : {}),
    ...(tool.retry !== undefined ? { retry: tool.retry } : {}),
    ...(tool.cache !== undefined ? { cache: tool.cache } : {}),
  };
  if (tool.http) {
    const method = tool.http.method ?? "GET";
    const body = tool.http.body ?? (["POST", "PUT", "PATCH"].includes(method) ? ARGS : undefined);
    return {
      type: "http",
      ...tool.http,
      method,
      ...(body !== undefined ? { body } : {}),
      ...common,
    } as Step;
  }
  const given = (tool.with ?? ARGS) as Record<string, unknown>;
  if (tool.workflow) return { type: "workflow", uses: tool.workflow, with: given, ...common };
  return { type: "tool", uses: tool.uses!, with: given, ...common };
}

/** What the model is told a tool returned: an HTTP tool's body, any other's value, as text. */
function resultText(tool: AgentTool, output: unknown): string {
  const value = tool.http ? (output as { body?: unknown } | null)?.body : output;
  return typeof value === "string" ? value : JSON.stringify(value ?? null);
}
