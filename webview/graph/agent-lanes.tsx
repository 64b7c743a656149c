// An agent step on its node (docs/editor.md, "Agents"): a line with its turns, tool calls and
// cost, and a toggle that hangs its lanes under the node: one lane per turn, the turn's model call
// then a chip per tool call in index order (name, status, latency; a refused call says so), each
// a button that opens that unit in the inspector (its attempts, resolved input, output, error).
// The lanes hang over the graph below the node rather than growing it: the node keeps the size
// the layout placed it at (to-flow.ts), so expanding moves no other node and no edge.
import { createContext, memo, useContext, type MouseEvent } from "react";
import { unitKey } from "@keel/core/record/records";
import {
  agentCounts,
  agentSummary,
  callScope,
  costText,
  turnScope,
  type AgentCallLane,
  type AgentLanes,
  type AgentTurnLane,
} from "@keel/core/record/agent-lanes";
import { STATUS_MARK, UnitChoiceContext } from "./lane";
import { duration } from "./to-flow";

/** Which agent nodes have their lanes out, and a way to toggle one (app.tsx provides it). */
export interface AgentExpansion {
  readonly expanded: ReadonlySet<string>;
  readonly toggle: (stepId: string) => void;
}

export const AgentExpansionContext = createContext<AgentExpansion>({
  expanded: new Set(),
  toggle: () => {},
});

/**
 * The node's third line: the toggle, then `4 turns · 6 tool calls` (the cost is on the state line
 * above: all three do not fit the node's width); its title is the whole summary.
 */
export function AgentLine(props: { stepId: string; lanes: AgentLanes }) {
  const { stepId, lanes } = props;
  const { expanded, toggle } = useContext(AgentExpansionContext);
  const open = expanded.has(stepId);
  return (
    <span className="keel-units-line">
      <button
        type="button"
        tabIndex={-1}
        className="keel-expand nodrag nopan"
        aria-expanded={open}
        aria-label={`${open ? "Hide" : "Show"} the turns of ${stepId}`}
        title={open ? "Hide the turns" : "Show each turn and its tool calls"}
        disabled={lanes.turns.length === 0}
        onClick={(e) => {
          // The node's own click would select the step: the toggle only shows or hides.
          e.stopPropagation();
          toggle(stepId);
        }}
      >
        {open ? "▾" : "▸"}
      </button>
      <span className="keel-agent-summary" title={agentSummary(stepId, lanes)}>
        {agentCounts(lanes, false)}
      </span>
    </span>
  );
}

const latency = (ms: number | undefined) => (ms === undefined ? "" : duration(ms));

/** A tool call's chip: its name, status mark and latency, or "refused". */
function Chip(props: { stepId: string; turn: number; call: AgentCallLane }) {
  const { stepId, turn, call } = props;
  const { chosen, open } = useContext(UnitChoiceContext);
  const key = unitKey(stepId, callScope(turn, call));
  const said = call.refused ? "refused (invalid arguments)" : call.status;
  const ms = latency(call.ms);
  return (
    <button
      type="button"
      tabIndex={-1}
      className={`keel-cell keel-chip seg-${call.status}${call.refused ? " refused" : ""}${chosen === key ? " chosen" : ""}`}
      data-unit={key}
      data-status={call.status}
      title={`${key}: ${said}${ms ? `, ${ms}` : ""}`}
      aria-label={`call ${call.name}.${call.index} of turn ${turn}: ${said}${ms ? `, ${ms}` : ""}`}
      aria-pressed={chosen === key}
      onClick={click(open, stepId, key)}
    >
      <span className="keel-chip-name">{call.name}</span>
      <span className="keel-cell-mark">{STATUS_MARK[call.status]}</span>
      {call.refused ? (
        <span className="keel-chip-note">refused</span>
      ) : ms ? (
        <span className="keel-chip-note">{ms}</span>
      ) : null}
    </button>
  );
}

/** The click is the button's: the node's own click would select the step a second time. */
const click =
  (open: (stepId: string, unit: string | null) => void, stepId: string, unit: string) =>
  (e: MouseEvent) => {
    e.stopPropagation();
    open(stepId, unit);
  };

function Turn(props: { stepId: string; t: AgentTurnLane }) {
  const { stepId, t } = props;
  const { chosen, open } = useContext(UnitChoiceContext);
  const key = unitKey(stepId, turnScope(t.turn));
  const facts = [latency(t.ms), t.costUsd !== undefined ? costText(t.costUsd) : ""].filter(Boolean);
  return (
    <div className="keel-agent-lane" role="group" aria-label={`turn ${t.turn} of ${stepId}`}>
      <button
        type="button"
        tabIndex={-1}
        className={`keel-cell keel-turn seg-${t.status}${chosen === key ? " chosen" : ""}`}
        data-unit={key}
        data-status={t.status}
        title={`${key}: the model call, ${t.status}${facts.length ? `, ${facts.join(", ")}` : ""}`}
        aria-label={`turn ${t.turn} of ${stepId}, the model call: ${t.status}${facts.length ? `, ${facts.join(", ")}` : ""}`}
        aria-pressed={chosen === key}
        onClick={click(open, stepId, key)}
      >
        #{t.turn}
        <span className="keel-cell-mark">{STATUS_MARK[t.status]}</span>
        {facts.length ? <span className="keel-chip-note">{facts.join(" · ")}</span> : null}
      </button>
      {t.calls.map((c) => (
        <Chip key={c.index} stepId={stepId} turn={t.turn} call={c} />
      ))}
    </div>
  );
}

/** The lanes under an expanded agent node, one per turn, the newest last. */
export const AgentDrawer = memo(function AgentDrawer(props: { stepId: string; lanes: AgentLanes }) {
  const { stepId, lanes } = props;
  return (
    <div
      className="keel-agent-lanes nodrag nopan nowheel"
      role="group"
      aria-label={`Turns of ${stepId}`}
    >
      {lanes.turns.map((t) => (
        <Turn key={t.turn} stepId={stepId} t={t} />
      ))}
    </div>
  );
});
