// The rules of a `repeat` (docs/format.md, "Maps, child workflows and loops") that do not depend
// on where it runs: what iteration n runs with and sees, and how a loop that does not end well
// fails. The workers' scheduler (core/executor/dbos-run.ts) takes them from here.
import type { Step } from "../model/schema";
import { StepError } from "./errors";
import type { StepState } from "./types";

export type WorkflowStep = Extract<Step, { type: "workflow" }>;
export type Repeat = NonNullable<WorkflowStep["repeat"]>;

/** The step as iteration n runs it: the first with the step's `with`, the next with `repeat.with`. */
export function iterationStep(step: WorkflowStep, repeat: Repeat, n: number): WorkflowStep {
  return n === 1 ? step : { ...step, with: repeat.with ?? step.with };
}

/** What iteration n's expressions see beside the step's: its number and the one before. */
export function iterationNames(n: number, outputs: readonly unknown[]): Record<string, unknown> {
  return { iteration: n, previous: n === 1 ? null : { output: outputs.at(-1) } };
}

/** The loop's failure when iteration n did not succeed, naming it. */
export function iterationError(n: number, state: Pick<StepState, "error">): StepError {
  const why = state.error ?? { kind: "config" as const, message: "did not succeed" };
  return new StepError(why.kind, `iteration ${n}: ${why.message}`);
}

/** The loop's failure when `until` never held within `max` iterations (`on_max: fail`). */
export function untilNeverHeld(repeat: Repeat): StepError {
  return new StepError(
    "max_iterations",
    `\`until\` was still not true after ${repeat.max} iterations (\`${String(repeat.until)}\`): raise repeat.max, or set on_max: last to keep the last iteration's output`,
  );
}
