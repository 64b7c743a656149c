// The step views of a recorded run at the step-through's position, kept in step with the fold.
// Invariant: after `follow`, every step's view is its state at the fold's position. A move from
// position p to q changes only the steps of the events between them (the fold's one delta per
// event) and which step is current, so only those views are built and compared: a move of one
// event costs O(1), whatever the graph's size. A new fold or graph sets every view once.
import { iterationStatuses, type RunFold, type StepAt } from "@keel/core/record/fold";
import { agentLanes } from "@keel/core/record/agent-lanes";
import type { GraphMessage } from "@keel/core/protocol/webview";
import type { StepView, StepViews } from "../graph/step-views";
import { stateOf } from "./recording";

/** What the views were last made from. */
export interface Followed {
  readonly fold: RunFold;
  readonly graph: GraphMessage;
  readonly position: number;
  readonly current: string | null;
}

/**
 * A step's view from its state in the fold; with the fold, a loop's view has its iterations'
 * statuses (a loop: a tally without an item count; a map's items are never listed per move), and
 * an agent's (`agent`: the graph says so) its turns and tool calls instead.
 */
export function viewOfStep(
  s: StepAt | undefined,
  current: boolean,
  fold?: RunFold,
  agent = false,
): StepView {
  if (!s) return { status: "pending", current, first: false };
  const units = fold !== undefined && s.tally !== null && s.items === null;
  return {
    ...stateOf(s),
    ...(units && agent ? { agent: agentLanes(fold, s.id) } : {}),
    ...(units && !agent ? { iterations: iterationStatuses(fold, s.id) } : {}),
    current,
    first: false,
  };
}

/** The graph's agent steps, found once per graph message. */
const agentsOf = new WeakMap<GraphMessage, ReadonlySet<string>>();
function agents(graph: GraphMessage): ReadonlySet<string> {
  let set = agentsOf.get(graph);
  if (!set)
    agentsOf.set(
      graph,
      (set = new Set(graph.steps.filter((s) => s.type === "agent").map((s) => s.id))),
    );
  return set;
}

/** The steps whose state or current mark may differ between positions `from` and `to`. */
export function touchedBetween(
  fold: RunFold,
  from: number,
  to: number,
  wasCurrent: string | null,
): Set<string> {
  const out = new Set<string>();
  if (wasCurrent !== null) out.add(wasCurrent);
  const current = fold.current?.stepId ?? null;
  if (current !== null) out.add(current);
  for (let i = Math.min(from, to) + 1; i <= Math.max(from, to); i++) {
    const id = fold.events[i]?.stepId;
    if (id) out.add(id);
  }
  return out;
}

/**
 * Brings the views to the fold's position: only the steps a move touched when the fold and the
 * graph are the ones last followed (and the move is shorter than the graph), every step otherwise.
 */
export function follow(
  views: StepViews,
  graph: GraphMessage,
  fold: RunFold,
  last: Followed | undefined,
): Followed {
  const current = fold.current?.stepId ?? null;
  const next: Followed = { fold, graph, position: fold.position, current };
  if (
    last &&
    last.fold === fold &&
    last.graph === graph &&
    Math.abs(fold.position - last.position) < graph.steps.length
  ) {
    const changed = new Map<string, StepView>();
    const agent = agents(graph);
    for (const id of touchedBetween(fold, last.position, fold.position, last.current))
      changed.set(id, viewOfStep(fold.step(id), id === current, fold, agent.has(id)));
    views.patch(changed);
    return next;
  }
  const all = new Map<string, StepView>();
  for (const s of graph.steps)
    all.set(s.id, viewOfStep(fold.step(s.id), s.id === current, fold, s.type === "agent"));
  views.update(all);
  return next;
}
