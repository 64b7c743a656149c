// The rules behind `if` (docs/runner.md, "Conditions"): a dependency counts as satisfied when it
// succeeded or failed with `on_error: continue`; a dependency skipped because its branch was not
// taken (its own `if` was false) does not block a join, one skipped after a failure does;
// `$failure()` looks at every ancestor.
import type { StepGraph } from "../graph/graph";

/** Keel's status functions; an `if` that calls none of them also needs `$success()`. */
export const STATUS_FUNCTIONS = ["always", "success", "failure", "cancelled"] as const;

export function satisfied(state: { status: string; continued: boolean }): boolean {
  return state.status === "succeeded" || (state.status === "failed" && state.continued);
}

/** A step's state as the rules read it; `blocked` is worked out once for a skipped step. */
export interface ConditionState {
  readonly status: string;
  readonly continued: boolean;
  /** For a skipped step: true when a failure or a cancel upstream skipped it, false when a branch was not taken. */
  blocked?: boolean;
}

/**
 * The implicit condition of a step (and `$success()`): no dependency failed (without
 * `on_error: continue`), was cancelled or was skipped after a failure, and at least one
 * dependency ran, unless the step has none. A dependency skipped because its branch was not taken
 * does not block: a step that joins exclusive branches runs on the one that ran.
 */
export function dependenciesAllow(
  graph: StepGraph,
  states: ReadonlyMap<string, ConditionState>,
  id: string,
): boolean {
  const deps = graph.deps.get(id)!;
  let ran = deps.length === 0;
  for (const d of deps) {
    const s = states.get(d)!;
    if (satisfied(s)) ran = true;
    else if (s.status !== "skipped" || skippedAfterFailure(graph, states, d)) return false;
  }
  return ran;
}

/**
 * Whether skipped step `id` was skipped because something upstream failed or was cancelled (true),
 * rather than because its branch was not taken (false): its own `if` was false, or none of its
 * dependencies ran. Worked out from its dependencies' final states, and kept on the state.
 */
export function skippedAfterFailure(
  graph: StepGraph,
  states: ReadonlyMap<string, ConditionState>,
  id: string,
): boolean {
  const state = states.get(id)!;
  if (state.blocked !== undefined) return state.blocked;
  let blocked = false;
  for (const d of graph.deps.get(id)!) {
    const s = states.get(d)!;
    if (
      (s.status === "failed" && !s.continued) ||
      s.status === "cancelled" ||
      (s.status === "skipped" && skippedAfterFailure(graph, states, d))
    ) {
      blocked = true;
      break;
    }
  }
  state.blocked = blocked;
  return blocked;
}

/** Every step `id` depends on, directly or not. */
export function ancestorsOf(graph: StepGraph, id: string): string[] {
  const seen = new Set<string>();
  const stack = [...graph.deps.get(id)!];
  while (stack.length > 0) {
    const d = stack.pop()!;
    if (seen.has(d)) continue;
    seen.add(d);
    stack.push(...graph.deps.get(d)!);
  }
  return [...seen];
}
