// The drawing of the graph: React Flow with the step nodes, keyboard access, fitted on resize.
// Memoised, with props that change only with the graph's shape and the selection: a step-through
// move re-renders the panel around it but not React Flow (a new prop there, even a callback,
// re-renders every mounted node's wrapper).
import { memo, useCallback, useEffect, useRef, useState } from "react";
import {
  ReactFlow,
  Background,
  Controls,
  useReactFlow,
  useStore,
  type NodeTypes,
  type Viewport,
} from "@xyflow/react";
import { StepNodeView } from "./step-node";
import { FitOnResize } from "./fit-on-resize";
import { FarCanvas } from "./far-canvas";
import { FAR_ZOOM, FarContext } from "./far";
import { NODE_HEIGHT, NODE_WIDTH, type Flow, type StepNode } from "./to-flow";

const nodeTypes: NodeTypes = { step: StepNodeView };
const PRO = { hideAttribution: true };
const NO_EDGES: Flow["edges"] = [];

const MIN_ZOOM = 0.05;
/** How long the move to the refined layout takes (panel.css `.keel-settling` too). */
export const SETTLE_MS = 400;

/**
 * The view fitted to the graph in a window-sized area: a guess at React Flow's fitted view (which
 * follows, exact), so the first drawing is already at about the right zoom. Starting at zoom 1
 * drew, then removed, every edge that crosses the top of a tall graph (2,000 for a 1 → 1,000 → 1
 * fan-out) before the fit.
 */
function guessView(nodes: readonly StepNode[]): Viewport {
  if (nodes.length === 0) return { x: 0, y: 0, zoom: 1 };
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const n of nodes) {
    x0 = Math.min(x0, n.position.x);
    y0 = Math.min(y0, n.position.y);
    x1 = Math.max(x1, n.position.x + NODE_WIDTH);
    y1 = Math.max(y1, n.position.y + NODE_HEIGHT);
  }
  const w = window.innerWidth;
  const h = Math.max(100, window.innerHeight - 100);
  const zoom = Math.min(2, Math.max(MIN_ZOOM, 0.9 * Math.min(w / (x1 - x0), h / (y1 - y0))));
  return {
    x: (w - (x1 - x0) * zoom) / 2 - x0 * zoom,
    y: (h - (y1 - y0) * zoom) / 2 - y0 * zoom,
    zoom,
  };
}

export interface GraphCanvasProps {
  readonly name: string;
  readonly flow: Flow;
  /** Which layout the nodes are at (layout/use-layout.ts); `data-layout` on the graph. */
  readonly layout: "layered" | "refined" | "unrefined";
  /** The refined layout replaced the layered one: nodes glide to it and the view fits it. */
  readonly settling: boolean;
  readonly choose: (id: string) => void;
  readonly onKeyDown: (e: React.KeyboardEvent) => void;
  readonly onFocus: (e: React.FocusEvent) => void;
  readonly onPointerDownCapture: () => void;
}

export const GraphCanvas = memo(function GraphCanvas(p: GraphCanvasProps) {
  const area = useRef<HTMLDivElement>(null);
  const { choose } = p;
  const [initial] = useState(() => guessView(p.flow.nodes));
  const onNodeClick = useCallback((_: unknown, node: StepNode) => choose(node.id), [choose]);
  // Changes when the zoom crosses the threshold only, not on every frame of a zoom.
  const far = useStore((s) => s.transform[2] < FAR_ZOOM);
  // The refined layout arrived: the view fits it while the nodes glide there (panel.css).
  const flow = useReactFlow();
  // Gliding from the render that moves the nodes (the transition must be set as they move).
  const [settled, setSettled] = useState(false);
  const [wasSettling, setWasSettling] = useState(p.settling);
  if (wasSettling !== p.settling) {
    setWasSettling(p.settling);
    setSettled(false);
  }
  const gliding = p.settling && !settled;
  useEffect(() => {
    if (!p.settling) return;
    void flow.fitView({ duration: SETTLE_MS });
    const done = setTimeout(() => setSettled(true), SETTLE_MS + 50);
    return () => clearTimeout(done);
  }, [p.settling, flow]);
  const classes = ["keel-graph", far ? "keel-far" : "", gliding ? "keel-settling" : ""];
  return (
    <div
      className={classes.filter(Boolean).join(" ")}
      data-layout={p.layout}
      role="tree"
      aria-label={`Steps of ${p.name}`}
      ref={area}
      onKeyDown={p.onKeyDown}
      onFocus={p.onFocus}
      onPointerDownCapture={p.onPointerDownCapture}
    >
      <FarContext.Provider value={far}>
        <ReactFlow
          nodes={p.flow.nodes}
          edges={far ? NO_EDGES : p.flow.edges}
          nodeTypes={nodeTypes}
          onlyRenderVisibleElements
          nodesDraggable={false}
          nodesConnectable={false}
          edgesFocusable={false}
          fitView
          defaultViewport={initial}
          minZoom={MIN_ZOOM}
          proOptions={PRO}
          onNodeClick={onNodeClick}
        >
          <Background />
          <Controls showInteractive={false} />
          <FitOnResize target={area} />
          {far ? <FarCanvas nodes={p.flow.nodes} edges={p.flow.edges} settling={gliding} /> : null}
        </ReactFlow>
      </FarContext.Provider>
    </div>
  );
});
