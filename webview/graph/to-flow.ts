// Pure mapping from the panel's messages to React Flow's nodes and edges: positions from the
// core's layered placement, state from the latest status message. No React here, so it is tested
// as plain data.
import { Position, type Edge as FlowEdge, type Node as FlowNode } from "@xyflow/react";
import { buildGraph, type Edge } from "@keel/core/graph/graph";
import { placeLayered } from "@keel/core/graph/layers";
import type { GraphMessage } from "@keel/core/protocol/webview";
import { agentCounts } from "@keel/core/record/agent-lanes";
import type { DiffMark, States, StepView, Tally } from "./step-views";

/** A node's size is known in advance: React Flow then draws only what is on screen, unmeasured. */
export const NODE_WIDTH = 214;
export const NODE_HEIGHT = 58;
export const GAP_X = 70;
export const GAP_Y = 22;
/** The handles' size (React Flow's base.css: 5 px), centred on the box's left and right sides. */
const HANDLE = 5;

/**
 * Where a node's edges end, known in advance like its size: React Flow then need not measure the
 * handles in the DOM (a ResizeObserver pass and a second render of every node on screen).
 */
const HANDLES: NonNullable<FlowNode["handles"]> = [
  {
    type: "target",
    position: Position.Left,
    x: -HANDLE / 2,
    y: (NODE_HEIGHT - HANDLE) / 2,
    width: HANDLE,
    height: HANDLE,
  },
  {
    type: "source",
    position: Position.Right,
    x: NODE_WIDTH - HANDLE / 2,
    y: (NODE_HEIGHT - HANDLE) / 2,
    width: HANDLE,
    height: HANDLE,
  },
];
const SIZE = { width: NODE_WIDTH, height: NODE_HEIGHT };
/** The point where an edge leaves a node (its right handle's outer side) and where it enters one. */
export const EDGE_OUT = { x: NODE_WIDTH + HANDLE / 2, y: NODE_HEIGHT / 2 };
export const EDGE_IN = { x: -HANDLE / 2, y: NODE_HEIGHT / 2 };

