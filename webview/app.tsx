// The graph panel: the workflow's DAG with its steps' states (a live run's, or a recorded run's
// at the step-through's position), an inspector for the selected step, selection shared with
// the editor.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ReactFlow, Background, Controls, type NodeTypes } from "@xyflow/react";
import type { RunFold } from "@keel/core/replay/fold";
import type { GraphMessage, RecordingMessage, StatusMessage } from "@keel/core/protocol/webview";
import { listen, post } from "./channel";
import { positions, toFlow, type StepNode } from "./graph/to-flow";
import { StepNodeView } from "./graph/step-node";
import { foldOf, statesAt } from "./stepper/recording";
import { Stepper } from "./stepper/stepper";
import { Inspector, valueArrived } from "./inspector/inspector";
import { FitOnResize } from "./graph/fit-on-resize";

const nodeTypes: NodeTypes = { step: StepNodeView };

/** Positions depend on the graph's shape only: an edit that keeps it keeps the drawing. */
function shapeKey(graph: GraphMessage | undefined): string {
  if (!graph) return "";
  return JSON.stringify([graph.steps.map((s) => s.id), graph.edges.map((e) => [e.from, e.to])]);
}

export function App() {
  const [graph, setGraph] = useState<GraphMessage>();
  const [status, setStatus] = useState<StatusMessage>();
  const [recording, setRecording] = useState<RecordingMessage>();
  const [position, setPosition] = useState(-1);
  const [selected, setSelected] = useState<string | null>(null);
  const previous = useRef(new Map<string, StepNode>());
  const graphArea = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const stop = listen((m) => {
      if (m.type === "graph") setGraph(m);
      else if (m.type === "status") {
        setRecording(undefined);
        setStatus(m);
      } else if (m.type === "recording") {
        setStatus(undefined);
        setRecording(m);
        setPosition(m.events.length - 1);
      } else if (m.type === "value") valueArrived(m.ref, m.text);
      else setSelected(m.id);
    });
    post({ type: "ready" });
    return stop;
  }, []);

  const key = shapeKey(graph);
  const at = useMemo(() => (graph ? positions(graph) : new Map()), [key]);
  const stepIds = useMemo(() => graph?.steps.map((s) => s.id) ?? [], [key]);
  const fold = useMemo<RunFold | undefined>(
    () => (recording ? foldOf(recording, stepIds) : undefined),
    [recording, stepIds],
  );
  // The fold moves in place; `position` is what React renders from.
  if (fold && fold.position !== position) fold.seek(position);
  const states = useMemo(() => (fold ? statesAt(fold) : status?.steps), [fold, position, status]);
  const current = fold?.current?.stepId ?? null;
  const flow = useMemo(() => {
    if (!graph) return { nodes: [], edges: [] };
    const f = toFlow(graph, at, states, selected, current, previous.current);
    previous.current = new Map(f.nodes.map((n) => [n.id, n]));
    return f;
  }, [graph, at, states, selected, current]);

  const seek = useCallback(
    (k: number) => {
      if (!fold) return;
      setPosition(Math.max(-1, Math.min(k, fold.length - 1)));
    },
    [fold],
  );
  const nextFailure = useCallback(() => {
    if (!fold) return -1;
    for (let i = position + 1; i < fold.length; i++) {
      const t = fold.events[i]!.type;
      if (t === "attempt_failed" || t === "step_failed") return i;
    }
    return -1;
  }, [fold, position]);

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
      {fold && recording ? (
        <Stepper
          position={position}
          length={fold.length}
          current={fold.current}
          runId={recording.runId}
          runStatus={recording.status}
          seek={seek}
          nextFailure={nextFailure}
        />
      ) : null}
      <div className="keel-body">
        <div
          className="keel-graph"
          role="tree"
          aria-label={`Steps of ${graph.name}`}
          ref={graphArea}
        >
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
            <FitOnResize target={graphArea} />
          </ReactFlow>
        </div>
        {fold ? <Inspector fold={fold} step={selected ? fold.step(selected) : undefined} /> : null}
      </div>
    </div>
  );
}
