// An agent step (docs/format.md, "Agents"; decisions in docs/dev/agents.md): Keel runs the loop.
// Turn t is one model call, the unit `<unit>#t`, given the conversation so far and the tools;
// each tool call it asks for is the unit `<unit>#t/<tool>.<i>` (i counts the turn's calls in the
// order the model sent them), run like a step of its kind with its own attempts, retries, cache
// and record. Results are appended in call order and the next turn begins, until the model answers
// without calling a tool, or a limit (`max_turns`, `budget`) stops it with an error.
import type { Step } from "../model/schema";
import { withNames } from "./scope";
import { runAttempts } from "./attempts";
import { StepError } from "./errors";
import type { LlmRequest } from "./effects";
import { pendingState } from "./outcomes";
import type { RunCore } from "./run-core";
import type { AgentTurn } from "./steps";
import { toolSpecs } from "./agent-tools";
import {
  AgentLoop,
  modelCallStep,
  scopedError,
  type AgentStep,
  type PlannedCall,
} from "./agent-loop";
import type { StepState } from "./types";
import type { ExprScope } from "../expr/evaluate";

export {
  modelCallStep,
  toolCallScope,
  toolStep,
  type AgentStep,
  type AgentTool,
  type StopReason,
  type ToolCallView,
  type TurnView,
} from "./agent-loop";

/** Runs an agent step's loop as the unit `unit` (a step, or an item of a map). */
export async function runAgent(
  r: RunCore,
  unit: string,
  step: AgentStep,
  scope: ExprScope,
  cancellable: boolean,
): Promise<void> {
  const own = r.units.get(unit)!;
  let loop: AgentLoop;
  try {
    loop = new AgentLoop(step, toolSpecs(step, r.o.workflowPath));
  } catch (e) {
    own.turns = [];
    own.stopReason = "error";
    const err = e instanceof StepError ? e : new StepError("config", String(e));
    r.outcomes.agentFailed(unit, err, [], "error");
    return;
  }
  const modelStep = modelCallStep(step, r.o.workflow.defaults?.agent);
  let previous: LlmRequest | undefined;
  for (;;) {
    const { turn: t, final, appended } = loop.next();
    let sent: LlmRequest | undefined;
    const turn: AgentTurn = {
      appended,
      tools: loop.specs,
      final,
      ...(step.parallel_tool_calls !== undefined ? { parallel: step.parallel_tool_calls } : {}),
      ...(step.output ? { output: step.output } : {}),
      ...(previous ? { previous } : {}),
      sent: (request) => {
        sent = request;
      },
    };
    const state = await runScope(r, `${unit}#${t}`, modelStep, scope, cancellable, turn);
    if (state.status !== "succeeded") {
      const reason = state.status === "cancelled" ? "cancelled" : "error";
      loop.end(own, reason);
      r.outcomes.agentFailed(unit, scopedError(`turn ${t}`, state), loop.turns, reason);
      return;
    }
    previous = sent;
    const after = loop.turnEnded(state);
    if (after.end === "answer") {
      loop.end(own, after.reason);
      r.outcomes.answered(unit, after.output, loop.turns, after.reason);
      return;
    }
    if (after.end === "failed") {
      loop.end(own, after.reason);
      r.outcomes.agentFailed(unit, after.error, loop.turns, after.reason);
      return;
    }
    const one = (call: PlannedCall) =>
      runToolCall(r, unit + call.scope, loop, call, scope, cancellable);
    if (step.parallel_tool_calls === true) await Promise.all(after.calls.map(one));
    else for (const call of after.calls) await one(call);
    if (cancellable && r.cancelled()) {
      loop.end(own, "cancelled");
      const cancelled = new StepError("cancelled", "the run was cancelled");
      r.outcomes.agentFailed(unit, cancelled, loop.turns, "cancelled");
      return;
    }
    const failed = loop.callsEnded();
    if (failed) {
      loop.end(own, "tool_error");
      r.outcomes.agentFailed(unit, failed, loop.turns, "tool_error");
      return;
    }
  }
}

/** One tool call: a refused one recorded as failed with no attempt, else run as its scope. */
async function runToolCall(
  r: RunCore,
  key: string,
  loop: AgentLoop,
  call: PlannedCall,
  scope: ExprScope,
  cancellable: boolean,
): Promise<void> {
  if (call.refused !== undefined) {
    r.units.set(key, pendingState());
    r.started(key);
    r.outcomes.fail(key, new StepError("invalid_arguments", call.refused), 0);
    return;
  }
  const state = await runScope(
    r,
    key,
    call.step,
    withNames(scope, { args: call.args }),
    cancellable,
  );
  loop.callEnded(call.index, call.args, state);
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
