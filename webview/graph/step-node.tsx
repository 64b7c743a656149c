// One step of the graph: type, id, state, duration, attempts, cached. Memoised: a status update
// re-renders only the nodes whose data changed.
import { memo } from "react";
import { Handle, Position, type NodeProps } from "@xyflow/react";
import type { StepNode } from "./to-flow";

const TYPE_LABEL: Record<string, string> = {
  llm: "LLM",
  http: "HTTP",
  tool: "TOOL",
  shell: "SH",
  transform: "FX",
  assert: "ASSERT",
  unknown: "?",
};

function duration(ms: number | undefined): string {
  if (ms === undefined) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

export const StepNodeView = memo(function StepNodeView({ data, selected }: NodeProps<StepNode>) {
  const details = [
    duration(data.durationMs),
    data.attempts && data.attempts > 1 ? `${data.attempts} attempts` : "",
    data.cached ? "cached" : "",
  ].filter(Boolean);
  return (
    <div
      className={`keel-node status-${data.status}${selected ? " selected" : ""}${data.current ? " current" : ""}`}
      role="treeitem"
      aria-selected={selected}
      aria-label={`${data.id}, ${data.type} step, ${data.status}${details.length ? `, ${details.join(", ")}` : ""}`}
      data-step={data.id}
      data-status={data.status}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <span className={`keel-type type-${data.type}`}>{TYPE_LABEL[data.type] ?? "?"}</span>
      <span className="keel-main">
        <span className="keel-id">{data.id}</span>
        <span className="keel-state">
          {data.status}
          {details.length > 0 ? ` · ${details.join(" · ")}` : ""}
        </span>
      </span>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});
