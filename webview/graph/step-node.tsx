// One step of the graph: type, id, state, duration, attempts, cached, and in diff mode how it
// compares between the runs. Memoised: a status update re-renders only the nodes whose data
// changed. What a screen reader says is the node wrapper's label (to-flow.ts `labelOf`), so the
// content here is hidden from it.
import { memo } from "react";
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { duration, type DiffMark, type StepNode } from "./to-flow";

const TYPE_LABEL: Record<string, string> = {
  llm: "LLM",
  http: "HTTP",
  tool: "TOOL",
  shell: "SH",
  transform: "FX",
  assert: "ASSERT",
  unknown: "?",
};

/** A diff mark in text too, so it does not rest on colour alone. */
const DIFF_BADGE: Record<DiffMark, string> = { same: "=", changed: "≠", added: "+", removed: "−" };

export const StepNodeView = memo(function StepNodeView({ data, selected }: NodeProps<StepNode>) {
  const details = [
    duration(data.durationMs),
    data.attempts && data.attempts > 1 ? `${data.attempts} attempts` : "",
    data.cached ? "cached" : "",
  ].filter(Boolean);
  const classes = [
    "keel-node",
    `status-${data.status}`,
    selected ? "selected" : "",
    data.current ? "current" : "",
    data.diff ? `diff-${data.diff}` : "",
    data.first ? "first-divergence" : "",
  ].filter(Boolean);
  return (
    <div
      className={classes.join(" ")}
      aria-hidden="true"
      data-step={data.id}
      data-status={data.status}
      data-diff={data.diff}
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
      {data.diff ? <span className="keel-diff-badge">{DIFF_BADGE[data.diff]}</span> : null}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});
