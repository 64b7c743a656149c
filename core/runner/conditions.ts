// The rules behind `if` (DECISIONS §2): a dependency counts as satisfied when it succeeded or
// failed with `on_error: continue`; `$failure()` looks at every ancestor.
import type { StepGraph } from "../graph/graph";

/** Keel's status functions; an `if` that calls none of them also needs `$success()`. */
export const STATUS_FUNCTIONS = ["always", "success", "failure", "cancelled"] as const;

export function satisfied(state: { status: string; continued: boolean }): boolean {
  return state.status === "succeeded" || (state.status === "failed" && state.continued);
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
