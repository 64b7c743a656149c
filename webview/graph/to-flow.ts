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
  /** Diff mode: how the step compares between the two runs. */
  readonly diff?: DiffMark;
  /** Diff mode: the first step that differs. */
  readonly first?: boolean;
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

/** How a step compares between two runs (diff mode). */
export type DiffMark = "same" | "changed" | "added" | "removed";

/** What the graph shows besides its shape; every field may change without the shape changing. */
export interface View {
  readonly states?: States;
  readonly selected?: string | null;
  /** The step the step-through's current event concerns. */
  readonly current?: string | null;
  /** Diff mode: each step's mark, and the first divergence. */
  readonly marks?: ReadonlyMap<string, DiffMark>;
  readonly first?: string | null;
}

/** What a screen reader says for a node. */
export function labelOf(d: StepData): string {
  const details = [
    duration(d.durationMs),
    d.attempts && d.attempts > 1 ? `${d.attempts} attempts` : "",
    d.cached ? "cached" : "",
  ].filter(Boolean);
  const diff =
    d.diff === undefined ? "" : `, ${DIFF_LABEL[d.diff]}${d.first ? ", first divergence" : ""}`;
  return `${d.id}, ${d.type} step, ${d.status}${details.length ? `, ${details.join(", ")}` : ""}${diff}`;
}

const DIFF_LABEL: Record<DiffMark, string> = {
  same: "same in both runs",
  changed: "changed between the runs",
  added: "only in the second run",
  removed: "only in the first run",
};

export function duration(ms: number | undefined): string {
  if (ms === undefined) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/**
 * The nodes and edges for a graph in a view. With the previous flow, an unchanged node or edge is
 * the same object, and an unchanged list the same array: React Flow and the memoised nodes skip
 * them, so a step-through move costs the nodes it changes, not the graph's size.
 */
export function toFlow(
  graph: GraphMessage,
  at: ReadonlyMap<string, { x: number; y: number }>,
  view: View,
  previous?: Flow,
): Flow {
  const { states, selected = null, current = null, marks, first = null } = view;
  const oldNodes = new Map(previous?.nodes.map((n) => [n.id, n]));
  let nodesReused = previous !== undefined && previous.nodes.length === graph.steps.length;
  const nodes: StepNode[] = graph.steps.map((s, i) => {
    const state = states?.[s.id];
    const data: StepData = {
      id: s.id,
      type: s.type,
      status: state?.status ?? "pending",
      durationMs: state?.durationMs,
      attempts: state?.attempts,
      cached: state?.cached,
      current: s.id === current,
      diff: marks?.get(s.id),
      first: s.id === first,
    };
    const position = at.get(s.id) ?? { x: 0, y: 0 };
    const old = oldNodes.get(s.id);
    // The same node object when nothing changed: React Flow and the memoised node skip it.
    if (
      old &&
      old.position === position &&
      old.selected === (s.id === selected) &&
      sameData(old.data, data)
    ) {
      if (previous!.nodes[i] !== old) nodesReused = false;
      return old;
    }
    nodesReused = false;
    return {
      id: s.id,
      type: "step",
      position,
      width: NODE_WIDTH,
      height: NODE_HEIGHT,
      selected: s.id === selected,
      ariaLabel: labelOf(data),
      ariaRole: "treeitem",
      domAttributes: { "aria-selected": s.id === selected },
      data,
    };
  });
  // An edge runs from the dependency to the step that needs it, left to right.
  const conditional = new Set(graph.steps.filter((s) => s.conditional).map((s) => s.id));
  const oldEdges = new Map(previous?.edges.map((e) => [e.id, e]));
  let edgesReused = previous !== undefined && previous.edges.length === graph.edges.length;
  const edges: FlowEdge[] = graph.edges.map((e, i) => {
    const id = `${e.to}->${e.from}`;
    const className = conditional.has(e.from) ? "keel-edge conditional" : "keel-edge";
    const animated = states?.[e.from]?.status === "running";
    const old = oldEdges.get(id);
    if (old && old.className === className && old.animated === animated) {
      if (previous!.edges[i] !== old) edgesReused = false;
      return old;
    }
    edgesReused = false;
    return { id, source: e.to, target: e.from, className, animated };
  });
  return {
    nodes: nodesReused ? previous!.nodes : nodes,
    edges: edgesReused ? previous!.edges : edges,
  };
}

function sameData(a: StepData, b: StepData): boolean {
  return (
    a.type === b.type &&
    a.status === b.status &&
    a.durationMs === b.durationMs &&
    a.attempts === b.attempts &&
    a.cached === b.cached &&
    a.current === b.current &&
    a.diff === b.diff &&
    a.first === b.first
  );
}
