// One step of the graph: type, id, state, duration, attempts, cached, and in diff mode how it
// compares between the runs. React Flow's node carries the step's id and type only; the state is
// the step's view (step-views.ts), to which this component subscribes, so a step-through move
// re-renders only the nodes it changes. The node wrapper (the focusable treeitem) is labelled by
// the hidden sentence rendered here.
import { memo, useContext } from "react";
import type { NodeProps } from "@xyflow/react";
import { FarContext } from "./far";
import {
  STRIP_ORDER,
  duration,
  labelId,
  labelOf,
  unitCounts,
  unitTotal,
  type StepNode,
} from "./to-flow";
import { useStepView, type DiffMark, type StepView, type Tally } from "./step-views";
import { Lane } from "./lane";
import { AgentDrawer, AgentExpansionContext, AgentLine } from "./agent-lanes";
import { costText } from "@keel/core/record/agent-lanes";

const TYPE_LABEL: Record<string, string> = {
  llm: "LLM",
  http: "HTTP",
  tool: "TOOL",
  shell: "SH",
  transform: "FX",
  assert: "ASSERT",
  workflow: "FLOW",
  agent: "AGENT",
  unknown: "?",
};

/**
 * The edges' ends, as React Flow's own handles would be drawn and found when it measures a node
 * (it looks for `.source` and `.target` with `data-handlepos`; to-flow.ts gives their bounds in
 * advance too). Plain elements: React Flow's Handle component subscribes each of a node's two
 * handles to its store, for connecting, which the panel does not do (2,000 subscriptions at 1,000
 * nodes; mounting them took 0.57–1.1 s of script with Handle, 0.44–0.63 s without, profiled
 * alternately under load).
 */
const TARGET = {
  className: "react-flow__handle react-flow__handle-left target",
  "data-handlepos": "left",
  "aria-hidden": true,
};
const SOURCE = {
  className: "react-flow__handle react-flow__handle-right source",
  "data-handlepos": "right",
  "aria-hidden": true,
};

/** A diff mark in text too, so it does not rest on colour alone. */
const DIFF_BADGE: Record<DiffMark, string> = { same: "=", changed: "≠", added: "+", removed: "−" };

/** A map's or loop's units as coloured segments, one per status, as wide as its share. */
function Strip(props: { counts: Tally }) {
  const { counts } = props;
  return (
    <span className="keel-strip" aria-hidden="true">
      {STRIP_ORDER.map((s) =>
        counts[s] > 0 ? (
          <span
            key={s}
            className={`keel-seg seg-${s}`}
            style={{ flexGrow: counts[s] }}
            data-count={counts[s]}
          />
        ) : null,
      )}
    </span>
  );
}

/** The units in a few characters beside the strip: "38/42 · 2 ✗". */
function counts(v: StepView, total: number): string {
  const t = v.tally!;
  return [`${t.succeeded}/${total}`, t.failed > 0 ? `${t.failed} ✗` : ""]
    .filter(Boolean)
    .join(" · ");
}

export const StepNodeView = memo(function StepNodeView({ data, selected }: NodeProps<StepNode>) {
  const v = useStepView(data.id);
  // Zoomed out, the canvas draws the node (far-canvas.tsx): the element keeps its accessible
  // name, state attributes and classes, not its text.
  const far = useContext(FarContext);
  const tally = v.tally;
  const total = unitTotal(data, v);
  // A loop's iterations as a lane of cells (lane.tsx) instead of a strip; an agent's turns and
  // tool calls counted, its lanes under the node when expanded (agent-lanes.tsx).
  const agent = data.type === "agent" && !data.map ? v.agent : undefined;
  const expanded = useContext(AgentExpansionContext).expanded.has(data.id);
  const lane = !agent && !data.map && (v.iterations?.length ?? 0) > 0;
  const details = [
    duration(v.durationMs),
    v.attempts && v.attempts > 1 ? `${v.attempts} attempts` : "",
    v.cached ? "cached" : "",
    agent?.costUsd !== undefined ? costText(agent.costUsd) : "",
  ].filter(Boolean);
  const classes = [
    "keel-node",
    `status-${v.status}`,
    selected ? "selected" : "",
    v.current ? "current" : "",
    v.diff ? `diff-${v.diff}` : "",
    v.first ? "first-divergence" : "",
    tally || lane || agent ? "has-strip" : "",
    agent ? "keel-agent" : "",
  ].filter(Boolean);
  return (
    <div
      className={classes.join(" ")}
      data-step={data.id}
      data-status={v.status}
      data-diff={v.diff}
    >
      <span id={labelId(data.id)} className="keel-sr">
        {labelOf(data, v)}
      </span>
      <span {...TARGET} />
      {far ? null : (
        <>
          <span className={`keel-type type-${data.type}`} aria-hidden="true">
            {TYPE_LABEL[data.type] ?? "?"}
          </span>
          <span className="keel-main" aria-hidden="true">
            <span className="keel-id">{data.id}</span>
            <span className="keel-state">
              {v.status}
              {details.length > 0 ? ` · ${details.join(" · ")}` : ""}
            </span>
            {agent ? (
              <AgentLine stepId={data.id} lanes={agent} />
            ) : lane ? (
              <span className="keel-units-line">
                <Lane stepId={data.id} iterations={v.iterations!} />
              </span>
            ) : tally ? (
              <span className="keel-units-line">
                <span className="keel-count">{counts(v, total)}</span>
                <Strip counts={unitCounts(data, v)!} />
              </span>
            ) : null}
          </span>
          {v.diff ? (
            <span className="keel-diff-badge" aria-hidden="true">
              {DIFF_BADGE[v.diff]}
            </span>
          ) : null}
          {agent && expanded && agent.turns.length > 0 ? (
            <AgentDrawer stepId={data.id} lanes={agent} />
          ) : null}
        </>
      )}
      <span {...SOURCE} />
    </div>
  );
});
