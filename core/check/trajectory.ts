// Checks of a `$trajectory(agent, expected, mode)` call that need no run: its number of
// arguments, a mode written as a literal, an agent written as `steps.<id>` (or its `.turns`)
// that is an agent step, and expected tool names written as literals that the agent declares.
import type { DiagnosticSink, Span } from "../model/diagnostic";
import type { Argument, Call } from "../expr/analyze";
import {
  isTrajectoryMode,
  TRAJECTORY_MODE_LIST,
  TRAJECTORY_MODES,
  TRAJECTORY_USAGE,
} from "../expr/trajectory";
import { closest, didYouMean } from "../model/suggest";
import { isObj } from "../model/untyped";
import { STEP_TYPES } from "../model/schema";
import type { StepEntry, WorkflowParts } from "./parts";

export function checkTrajectoryCall(
  parts: WorkflowParts,
  call: Call,
  span: (start: number, end: number) => Span,
  sink: DiagnosticSink,
): void {
  const count = call.args.length;
  if (count < 2 || count > 3) {
    sink.add(
      "KEEL308",
      span(call.start, call.end),
      `$trajectory takes 2 or 3 arguments (the agent step, the expected tool names, the mode), not ${count}: write ${TRAJECTORY_USAGE}`,
    );
    return;
  }
  const [agent, expected, mode] = call.args as [Argument, Argument, Argument | undefined];
  if (mode?.kind === "literal" && !isTrajectoryMode(mode.value)) {
    const written = JSON.stringify(mode.value);
    const hint = typeof mode.value === "string" ? closest(mode.value, TRAJECTORY_MODES) : undefined;
    sink.add(
      "KEEL308",
      span(mode.start, mode.end),
      `${written} is not a trajectory mode: use ${TRAJECTORY_MODE_LIST}${hint ? `: did you mean '${hint}'?` : ""}`,
    );
  }
  const names = expected.kind === "list" ? expected.items : [expected];
  for (const n of names) {
    if (n.kind === "literal" && typeof n.value !== "string") {
      sink.add(
        "KEEL308",
        span(n.start, n.end),
        `$trajectory's expected tool names are texts, and ${JSON.stringify(n.value)} is not one: write ["search", "fetch_page"]`,
      );
    }
  }
  if (agent.kind !== "path") return;
  const answer = answerOf(parts, agent.names);
  if (answer) {
    sink.add(
      "KEEL308",
      span(agent.start, agent.end),
      `\`steps.${answer}.output\` is the agent's answer, not its tool calls: pass the step, \`steps.${answer}\``,
    );
    return;
  }
  const step = agentStep(parts, agent);
  if (!step) return;
  if (step.type !== "agent") {
    // A type the schema does not know is reported there: say nothing more of it here.
    if (step.type === undefined || !(STEP_TYPES as readonly string[]).includes(step.type)) return;
    sink.add(
      "KEEL308",
      span(agent.start, agent.end),
      `$trajectory reads the tool calls of an agent step, and step '${step.id}' is a \`${step.type}\` step: pass a step of \`type: agent\` (or a list of turns { turn, tool_calls })`,
    );
    return;
  }
  if (!isObj(step.value.tools)) return;
  const tools = Object.keys(step.value.tools);
  for (const n of names) {
    if (n.kind !== "literal" || typeof n.value !== "string" || tools.includes(n.value)) continue;
    sink.add(
      "KEEL309",
      span(n.start, n.end),
      `agent step '${step.id}' has no tool '${n.value}', so it cannot call it (its tools: ${tools.join(", ")})${didYouMean(n.value, tools)}`,
    );
  }
}

/** The agent step whose answer `names` reads (`steps.<id>.output`, no further). */
function answerOf(parts: WorkflowParts, names: readonly string[]): string | undefined {
  const [root, id, field, ...more] = names;
  if (root !== "steps" || id === undefined || field !== "output" || more.length > 0)
    return undefined;
  return parts.steps.get(id)?.type === "agent" ? id : undefined;
}

/** The step `steps.<id>` or `steps.<id>.turns` names, when the argument is written so. */
function agentStep(
  parts: WorkflowParts,
  agent: Extract<Argument, { kind: "path" }>,
): StepEntry | undefined {
  if (agent.names[0] !== "steps") return undefined;
  const [, id, field, ...more] = agent.names;
  if (id === undefined || more.length > 0 || (field !== undefined && field !== "turns"))
    return undefined;
  return parts.steps.get(id);
}
