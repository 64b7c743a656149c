// The graph panel: the workflow's DAG with its steps' states (a live run's, a recorded run's at the
// step-through's position, or two runs compared), a timeline of a recorded run's attempts, an
// inspector for the selected step, selection shared with the editor.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { RunFold } from "@keel/core/record/fold";
import type {
  DiffMessage,
  GraphMessage,
  RecordingMessage,
  StatusMessage,
} from "@keel/core/protocol/webview";
import { listen, post } from "./channel";
import { toFlow, viewsOf, type Flow } from "./graph/to-flow";
import type { States } from "./graph/step-views";
import { StepViews, StepViewsContext } from "./graph/step-views";
import { GraphCanvas } from "./graph/graph-canvas";
import { UnitChoiceContext, type UnitChoice } from "./graph/lane";
import { AgentExpansionContext, type AgentExpansion } from "./graph/agent-lanes";
import { useLayout } from "./layout/use-layout";
import { useNodeKeys } from "./graph/node-keys";
import { foldOf } from "./stepper/recording";
import { follow, type Followed } from "./stepper/fold-views";
import { Stepper } from "./stepper/stepper";
import { Inspector, valueArrived } from "./inspector/inspector";
import { Timeline } from "./timeline/timeline";
import { cursorAt, timelineOf } from "./timeline/bars";
import { marksOf } from "./diff/marks";
import { DiffBar, DiffStep } from "./diff/diff-view";

const STATUSES = new Set(["pending", "running", "succeeded", "failed", "skipped", "cancelled"]);

/** Positions depend on the graph's shape only: an edit that keeps it keeps the drawing. */
function shapeKey(graph: GraphMessage | undefined): string {
  if (!graph) return "";
  return JSON.stringify([graph.steps.map((s) => s.id), graph.edges.map((e) => [e.from, e.to])]);
}

/** In diff mode the nodes show the second run's states. */
function statesOfDiff(diff: DiffMessage): States {
  const out: States = {};
  for (const s of diff.steps) {
    const status = STATUSES.has(s.status[1])
      ? (s.status[1] as States[string]["status"])
      : "pending";
    out[s.step] = { status, durationMs: s.latencyMs[1] ?? undefined };
  }
  return out;
}

