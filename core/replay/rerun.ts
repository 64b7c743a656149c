// Rerun from a step (SPEC §6, DECISIONS §2): a new run of the workflow file on disk, linked to its
// parent, that reuses the parent's recorded output of every step not downstream of the chosen
// one (optionally replaced first), and runs that step, its descendants and any step without a
// recorded output live. It refuses when a step it would reuse, or anything that step depends on,
// changed since the parent run (the caller may force it).
import { withAncestors, withDescendants } from "../graph/graph";
import type { LoadedWorkflow } from "../runner/load";
import { loadWorkflowText } from "../runner/load";
import { stepChanged } from "../runner/step-run";
import type { ReusedStep } from "../runner/types";
import { foldToEnd } from "./fold";
import type { RecordedRun } from "./record";

export type RerunPlan =
  | {
      readonly ok: true;
      readonly reuse: Map<string, ReusedStep>;
      /** Steps that will execute, in topological order. */
      readonly live: readonly string[];
      /** The `http`, `shell` and `tool` steps among them: they touch the world again. */
      readonly effectful: readonly string[];
      /** The reused steps that changed since the parent (only when forced). */
      readonly changed: readonly string[];
    }
  | { readonly ok: false; readonly problem: string };

export function planRerun(
  record: RecordedRun,
  loaded: LoadedWorkflow,
  from: string,
  set: ReadonlyMap<string, unknown>,
  force = false,
): RerunPlan {
  const graph = loaded.graph;
  if (!graph.deps.has(from)) return { ok: false, problem: `no step '${from}' in the workflow` };
  const downstream = withDescendants(graph, from);
  const fold = foldToEnd(record.events, record.attempts);
  const reuse = new Map<string, ReusedStep>();
  for (const id of graph.order) {
    if (downstream.has(id)) continue;
    const output = fold.step(id)?.output;
    if (output != null)
      reuse.set(id, { output: record.value(output) ?? null, sourceRunId: record.run.id });
  }
  for (const [id, value] of set) {
    if (!graph.deps.has(id))
      return { ok: false, problem: `--set names no step of the workflow: '${id}'` };
    if (downstream.has(id))
      return {
        ok: false,
        problem: `--set ${id}: '${id}' runs again (it is downstream of '${from}'), so its output cannot be set`,
      };
    reuse.set(id, { output: value, sourceRunId: record.run.id });
  }
  const changed = changedReused(record, loaded, reuse.keys());
  if (changed.length > 0 && !force) {
    return {
      ok: false,
      problem: `step '${changed[0]}' changed since run ${record.run.id}, and '${from}' would reuse its recorded output or depend on it: rerun from an earlier step, or pass --force`,
    };
  }
  const live = graph.order.filter((id) => !reuse.has(id));
  const effectful = live.filter((id) =>
    ["http", "shell", "tool"].includes(loaded.workflow.steps[id]?.type ?? ""),
  );
  return { ok: true, reuse, live, effectful, changed };
}

/** Reused steps, and the steps they depend on, whose definitions differ from the parent's source. */
function changedReused(
  record: RecordedRun,
  loaded: LoadedWorkflow,
  reused: Iterable<string>,
): string[] {
  if (record.source === loaded.source) return [];
  const before = loadWorkflowText(loaded.path, record.source);
  const all = new Set<string>();
  for (const id of reused) for (const a of withAncestors(loaded.graph, id)) all.add(a);
  const ids = loaded.graph.order.filter((id) => all.has(id));
  if (!before.ok) return ids.slice(0, 1);
  return ids.filter((id) => stepChanged(before.loaded.workflow, loaded.workflow, id));
}
