// Pure mapping from the panel's messages to React Flow's nodes and edges: positions from the
// core's layered placement, state from the latest status message. No React here, so it is tested
// as plain data.
import type { Edge as FlowEdge, Node as FlowNode } from "@xyflow/react";
import { buildGraph, type Edge } from "@keel/core/graph/graph";
import { placeLayered } from "@keel/core/graph/layers";
import type { GraphMessage, StatusMessage } from "@keel/core/protocol/webview";

/** A node's size is known in advance: React Flow then draws only what is on screen, unmeasured. */
export const NODE_WIDTH = 214;
export const NODE_HEIGHT = 58;
const GAP_X = 70;
const GAP_Y = 22;

export interface StepData extends Record<string, unknown> {
  readonly id: string;
  /** The step the step-through's current event concerns. */
  readonly current?: boolean;
  readonly type: GraphMessage["steps"][number]["type"];
  readonly status: StatusMessage["steps"][string]["status"];
  readonly durationMs?: number;
  readonly attempts?: number;
  readonly cached?: boolean;
}

export type StepNode = FlowNode<StepData, "step">;

export interface Flow {
  readonly nodes: StepNode[];
  readonly edges: FlowEdge[];
}

const NO_SPAN = { start: 0, end: 0 };

/** Node positions for a graph, by step id; the same graph shape gives the same positions. */
export function positions(graph: GraphMessage): Map<string, { x: number; y: number }> {
  const edges: Edge[] = graph.edges.map((e) => ({ ...e, via: "needs", span: NO_SPAN }));
  const placed = placeLayered(
    buildGraph(
      graph.steps.map((s) => s.id),
      edges,
    ),
  );
  const out = new Map<string, { x: number; y: number }>();
  for (const [id, p] of placed)
    out.set(id, { x: p.column * (NODE_WIDTH + GAP_X), y: p.row * (NODE_HEIGHT + GAP_Y) });
  return out;
}

/** Step states by id, from a live run's status message or a recorded run's fold. */
export type States = StatusMessage["steps"];

export function toFlow(
  graph: GraphMessage,
  at: ReadonlyMap<string, { x: number; y: number }>,
  states: States | undefined,
  selected: string | null,
  current: string | null = null,
  previous?: ReadonlyMap<string, StepNode>,
): Flow {
  const conditional = new Set(graph.steps.filter((s) => s.conditional).map((s) => s.id));
  const nodes: StepNode[] = graph.steps.map((s) => {
    const state = states?.[s.id];
    const data: StepData = {
      id: s.id,
      type: s.type,
      status: state?.status ?? "pending",
      durationMs: state?.durationMs,
      attempts: state?.attempts,
      cached: state?.cached,
      current: s.id === current,
    };
    const position = at.get(s.id) ?? { x: 0, y: 0 };
    const old = previous?.get(s.id);
    // The same node object when nothing changed: React Flow and the memoised node skip it.
    if (
      old &&
      old.position === position &&
      old.selected === (s.id === selected) &&
      sameData(old.data, data)
    )
      return old;
    return {
      id: s.id,
      type: "step",
      position,
      width: NODE_WIDTH,
      height: NODE_HEIGHT,
      selected: s.id === selected,
      data,
    };
  });
  // An edge runs from the dependency to the step that needs it, left to right.
  const edges: FlowEdge[] = graph.edges.map((e) => ({
    id: `${e.to}->${e.from}`,
    source: e.to,
    target: e.from,
    className: conditional.has(e.from) ? "keel-edge conditional" : "keel-edge",
    animated: states?.[e.from]?.status === "running",
  }));
  return { nodes, edges };
}

function sameData(a: StepData, b: StepData): boolean {
  return (
    a.type === b.type &&
    a.status === b.status &&
    a.durationMs === b.durationMs &&
    a.attempts === b.attempts &&
    a.cached === b.cached &&
    a.current === b.current
  );
}
