// What a step's expressions see, and whether the step runs: shared by the local scheduler
// (run.ts) and the distributed one (core/executor/dbos-run.ts), so that both decide alike.
import type { Step } from "../model/schema";
import type { StepGraph } from "../graph/graph";
import { ancestorsOf, dependenciesAllow, STATUS_FUNCTIONS } from "./conditions";
import { evaluateBare, type ExprScope } from "../expr/evaluate";
import type { StepState } from "./types";

/** What every step of a run sees besides its dependencies. */
export interface RunContext {
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly run: { readonly id: string; readonly started_at: string };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly secrets: Readonly<Record<string, string>>;
}

export interface ScopeSource {
  readonly graph: StepGraph;
  readonly states: ReadonlyMap<string, StepState>;
  readonly context: RunContext;
  /** True once the run was cancelled. */
  cancelled(): boolean;
}

/**
 * A step as its dependents' expressions see it: `{ output, status }`, made once. Only steps
 * that have ended are seen, and an ended step's state does not change again.
 */
export function viewOf(state: StepState): { output: unknown; status: string } {
  if (state.view) return state.view;
  const view: NonNullable<StepState["view"]> = { output: state.output, status: state.status };
  if (state.items) view.items = state.items;
  if (state.iterations) view.iterations = state.iterations;
  if (state.turns) view.turns = state.turns;
  if (state.stopReason) view.stop_reason = state.stopReason;
  return (state.view = view);
}

export function contextWith(
  c: RunContext,
  steps: Record<string, unknown>,
): Record<string, unknown> {
  return { inputs: c.inputs, steps, run: c.run, env: c.env, secrets: c.secrets };
}

/** The views of a step's dependencies, by id. */
export function dependencyViews(src: ScopeSource, id: string): Record<string, unknown> {
  // A prototype-less object is a hash table to V8 from the start: every step has other keys,
  // and an ordinary object would make a new hidden class for each, slower as the run grows.
  const steps = Object.create(null) as Record<string, unknown>;
  for (const d of src.graph.deps.get(id)!) steps[d] = viewOf(src.states.get(d)!);
  return steps;
}

/** What expressions of step `id` see, with Keel's status functions. */
export function scopeFor(src: ScopeSource, id: string): ExprScope {
  const context = contextWith(src.context, dependencyViews(src, id));
  // Only `$failure()` needs the ancestors: find them when it is called, not for every step.
  let ancestors: string[] | undefined;
  return {
    context,
    bindings: {
      always: () => true,
      success: () => dependenciesAllow(src.graph, src.states, id),
      failure: () =>
        (ancestors ??= ancestorsOf(src.graph, id)).some(
          (a) => src.states.get(a)!.status === "failed",
        ),
      cancelled: () => src.cancelled(),
    },
  };
}

/**
 * The `if` rule (docs/runner.md, "Conditions"): implicit `$success()` (conditions.ts
 * dependenciesAllow); a failed dependency, or one skipped after a failure, skips unless
 * `$always()`/`$failure()`; a join runs on the branch that ran.
 */
export async function shouldRun(
  src: ScopeSource,
  id: string,
  step: Step,
  scope: ExprScope,
): Promise<boolean> {
  const success = dependenciesAllow(src.graph, src.states, id);
  if (step.if === undefined) return success && !src.cancelled();
  const text = String(step.if);
  const calls = STATUS_FUNCTIONS.filter((f) => text.includes(`$${f}(`));
  const value = await evaluateBare(step.if, scope);
  if (calls.length === 0) return success && !src.cancelled() && value === true;
  return value === true;
}

/** The scope with more names beside the step's (`item`, `index`, `iteration`, `previous`, `output`). */
export function withNames(scope: ExprScope, names: Record<string, unknown>): ExprScope {
  return { ...scope, context: { ...scope.context, ...names } };
}