/** A node's data: what the graph's shape fixes. Its state is a StepView (step-views.ts). */
export interface StepData extends Record<string, unknown> {
  readonly id: string;
  readonly type: GraphMessage["steps"][number]["type"];
  /** A `for_each` step: its items by status under its name. */
  readonly map?: boolean;
  /** A workflow step with `repeat`: its iterations by status. */
  readonly repeat?: boolean;
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

/** The element whose text is a node's accessible name (the node wrapper is labelled by it). */
export const labelId = (id: string) => `keel-label-${id}`;

/** A map's or loop's units by status, in the order the node's strip draws them. */
export const STRIP_ORDER = [
  "succeeded",
  "failed",
  "running",
  "cancelled",
  "skipped",
  "pending",
] as const;

/** How many items or iterations the node counts: a map's item count, at least the units known. */
export function unitTotal(d: StepData, v: StepView): number {
  const t = v.tally;
  const known = t ? STRIP_ORDER.reduce((n, s) => n + t[s], 0) : 0;
  return d.map && v.items !== undefined ? Math.max(v.items, known) : known;
}

/**
 * A map's items or a loop's iterations in words: "38 of 42 items succeeded, 2 failed, 2
 * running". The total is the map's item count once its list is known, else the units known.
 */
export function tallyText(d: StepData, v: StepView): string {
  const t = unitCounts(d, v);
  if (!t) return "";
  const total = unitTotal(d, v);
  const noun = d.map || !d.repeat ? "item" : "iteration";
  const rest = STRIP_ORDER.slice(1)
    .filter((s) => t[s] > 0)
    .map((s) => `${t[s]} ${s}`);
  return [`${t.succeeded} of ${total} ${noun}${total === 1 ? "" : "s"} succeeded`, ...rest].join(
    ", ",
  );
}

/** The units by status as the node shows them: a map's items no event has reached yet are pending. */
export function unitCounts(d: StepData, v: StepView): Tally | undefined {
  const t = v.tally;
  if (!t) return undefined;
  const unknown = unitTotal(d, v) - STRIP_ORDER.reduce((n, s) => n + t[s], 0);
  return unknown > 0 ? { ...t, pending: t.pending + unknown } : t;
}

/** What a screen reader says for a node. */
export function labelOf(d: StepData, v: StepView): string {
  const details = [
    duration(v.durationMs),
    v.attempts && v.attempts > 1 ? `${v.attempts} attempts` : "",
    v.cached ? "cached" : "",
    d.type === "agent" && !d.map && v.agent
      ? agentCounts(v.agent).replace(/ · /g, ", ")
      : tallyText(d, v),
  ].filter(Boolean);
  const diff =
    v.diff === undefined ? "" : `, ${DIFF_LABEL[v.diff]}${v.first ? ", first divergence" : ""}`;
  return `${d.id}, ${d.type} step, ${v.status}${details.length ? `, ${details.join(", ")}` : ""}${diff}`;
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

/** Each step's view: its state, whether the step-through's event concerns it, its diff mark. */
export function viewsOf(
  graph: GraphMessage,
  states: States | undefined,
  current: string | null,
  marks?: ReadonlyMap<string, DiffMark>,
  first: string | null = null,
): Map<string, StepView> {
  const out = new Map<string, StepView>();
  for (const s of graph.steps) {
    const state = states?.[s.id];
    out.set(s.id, {
      status: state?.status ?? "pending",
      durationMs: state?.durationMs,
      attempts: state?.attempts,
      cached: state?.cached,
      items: state?.items,
      tally: state?.tally,
      iterations: state?.iterations,
      agent: state?.agent,
      current: s.id === current,
      diff: marks?.get(s.id),
      first: s.id === first,
    });
  }
  return out;
}

/**
 * The nodes and edges for a graph, the selected step, and a live run's states (a running step's
 * edges are animated). With the previous flow, an unchanged node or edge is the same object, and
 * an unchanged list the same array: React Flow then has nothing to do.
 */
export function toFlow(
  graph: GraphMessage,
  at: ReadonlyMap<string, { x: number; y: number }>,
  selected: string | null,
  live: States | undefined,
  previous?: Flow,
): Flow {
  const oldNodes = new Map(previous?.nodes.map((n) => [n.id, n]));
  let nodesReused = previous !== undefined && previous.nodes.length === graph.steps.length;
  const nodes: StepNode[] = graph.steps.map((s, i) => {
    const position = at.get(s.id) ?? { x: 0, y: 0 };
    const old = oldNodes.get(s.id);
    if (
      old &&
      old.position === position &&
      old.selected === (s.id === selected) &&
      old.data.type === s.type &&
      old.data.map === s.map &&
      old.data.repeat === s.repeat
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
      // Measured in advance too: React Flow then neither observes nor measures the node.
      measured: SIZE,
      handles: HANDLES,
      selected: s.id === selected,
      ariaRole: "treeitem",
      domAttributes: { "aria-selected": s.id === selected, "aria-labelledby": labelId(s.id) },
      data: { id: s.id, type: s.type, map: s.map, repeat: s.repeat },
    };
  });
  // An edge runs from the dependency to the step that needs it, left to right.
  const conditional = new Set(graph.steps.filter((s) => s.conditional).map((s) => s.id));
  const oldEdges = new Map(previous?.edges.map((e) => [e.id, e]));
  let edgesReused = previous !== undefined && previous.edges.length === graph.edges.length;
  const edges: FlowEdge[] = graph.edges.map((e, i) => {
    const id = `${e.to}->${e.from}`;
    const className = conditional.has(e.from) ? "keel-edge conditional" : "keel-edge";
    const animated = live?.[e.from]?.status === "running";
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
