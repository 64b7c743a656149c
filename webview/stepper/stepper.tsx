// The step-through bar: back and forth by event, to the start or the end, to the next failure,
// a scrubber over the whole log. Keyboard: ← → one event, Home End, F the next failure.
import { useEffect } from "react";
import type { EventRecord } from "@keel/core/record/records";
import { describe } from "./recording";

export interface StepperProps {
  readonly position: number;
  readonly length: number;
  readonly current: EventRecord | undefined;
  readonly runId: string;
  readonly runStatus: string;
  readonly seek: (k: number) => void;
  readonly nextFailure: () => number;
  /** Opens this moment in VS Code's debugger (or moves the session that follows the panel). */
  readonly debugHere: () => void;
  /** A replay debugger session drives the step-through. */
  readonly following: boolean;
}

export function Stepper(p: StepperProps) {
  const last = p.length - 1;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented) return;
      if (e.target instanceof HTMLInputElement && e.target.type !== "range") return;
      if (e.key === "ArrowRight") p.seek(p.position + 1);
      else if (e.key === "ArrowLeft") p.seek(p.position - 1);
      else if (e.key === "Home") p.seek(-1);
      else if (e.key === "End") p.seek(last);
      else if (e.key === "f" || e.key === "F") {
        const k = p.nextFailure();
        if (k >= 0) p.seek(k);
      } else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [p, last]);
  const failure = p.nextFailure();
  return (
    <div className="keel-stepper" role="toolbar" aria-label="Step through the recorded run">
      <button
        onClick={() => p.seek(-1)}
        disabled={p.position < 0}
        title="To the start (Home)"
        aria-label="To the start"
      >
        |◀
      </button>
      <button
        onClick={() => p.seek(p.position - 1)}
        disabled={p.position < 0}
        title="Back one event (←)"
        aria-label="Back one event"
      >
        ◀
      </button>
      <button
        onClick={() => p.seek(p.position + 1)}
        disabled={p.position >= last}
        title="Forward one event (→)"
        aria-label="Forward one event"
      >
        ▶
      </button>
      <button
        onClick={() => p.seek(last)}
        disabled={p.position >= last}
        title="To the end (End)"
        aria-label="To the end"
      >
        ▶|
      </button>
      <button
        onClick={() => failure >= 0 && p.seek(failure)}
        disabled={failure < 0}
        title="Next failure (F)"
        aria-label="Next failure"
      >
        ⚠ next failure
      </button>
      <input
        type="range"
        min={-1}
        max={last}
        value={p.position}
        aria-label="Position in the run's log"
        onChange={(e) => p.seek(Number(e.target.value))}
      />
      <span className="keel-position" aria-live="polite">
        {p.position + 1}/{p.length} · {describe(p.current)}
      </span>
      <button
        onClick={p.debugHere}
        title="Step through this run in VS Code's debugger from this event"
        aria-label="Debug from here"
      >
        Debug from here
      </button>
      {p.following ? (
        <span
          className="keel-following"
          title="The replay debugger moves this view, and these controls move it"
        >
          following the debugger
        </span>
      ) : null}
      <span className="keel-run" title={p.runId}>
        run {p.runId.slice(-8)} · {p.runStatus}
      </span>
    </div>
  );
}
