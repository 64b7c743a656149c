// The rules of a child run (a `workflow` step's attempt, docs/dev/scopes.md) that do not depend on
// where it runs: how deep children nest, the inputs its `with` gives, and what a child that did
// not succeed fails its attempt with. The workers' scheduler (core/executor/dbos-run.ts) takes
// them from here.
import type { LoadedWorkflow } from "./load";
import type { RunStatus } from "../record/records";
import { StepError, type ErrorKind } from "./errors";
import { resolveInputs } from "./inputs";
import type { ChildCall } from "./steps";

/** How deep child workflows may nest: deeper is taken for a workflow that uses itself. */
export const MAX_CHILD_DEPTH = 8;

/** The error of a child that would nest deeper than MAX_CHILD_DEPTH; undefined when it may run. */
export function depthError(uses: string, depth: number): StepError | undefined {
  if (depth <= MAX_CHILD_DEPTH) return undefined;
  return new StepError(
    "config",
    `${uses}: child workflows nest more than ${MAX_CHILD_DEPTH} deep; a workflow that uses itself never ends`,
  );
}

/** A child's inputs: what `with` gives, checked like `--input` is, with the child's defaults. */
export function childInputs(
  child: Pick<LoadedWorkflow, "workflow">,
  call: ChildCall,
): Record<string, unknown> {
  const resolved = resolveInputs(child.workflow, call.inputs, []);
  if (resolved.problems.length > 0)
    throw new StepError(
      "config",
      `the inputs given to ${call.uses} do not fit it: ${resolved.problems.map((p) => p.replace("in the inputs file", "in `with`")).join("; ")}`,
    );
  return resolved.inputs;
}

/** How a child run ended, as its parent needs it. */
export interface ChildEnd {
  readonly status: RunStatus;
  readonly error?: string | null;
  /** The first step that failed it (not continued past), with its error. */
  readonly failed?: {
    readonly id: string;
    readonly kind: ErrorKind;
    readonly message: string;
  } | null;
}

/**
 * What a child run that did not succeed fails its attempt with: a cancel, else the failed child
 * step's error kind (so the parent step's `retry.on` applies) and where it failed.
 */
export function childError(childRun: string, uses: string, end: ChildEnd): StepError {
  if (end.status === "cancelled") return new StepError("cancelled", "the run was cancelled");
  const f = end.failed;
  return new StepError(
    f?.kind ?? "config",
    `the child run ${childRun} of ${uses} failed${f ? ` at step '${f.id}': ${f.message}` : `: ${end.error ?? ""}`}`,
  );
}