export function App() {
  const [graph, setGraph] = useState<GraphMessage>();
  const [status, setStatus] = useState<StatusMessage>();
  const [recording, setRecording] = useState<RecordingMessage>();
  const [diff, setDiff] = useState<DiffMessage>();
  const [position, setPosition] = useState(-1);
  const [selected, setSelected] = useState<string | null>(null);
  /** The item or iteration chosen in the inspector or on a loop's node (forgotten with its step). */
  const [chosenUnit, setChosenUnit] = useState<{ step: string; key: string } | null>(null);
  const [showTimeline, setShowTimeline] = useState(true);
  /** The run a replay debugger session is stepping through (it drives the step-through). */
  const [debugRun, setDebugRun] = useState<string | null>(null);
  const previous = useRef<Flow>(undefined);
  const followed = useRef<Followed>(undefined);

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
      } else if (m.type === "diff") {
        setDiff(m);
        setSelected(m.firstDivergence);
      } else if (m.type === "debug") {
        setDebugRun(m.active ? m.runId : null);
        if (m.active && m.index !== undefined) {
          setPosition(m.index);
          if (m.stepId) setSelected(m.stepId);
        }
      } else if (m.type === "value") valueArrived(m.ref, m.text);
      else setSelected(m.id);
    });
    post({ type: "ready" });
    return stop;
  }, []);

  const key = shapeKey(graph);
  // The layered placement at once, then the refined layout from the worker (cached by shape).
  const layout = useLayout(graph, key);
  const at = layout.at;
  const stepIds = useMemo(() => graph?.steps.map((s) => s.id) ?? [], [key]);
  const fold = useMemo<RunFold | undefined>(
    () => (recording ? foldOf(recording, stepIds) : undefined),
    [recording, stepIds],
  );
  // The fold moves in place; `position` is what React renders from.
  if (fold && fold.position !== position) fold.seek(position);
  // A recorded run's views follow the fold (stepper/fold-views.ts), the others are set whole.
  const states = useMemo(
    () => (diff ? statesOfDiff(diff) : fold ? undefined : status?.steps),
    [diff, fold, status],
  );
  const marks = useMemo(() => (diff ? marksOf(diff) : undefined), [diff]);
  // React Flow's nodes change with the shape and the selection only; a step's state reaches its
  // node through the views store, which tells only the nodes whose view changed.
  const live = diff || fold ? undefined : status?.steps;
  const flow = useMemo(() => {
    if (!graph) return { nodes: [], edges: [] };
    const f = toFlow(graph, at, selected, live, previous.current);
    previous.current = f;
    return f;
  }, [graph, at, selected, live]);
  const [views] = useState(() => new StepViews());
  useLayoutEffect(() => {
    if (!graph) return;
    if (fold && !diff) followed.current = follow(views, graph, fold, followed.current);
    else {
      followed.current = undefined;
      views.update(viewsOf(graph, states, null, marks, diff?.firstDivergence ?? null));
    }
  }, [views, graph, fold, position, states, marks, diff]);
  const timeline = useMemo(
    () => (recording ? timelineOf(recording, stepIds) : undefined),
    [recording, stepIds],
  );

  const following = debugRun !== null && debugRun === recording?.runId;
  const seek = useCallback(
    (k: number) => {
      if (!fold) return;
      const to = Math.max(-1, Math.min(k, fold.length - 1));
      setPosition(to);
      // While the debugger follows this run, the controls move it (it stops on an event: the
      // first one stands for "before the first").
      if (following && recording)
        post({ type: "debug", runId: recording.runId, seq: fold.events[Math.max(0, to)]!.seq });
    },
    [fold, following, recording],
  );
  const debugHere = useCallback(() => {
    if (!fold || !recording || fold.length === 0) return;
    post({ type: "debug", runId: recording.runId, seq: fold.events[Math.max(0, position)]!.seq });
  }, [fold, recording, position]);
  const nextFailure = useCallback(() => {
    if (!fold) return -1;
    for (let i = position + 1; i < fold.length; i++) {
      const t = fold.events[i]!.type;
      if (t === "attempt_failed" || t === "step_failed") return i;
    }
    return -1;
  }, [fold, position]);
  const choose = useCallback((id: string) => {
    setSelected(id);
    post({ type: "select", id });
  }, []);
  /** A timeline bar: the step, at its first event (an item's or iteration's bar: that unit's). */
  const pickFromTimeline = useCallback(
    (id: string, unit?: string) => {
      choose(id);
      if (fold) seek(fold.nextEventOf(unit ?? id, -1));
    },
    [choose, fold, seek],
  );
  const chooseUnit = useCallback(
    (key: string) => selected !== null && setChosenUnit({ step: selected, key }),
    [selected],
  );
  const chosen = chosenUnit !== null && chosenUnit.step === selected ? chosenUnit.key : null;
  const unitChoice = useMemo<UnitChoice>(
    () => ({
      chosen,
      open: (stepId, unit) => {
        choose(stepId);
        if (unit !== null) setChosenUnit({ step: stepId, key: unit });
      },
    }),
    [chosen, choose],
  );
  /** The agent nodes whose lanes are out (kept here: a node scrolled out of view unmounts). */
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set());
  const expansion = useMemo<AgentExpansion>(
    () => ({
      expanded,
      toggle: (id) =>
        setExpanded((old) => {
          const next = new Set(old);
          if (!next.delete(id)) next.add(id);
          return next;
        }),
    }),
    [expanded],
  );
  const { reveal, ...nodeKeys } = useNodeKeys(at, choose);

  // Diff mode: the first divergence is selected (above) and gets the keyboard focus, in view.
  useEffect(() => {
    if (diff?.firstDivergence) reveal(diff.firstDivergence);
  }, [diff, reveal]);
  useEffect(() => {
    if (!diff) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape" && !e.defaultPrevented) setDiff(undefined);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [diff]);

  if (!graph) return <div className="keel-empty">Waiting for the workflow…</div>;
  const diffRow = diff && selected ? diff.steps.find((s) => s.step === selected) : undefined;
  return (
    <StepViewsContext.Provider value={views}>
      <div className="keel-panel">
        <header className="keel-header">
          <span className="keel-title">{graph.name}</span>
          <span className="keel-summary">
            {graph.steps.length} steps
            {graph.errors > 0
              ? ` · ${graph.errors} error${graph.errors === 1 ? "" : "s"} in the file: the graph shows what parses`
              : ""}
          </span>
          {recording?.parentId && !diff ? (
            <button
              type="button"
              className="keel-parent"
              title={`This is a child run, started by ${recording.parentScope ?? "a step"} of run ${recording.parentId}`}
              onClick={() => post({ type: "open", runId: recording.parentId! })}
            >
              ↩ Parent run{recording.parentScope ? ` (${recording.parentScope})` : ""}
            </button>
          ) : null}
          {timeline && !diff ? (
            <button
              type="button"
              className="keel-toggle"
              aria-pressed={showTimeline}
              onClick={() => setShowTimeline((v) => !v)}
            >
              Timeline
            </button>
          ) : null}
        </header>
        {diff ? (
          <DiffBar
            diff={diff}
            focus={(id) => (choose(id), reveal(id))}
            leave={() => setDiff(undefined)}
          />
        ) : fold && recording ? (
          <Stepper
            position={position}
            length={fold.length}
            current={fold.current}
            runId={recording.runId}
            runStatus={recording.status}
            seek={seek}
            nextFailure={nextFailure}
            debugHere={debugHere}
            following={following}
          />
        ) : null}
        <div className="keel-body">
          <div className="keel-column">
            <UnitChoiceContext.Provider value={unitChoice}>
              <AgentExpansionContext.Provider value={expansion}>
                <GraphCanvas
                  name={graph.name}
                  flow={flow}
                  layout={layout.kind}
                  settling={layout.settling}
                  choose={choose}
                  {...nodeKeys}
                />
              </AgentExpansionContext.Provider>
            </UnitChoiceContext.Provider>
            {timeline && showTimeline && !diff ? (
              <Timeline
                data={timeline}
                cursor={cursorAt(timeline, fold?.current?.at)}
                selected={selected}
                pick={pickFromTimeline}
              />
            ) : null}
          </div>
          {fold || diff || selected !== null ? (
            <Inspector
              id={selected}
              fold={fold}
              step={fold && selected ? fold.step(selected) : undefined}
              runId={diff ? diff.b : recording?.runId}
              chosen={chosen}
              choose={chooseUnit}
              agent={graph.steps.some((s) => s.id === selected && s.type === "agent")}
              reply={live && selected !== null ? live[selected]?.reply : undefined}
            >
              {diff && selected ? (
                <DiffStep row={diffRow} id={selected} runs={[diff.a, diff.b]} />
              ) : undefined}
            </Inspector>
          ) : null}
        </div>
      </div>
    </StepViewsContext.Provider>
  );
}
