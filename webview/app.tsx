// The graph panel: the workflow's DAG, its steps' states, selection shared with the editor.
import { useEffect, useMemo, useState } from "react";
import { ReactFlow, Background, Controls, type NodeTypes } from "@xyflow/react";
import type { GraphMessage, StatusMessage } from "@keel/core/protocol/webview";
import { listen, post } from "./channel";
import { positions, toFlow } from "./graph/to-flow";
import { StepNodeView } from "./graph/step-node";

const nodeTypes: NodeTypes = { step: StepNodeView };

/** Positions depend on the graph's shape only: an edit that keeps it keeps the drawing. */
function shapeKey(graph: GraphMessage | undefined): string {
  if (!graph) return "";
  return JSON.stringify([graph.steps.map((s) => s.id), graph.edges.map((e) => [e.from, e.to])]);
}

export function App() {
  const [graph, setGraph] = useState<GraphMessage>();
  const [status, setStatus] = useState<StatusMessage>();
  const [selected, setSelected] = useState<string | null>(null);

  useEffect(() => {
    const stop = listen((m) => {
      if (m.type === "graph") setGraph(m);
      else if (m.type === "status") setStatus(m);
      else setSelected(m.id);
    });
    post({ type: "ready" });
    return stop;
  }, []);

  const key = shapeKey(graph);
  const at = useMemo(() => (graph ? positions(graph) : new Map()), [key]);
  const flow = useMemo(
    () => (graph ? toFlow(graph, at, status, selected) : { nodes: [], edges: [] }),
    [graph, at, status, selected],
  );

  if (!graph) return <div className="keel-empty">Waiting for the workflow…</div>;
  return (
    <div className="keel-panel">
      <header className="keel-header">
        <span className="keel-title">{graph.name}</span>
        <span className="keel-summary">
          {graph.steps.length} steps
          {graph.errors > 0
            ? ` · ${graph.errors} error${graph.errors === 1 ? "" : "s"} in the file: the graph shows what parses`
            : ""}
        </span>
      </header>
      <div className="keel-graph" role="tree" aria-label={`Steps of ${graph.name}`}>
        <ReactFlow
          nodes={flow.nodes}
          edges={flow.edges}
          nodeTypes={nodeTypes}
          onlyRenderVisibleElements
          nodesDraggable={false}
          nodesConnectable={false}
          fitView
          minZoom={0.05}
          proOptions={{ hideAttribution: true }}
          onNodeClick={(_, node) => {
            setSelected(node.id);
            post({ type: "select", id: node.id });
          }}
        >
          <Background />
          <Controls showInteractive={false} />
        </ReactFlow>
      </div>
    </div>
  );
}
