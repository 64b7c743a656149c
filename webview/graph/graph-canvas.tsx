// The drawing of the graph: React Flow with the step nodes, keyboard access, fitted on resize.
// Memoised, with props that change only with the graph's shape and the selection: a step-through
// move re-renders the panel around it but not React Flow (a new prop there, even a callback,
// re-renders every mounted node's wrapper).
import { memo, useCallback, useRef } from "react";
import { ReactFlow, Background, Controls, useStore, type NodeTypes } from "@xyflow/react";
import { StepNodeView } from "./step-node";
import { FitOnResize } from "./fit-on-resize";
import type { Flow, StepNode } from "./to-flow";

const nodeTypes: NodeTypes = { step: StepNodeView };
const PRO = { hideAttribution: true };

/**
 * Below this zoom a node's text is unreadable: the drawing's level of detail drops to boxes
 * filled with the status colour (panel.css, `.keel-far`), which also spares the browser most of
 * the layout and paint of 1,000 nodes on screen.
 */
export const FAR_ZOOM = 0.3;

/** About one screen pixel in the graph's units when zoomed out (rounded: few distinct values), else 0. */
export function farUnit(zoom: number): number {
  return zoom < FAR_ZOOM ? Math.min(20, Math.round(1 / zoom)) : 0;
}

export interface GraphCanvasProps {
  readonly name: string;
  readonly flow: Flow;
  readonly choose: (id: string) => void;
  readonly onKeyDown: (e: React.KeyboardEvent) => void;
  readonly onFocus: (e: React.FocusEvent) => void;
  readonly onPointerDownCapture: () => void;
}

export const GraphCanvas = memo(function GraphCanvas(p: GraphCanvasProps) {
  const area = useRef<HTMLDivElement>(null);
  const { choose } = p;
  const onNodeClick = useCallback((_: unknown, node: StepNode) => choose(node.id), [choose]);
  // A number that changes only when the zoom crosses a rounding step: not on every frame of a zoom.
  const unit = useStore((s) => farUnit(s.transform[2]));
  return (
    <div
      className={unit ? "keel-graph keel-far" : "keel-graph"}
      style={unit ? ({ "--keel-u": `${unit}px` } as React.CSSProperties) : undefined}
      role="tree"
      aria-label={`Steps of ${p.name}`}
      ref={area}
      onKeyDown={p.onKeyDown}
      onFocus={p.onFocus}
      onPointerDownCapture={p.onPointerDownCapture}
    >
      <ReactFlow
        nodes={p.flow.nodes}
        edges={p.flow.edges}
        nodeTypes={nodeTypes}
        onlyRenderVisibleElements
        nodesDraggable={false}
        nodesConnectable={false}
        edgesFocusable={false}
        fitView
        minZoom={0.05}
        proOptions={PRO}
        onNodeClick={onNodeClick}
      >
        <Background />
        <Controls showInteractive={false} />
        <FitOnResize target={area} />
      </ReactFlow>
    </div>
  );
});
