// An agent step (docs/format.md, "Agents"; decisions in docs/dev/agents.md): Keel runs the loop.
// Turn t is one model call, the unit `<unit>#t`, given the conversation so far and the tools;
// each tool call it asks for is the unit `<unit>#t/<tool>.<i>` (i counts the turn's calls in the
// order the model sent them), run like a step of its kind with its own attempts, retries, cache
// and record. Results are appended in call order and the next turn begins, until the model answers
// without calling a tool, or a limit (`max_turns`, `budget`) stops it with an error.
import type { Step } from "../model/schema";
import { validatorFor } from "../model/json-values";
import { withNames } from "./scope";
import { runAttempts } from "./attempts";
import { StepError, type ErrorKind } from "./errors";
import type { LlmMessage, LlmRequest, LlmToolSpec } from "./effects";
import { pendingState } from "./outcomes";
import type { RunCore } from "./run-core";
import type { AgentReply, AgentTurn } from "./steps";
import { answerOf } from "./steps";
import { toolSpecs } from "./agent-tools";
import type { StepState } from "./types";
import type { ExprScope } from "../expr/evaluate";

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

/** Runs an agent step's loop as the unit `unit` (a step, or an item of a map). */
export async function runAgent(
  r: RunCore,
  unit: string,
  step: AgentStep,
  scope: ExprScope,
  cancellable: boolean,
): Promise<void> {
  const own = r.units.get(unit)!;
  const turns: TurnView[] = [];
  const end = (reason: StopReason) => {
    own.turns = turns;
    own.stopReason = reason;
  };
  let specs: LlmToolSpec[];
  try {
    specs = toolSpecs(step, r.o.workflowPath);
  } catch (e) {
    end("error");
    r.outcomes.fail(unit, e instanceof StepError ? e : new StepError("config", String(e)), 0);
    return;
  }
  const modelStep = modelCallStep(step, r.o.workflow.defaults?.agent);
  const appended: LlmMessage[] = [];
  let previous: LlmRequest | undefined;
  const spent = { tokens: 0, usd: 0 };
  for (let t = 1; ; t++) {
    const final = t > step.max_turns;
    let sent: LlmRequest | undefined;
    const turn: AgentTurn = {
      appended: [...appended],
      tools: specs,
      final,
      ...(step.parallel_tool_calls !== undefined ? { parallel: step.parallel_tool_calls } : {}),
      ...(step.output ? { output: step.output } : {}),
      ...(previous ? { previous } : {}),
      sent: (request) => {
        sent = request;
      },
    };
    const turnUnit = `${unit}#${t}`;
    const state = await runScope(r, turnUnit, modelStep, scope, cancellable, turn);
    if (state.status !== "succeeded") {
      end(state.status === "cancelled" ? "cancelled" : "error");
      r.outcomes.fail(unit, scopedError(`turn ${t}`, state), 0);
      return;
    }
    previous = sent;
    const reply = state.output as AgentReply;
    const usage = (state.meta?.usage as TurnView["usage"] | undefined) ?? null;
    const view: TurnView = { turn: t, tool_calls: [], usage };
    turns.push(view);
    if (usage) spent.tokens += usage.input + usage.output;
    spent.usd += typeof state.meta?.costUsd === "number" ? state.meta.costUsd : 0;
    const calls = reply.tool_calls ?? [];
    if (calls.length === 0) {
      let output: unknown;
      try {
        output = answerOf(step, reply.content);
      } catch (e) {
        end("error");
        r.outcomes.fail(unit, e as StepError, 0);
        return;
      }
      end(final ? "max_turns" : "answer");
      r.outcomes.answered(unit, output, turns, final ? "max_turns" : "answer");
      return;
    }
    const over = overBudget(step, spent, t);
    if (over) {
      end("budget");
      r.outcomes.fail(unit, over, 0);
      return;
    }
    if (t >= step.max_turns && step.on_max_turns !== "answer") {
      end("max_turns");
      r.outcomes.fail(
        unit,
        new StepError(
          "max_turns",
          `still calling tools after max_turns ${step.max_turns} (turn ${t} asked for ${calls.map((c) => c.name).join(", ")}): raise max_turns, or set on_max_turns: answer for one last answer without tools`,
        ),
        0,
      );
      return;
    }
    appended.push({ role: "assistant", content: reply.content, tool_calls: calls });
    const results = await runToolCalls(r, unit, step, specs, scope, cancellable, t, calls, view);
    if (cancellable && r.cancelled()) {
      end("cancelled");
      r.outcomes.fail(unit, new StepError("cancelled", "the run was cancelled"), 0);
      return;
    }
    const failed = view.tool_calls.findIndex((c) => c.status !== "succeeded");
    if (failed >= 0 && step.tool_errors === "fail") {
      const call = view.tool_calls[failed]!;
      end("tool_error");
      r.outcomes.fail(
        unit,
        new StepError(
          (call.error?.kind ?? "tool_error") as ErrorKind,
          `turn ${t}, call ${call.name}.${failed}: ${call.error?.message ?? "failed"}`,
        ),
        0,
      );
      return;
    }
    calls.forEach((c, i) =>
      appended.push({ role: "tool", content: results[i]!, tool_call_id: c.id }),
    );
  }
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

/**
 * A scope of the agent (a turn, a tool call) run as a unit of its own: taken as it ended before a
 * resume, or from an earlier run (`keel rerun --from`), else attempted.
 */
async function runScope(
  r: RunCore,
  key: string,
  step: Step,
  scope: ExprScope,
  cancellable: boolean,
  turn?: AgentTurn,
): Promise<StepState> {
  const state = r.resumedUnit(key);
  r.units.set(key, state);
  if (state.status === "succeeded") return state;
  const reused = r.o.reuse?.get(key);
  if (reused) {
    r.outcomes.reuse(key, reused.output, reused.sourceRunId);
    return state;
  }
  Object.assign(state, pendingState(state.attempts));
  r.started(key);
  await runAttempts(r, key, step, scope, cancellable, turn);
  return state;
}

/** The error that fails the agent when one of its scopes did not succeed, naming it. */
function scopedError(where: string, state: StepState): StepError {
  const why = state.error ?? { kind: "config" as const, message: "did not succeed" };
  return new StepError(why.kind, `${where}: ${why.message}`);
}

function overBudget(
  step: AgentStep,
  spent: { tokens: number; usd: number },
  turn: number,
): StepError | undefined {
  const b = step.budget;
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

/**
 * A turn's tool calls, one by one or at once (`parallel_tool_calls: true`); the results, in call
 * order, as the tool messages' texts. Each call is recorded in `view`.
 */
async function runToolCalls(
  r: RunCore,
  unit: string,
  step: AgentStep,
  specs: readonly LlmToolSpec[],
  scope: ExprScope,
  cancellable: boolean,
  turn: number,
  calls: AgentReply["tool_calls"],
  view: TurnView,
): Promise<string[]> {
  const results: string[] = new Array<string>(calls.length);
  const one = async (i: number) => {
    const call = calls[i]!;
    const key = unit + toolCallScope(turn, call.name, i);
    const tool = Object.hasOwn(step.tools, call.name) ? step.tools[call.name] : undefined;
    let args: unknown;
    const refused = (message: string) => {
      const state = pendingState();
      r.units.set(key, state);
      r.started(key);
      r.outcomes.fail(key, new StepError("invalid_arguments", message), 0);
      view.tool_calls[i] = {
        name: call.name,
        args: args ?? call.arguments,
        status: "failed",
        output: null,
        error: { kind: "invalid_arguments", message },
      };
      results[i] = JSON.stringify({ error: message });
    };
    if (!tool)
      return refused(
        `there is no tool '${call.name}': the tools are ${Object.keys(step.tools).join(", ")}`,
      );
    try {
      args = call.arguments.trim() === "" ? {} : (JSON.parse(call.arguments) as unknown);
    } catch {
      return refused(`the arguments of ${call.name} are not JSON: ${call.arguments.slice(0, 200)}`);
    }
    const problem = argumentsProblem(specs, call.name, args);
    if (problem)
      return refused(`the arguments of ${call.name} do not fit its parameters: ${problem}`);
    const state = await runScope(r, key, toolStep(tool), withNames(scope, { args }), cancellable);
    const output = state.status === "succeeded" ? state.output : null;
    view.tool_calls[i] = {
      name: call.name,
      args,
      status: state.status,
      output,
      ...(state.error ? { error: state.error } : {}),
    };
    results[i] =
      state.status === "succeeded"
        ? resultText(tool, output)
        : JSON.stringify({ error: state.error ?? { kind: state.status, message: state.status } });
  };
  if (step.parallel_tool_calls === true) await Promise.all(calls.map((_, i) => one(i)));
  else for (let i = 0; i < calls.length; i++) await one(i);
  return results;
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
