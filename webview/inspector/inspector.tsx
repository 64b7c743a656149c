// The selected step as it was at the stepper's position: state, attempts with their errors,
// provider metadata and what a tool printed, the resolved input and the output (JSON, collapsible).
import { useEffect, useState, type ReactNode } from "react";
import type { RunFold, StepAt } from "@keel/core/record/fold";
import type { AttemptRecord } from "@keel/core/record/records";
import { inlineValue } from "@keel/core/record/refs";
import { post } from "../channel";
import { durationOf } from "../stepper/recording";
import { UnitList, unitName } from "./unit-list";

/** Values fetched from the host by reference, shared by every inspector render. */
const values = new Map<string, string | null>();
const requested = new Set<string>();
const waiting = new Set<() => void>();

export function valueArrived(ref: string, text: string | null): void {
  values.set(ref, text);
  for (const wake of [...waiting]) wake();
}

function useValue(ref: string | null): string | null | undefined {
  const [, redraw] = useState(0);
  useEffect(() => {
    const wake = () => redraw((n) => n + 1);
    waiting.add(wake);
    return () => void waiting.delete(wake);
  }, []);
  if (ref === null) return null;
  const inline = inlineValue(ref);
  if (inline !== undefined) return inline;
  if (!values.has(ref) && !requested.has(ref)) {
    requested.add(ref);
    post({ type: "value", ref });
  }
  return values.has(ref) ? values.get(ref)! : undefined;
}

