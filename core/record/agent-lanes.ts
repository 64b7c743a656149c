// An agent step's turns and tool calls as the graph panel shows them (docs/editor.md, "Agents"):
// one lane per turn, its model call then a chip per tool call in index order, each with its
// status and latency, and what the turns cost. Read from the fold's units (docs/dev/agents.md:
// turn t is the scope `#t`, its calls `#t/<tool>.<i>`), at the step-through's position for a
// recorded run and at the newest event for a live one (extension/runs/live-status.ts).
// Browser-safe: type imports only, like fold.ts.
import type { RunFold, StepAt } from "./fold";
import type { StepStatus } from "./records";

/** One tool call of a turn: the scope `#<turn>/<name>.<index>`. */
export interface AgentCallLane {
  /** The tool's name as the scope has it (a name the model made up is made safe there). */
  readonly name: string;
  /** Its place among the turn's calls, from 0, in the order the model sent them. */
  readonly index: number;
  readonly status: StepStatus;
  /** From its start to its end; absent while it runs and for a refused call. */
  readonly ms?: number;
  /** Never run: an unknown tool or arguments that failed its parameters (invalid_arguments). */
  readonly refused?: boolean;
}

/** One turn: its model call (the scope `#<turn>`) and the tool calls it asked for. */
export interface AgentTurnLane {
  readonly turn: number;
  readonly status: StepStatus;
  readonly ms?: number;
  /** Its model call's attempts' `costUsd` summed; absent when no attempt says (scripted, live). */
  readonly costUsd?: number;
  readonly calls: AgentCallLane[];
}

export interface AgentLanes {
  readonly turns: AgentTurnLane[];
  /** The turns' costs summed; absent when none has one. */
  readonly costUsd?: number;
}

/** A turn's scope, `#3`. */
export const turnScope = (turn: number) => `#${turn}`;

/** A tool call's scope as the runner names it, `#3/search.1` (core/runner/agent.ts). */
export const callScope = (turn: number, call: Pick<AgentCallLane, "name" | "index">) =>
  `#${turn}/${call.name}.${call.index}`;

/** What a unit's attempts cost so far (the providers' `costUsd`); undefined when none says. */
export function unitCost(fold: RunFold, unit: StepAt): number | undefined {
  let sum: number | undefined;
  for (let n = 1; n <= (unit.attempt?.attempt ?? 0); n++) {
    const c = fold.attemptOf(unit.id, n)?.meta?.costUsd;
    if (typeof c === "number") sum = (sum ?? 0) + c;
  }
  return sum;
}

/**
 * How long a unit took, once it ended: its newest attempt's time, as the inspector's list of units
 * shows it (a recorded run); without attempts (a live run's status has none), the `durationMs`
 * its ending event gives (a success's), else from its `step_started` to the event that ended it.
 */
function latencyOf(u: StepAt): number | undefined {
  const ended = u.ended;
  if (!ended) return undefined;
  const a = u.attempt;
  if (a) return Math.max(0, Date.parse(a.endedAt) - Date.parse(a.startedAt));
  const given = ended.data?.durationMs;
  if (typeof given === "number") return Math.max(0, given);
  if (u.startedAt === null) return undefined;
  const ms = Date.parse(ended.at) - Date.parse(u.startedAt);
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

const TURN = /^#(\d+)$/;
const CALL = /^#(\d+)\/([A-Za-z0-9_-]+)\.(\d+)$/;

/**
 * The agent step's turns and their calls known at the fold's position, turn by number and the
 * calls of each by index (the order of `fold.units`). Empty for a step with no turn yet, and for
 * an agent that is a map's item (its scopes start with the item's key: the map's strip shows it).
 */
export function agentLanes(fold: RunFold, stepId: string): AgentLanes {
  const turns: { turn: number; status: StepStatus; ms?: number; costUsd?: number }[] = [];
  const calls = new Map<number, AgentCallLane[]>();
  let total: number | undefined;
  for (const u of fold.units(stepId)) {
    const scope = u.scope ?? "";
    const t = TURN.exec(scope);
    if (t) {
      const cost = unitCost(fold, u);
      if (cost !== undefined) total = (total ?? 0) + cost;
      const ms = latencyOf(u);
      turns.push({
        turn: Number(t[1]),
        status: u.status,
        ...(ms !== undefined ? { ms } : {}),
        ...(cost !== undefined ? { costUsd: cost } : {}),
      });
      continue;
    }
    const c = CALL.exec(scope);
    if (!c) continue;
    // A refused call never ran: it has no latency.
    const refused =
      u.status === "failed" && u.attempts === 0 && u.error?.kind === "invalid_arguments";
    const ms = refused ? undefined : latencyOf(u);
    const list = calls.get(Number(c[1])) ?? [];
    list.push({
      name: c[2]!,
      index: Number(c[3]),
      status: u.status,
      ...(ms !== undefined ? { ms } : {}),
      ...(refused ? { refused: true } : {}),
    });
    calls.set(Number(c[1]), list);
  }
  return {
    turns: turns.map((t) => ({ ...t, calls: calls.get(t.turn) ?? [] })),
    ...(total !== undefined ? { costUsd: total } : {}),
  };
}

/** A cost as the panel writes it: two significant digits under a dime (`$0.012`), else cents. */
export function costText(usd: number): string {
  if (usd === 0) return "$0";
  if (usd < 0.0001) return "<$0.0001";
  const rounded = Number(usd.toPrecision(2));
  return rounded >= 0.1 ? `$${usd.toFixed(2)}` : `$${rounded}`;
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

/** How many tool calls the turns asked for. */
export const callCount = (lanes: AgentLanes) => lanes.turns.reduce((n, t) => n + t.calls.length, 0);

/**
 * The agent's turns, tool calls and cost: `4 turns · 6 tool calls · $0.012`, the cost only when
 * some turn has one (a scripted provider's have none) and `cost` is not false (the node writes
 * its cost on the line above, where it fits).
 */
export function agentCounts(lanes: AgentLanes, cost = true): string {
  return [
    plural(lanes.turns.length, "turn"),
    plural(callCount(lanes), "tool call"),
    cost && lanes.costUsd !== undefined ? costText(lanes.costUsd) : "",
  ]
    .filter(Boolean)
    .join(" · ");
}

/** The summary with the step's id: `research · 4 turns · 6 tool calls · $0.012`. */
export const agentSummary = (stepId: string, lanes: AgentLanes) =>
  `${stepId} · ${agentCounts(lanes)}`;