function pretty(text: string | null | undefined): string {
  if (text === undefined) return "loading…";
  if (text === null) return "(not in the store)";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function Value(props: { label: string; valueRef: string | null; open?: boolean }) {
  const text = useValue(props.valueRef);
  if (props.valueRef === null) return null;
  return (
    <details open={props.open ?? true} className="keel-value">
      <summary>{props.label}</summary>
      <pre>{pretty(text)}</pre>
    </details>
  );
}

function Attempt(props: { a: AttemptRecord }) {
  const { a } = props;
  const meta = a.meta ?? {};
  const facts = [
    a.status,
    a.origin !== "live" ? a.origin : "",
    `${Math.max(0, Date.parse(a.endedAt) - Date.parse(a.startedAt))} ms`,
    typeof meta.provider === "string" ? `provider ${meta.provider}` : "",
    typeof meta.model === "string" ? `model ${meta.model}` : "",
    typeof meta.fingerprint === "string" ? `fingerprint ${meta.fingerprint}` : "",
    typeof meta.costUsd === "number" ? `$${meta.costUsd.toFixed(6)}` : "",
  ].filter(Boolean);
  const usage = meta.usage as { input?: number; output?: number } | undefined;
  if (usage) facts.push(`tokens ${usage.input ?? "?"} in / ${usage.output ?? "?"} out`);
  return (
    <li className={`keel-attempt attempt-${a.status}`}>
      <div>
        attempt {a.attempt}: {facts.join(" · ")}
      </div>
      {a.errorKind ? (
        <div className="keel-error">
          {a.errorKind}: {a.errorMessage}
        </div>
      ) : null}
      {typeof meta.log === "string" ? (
        <details className="keel-value keel-log" open>
          <summary>printed</summary>
          <pre>{meta.log}</pre>
        </details>
      ) : null}
    </li>
  );
}

/** The child run a workflow step (or one of its items or iterations) started, and a way to it. */
function ChildRun(props: { id: string }) {
  return (
    <p className="keel-child">
      child run <code title={props.id}>{props.id}</code>
      <button
        type="button"
        title="Show this child run in its workflow's graph, with a way back here"
        onClick={() => post({ type: "open", runId: props.id })}
      >
        Open child run
      </button>
    </p>
  );
}

/** What can be done with the selected step: run it, run up to it, rerun the shown run from it. */
function Actions(props: { id: string; runId: string | undefined }) {
  const { id, runId } = props;
  return (
    <div className="keel-actions" role="group" aria-label={`Actions for ${id}`}>
      <button type="button" onClick={() => post({ type: "run", what: "step", id })}>
        Run step
      </button>
      <button type="button" onClick={() => post({ type: "run", what: "to", id })}>
        Run up to here
      </button>
      {runId !== undefined ? (
        <button
          type="button"
          title={`A new run from ${id}, reusing run ${runId.slice(-8)}'s other outputs`}
          onClick={() => post({ type: "rerun", runId, from: id })}
        >
          Rerun from here
        </button>
      ) : null}
    </div>
  );
}

export interface InspectorProps {
  /** The selected step, if any. */
  readonly id: string | null;
  /** The recorded run shown, with the selected step's state at the step-through's position. */
  readonly fold?: RunFold;
  readonly step?: StepAt;
  readonly runId?: string;
  /** The item or iteration chosen in the selected step's list, or on its node (its unit key). */
  readonly chosen?: string | null;
  readonly choose?: (key: string) => void;
  /** Shown instead of the recorded state (diff mode). */
  readonly children?: ReactNode;
  /** A live run's streamed step: its reply so far, growing as chunks arrive. */
  readonly reply?: string;
  /** The selected step is an agent: its units are turns and tool calls. */
  readonly agent?: boolean;
}

export function Inspector(props: InspectorProps) {
  const { fold, step, id, chosen = null, choose = () => {} } = props;
  if (id === null) {
    return (
      <aside className="keel-inspector" aria-label="Step inspector">
        <p className="keel-hint">Select a step to see its input, output and attempts.</p>
      </aside>
    );
  }
  return (
    <aside className="keel-inspector" aria-label={`Step ${id}`}>
      <h2>{id}</h2>
      <Actions id={id} runId={props.runId} />
      {props.children ??
        (step ? (
          <>
            <StepState fold={fold} step={step} />
            {fold ? (
              <Units
                fold={fold}
                step={step}
                chosen={chosen}
                choose={choose}
                agent={props.agent ?? false}
              />
            ) : null}
          </>
        ) : null)}
      {props.reply !== undefined ? (
        <details open className="keel-value keel-reply">
          <summary>Reply so far</summary>
          <pre aria-live="polite">{props.reply}</pre>
        </details>
      ) : null}
    </aside>
  );
}

function StepState(props: { fold: RunFold | undefined; step: StepAt }) {
  const { fold, step } = props;
  // A map's or loop's own input and output (its list, its last iteration's) start folded: its
  // items or iterations, listed under them, are what it is opened for.
  const open = step.tally === null;
  // The attempts that had ended at this position.
  const attempts: AttemptRecord[] = [];
  for (let n = 1; fold && n <= (step.attempt?.attempt ?? 0); n++) {
    const a = fold.attemptOf(step.id, n);
    if (a) attempts.push(a);
  }
  const shown = step.attempt ?? attempts.at(-1) ?? null;
  const ms = durationOf(step);
  return (
    <>
      <p className={`keel-status status-${step.status}`}>
        {step.status}
        {step.origin && step.origin !== "live" ? ` · ${step.origin}` : ""}
        {ms !== undefined ? ` · ${ms} ms` : ""}
        {step.continued ? " · continued" : ""}
      </p>
      {step.childRun ? <ChildRun id={step.childRun} /> : null}
      {step.error ? (
        <p className="keel-error">
          {step.error.kind}: {step.error.message}
        </p>
      ) : null}
      {attempts.length > 0 ? (
        <ul className="keel-attempts">
          {attempts.map((a) => (
            <Attempt key={a.attempt} a={a} />
          ))}
        </ul>
      ) : null}
      <Value label="Resolved input" valueRef={shown?.inputHash ?? null} open={open} />
      <Value label="Output" valueRef={step.output} open={open} />
    </>
  );
}

/** A step's items or iterations known at this position, and the chosen one as a step is shown. */
function Units(props: {
  fold: RunFold;
  step: StepAt;
  chosen: string | null;
  choose: (key: string) => void;
  agent: boolean;
}) {
  const { fold, step, chosen } = props;
  const keys = fold.unitKeys(step.id);
  if (keys.length === 0) return null;
  const unit = chosen !== null ? fold.unit(chosen) : undefined;
  const refused = unit && props.agent ? refusedCall(fold, step.id, unit) : undefined;
  return (
    <>
      <UnitList
        step={step}
        keys={keys}
        fold={fold}
        chosen={chosen}
        choose={props.choose}
        agent={props.agent}
      />
      {unit ? (
        <section className="keel-unit" aria-label={`${step.id} ${unitName(unit) ?? ""}`}>
          <h3>{unit.id}</h3>
          <StepState fold={fold} step={unit} />
          {refused ? <SentArguments turnOutput={refused.turnOutput} index={refused.index} /> : null}
        </section>
      ) : null}
    </>
  );
}

/**
 * An agent's tool call that was never run (invalid_arguments) has no attempt, so no resolved
 * input: what the model sent is in its turn's output, the assistant's `tool_calls[index]`.
 */
function refusedCall(
  fold: RunFold,
  stepId: string,
  unit: StepAt,
): { turnOutput: string; index: number } | undefined {
  if (unit.attempts > 0 || unit.error?.kind !== "invalid_arguments") return undefined;
  const m = /^#(\d+)\/[^/]+\.(\d+)$/.exec(unit.scope ?? "");
  const turnOutput = m ? fold.unit(`${stepId}#${m[1]}`)?.output : null;
  return m && turnOutput ? { turnOutput, index: Number(m[2]) } : undefined;
}

/** The tool call as the model sent it (name and raw arguments), read from its turn's output. */
function SentArguments(props: { turnOutput: string; index: number }) {
  const text = useValue(props.turnOutput);
  let shown: string | null | undefined = text;
  if (typeof text === "string") {
    try {
      const call = (JSON.parse(text) as { tool_calls?: { name?: unknown; arguments?: unknown }[] })
        .tool_calls?.[props.index];
      shown = call ? JSON.stringify({ name: call.name, arguments: call.arguments }) : null;
    } catch {
      shown = null;
    }
  }
  return (
    <details open className="keel-value keel-sent">
      <summary>Sent by the model (refused)</summary>
      <pre>{pretty(shown)}</pre>
    </details>
  );
}
