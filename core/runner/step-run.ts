// `keel run --step S` (docs/cli.md, "keel run"): S runs on the recorded outputs of its
// dependencies, taken from the newest run of the same workflow in which every one of them has an
// output. It refuses when there is none, or when a step S depends on changed since that run. Runs'
// logs are read by the one reader of logs (core/record/fold.ts).
import { withAncestors } from "../graph/graph";
import type { Workflow } from "../model/schema";
import type { RunRecord } from "../record/records";
import type { RunStore } from "../store/run-store";
import type { LoadedWorkflow } from "./load";
import { loadWorkflowText } from "./load";
import type { ReusedStep } from "./types";
import { foldToEnd } from "../record/fold";

export type StepRunPlan =
  | {
      readonly ok: true;
      readonly parent: RunRecord;
      readonly inputs: Record<string, unknown>;
      readonly reuse: Map<string, ReusedStep>;
    }
  | { readonly ok: false; readonly problem: string };

export async function planStepRun(
  store: RunStore,
  loaded: LoadedWorkflow,
  stepId: string,
): Promise<StepRunPlan> {
  const deps = loaded.graph.deps.get(stepId) ?? [];
  const runs = await store.listRuns({ workflowPath: loaded.path, limit: 100 });
  for (const run of runs) {
    const fold = foldToEnd(await store.events(run.id));
    if (!deps.every((d) => fold.step(d)?.status === "succeeded")) continue;
    const changed = await changedUpstream(store, run, loaded, stepId);
    if (changed) {
      return {
        ok: false,
        problem: `step '${changed}', which '${stepId}' depends on, changed since run ${run.id}: run everything it needs with --to ${stepId}`,
      };
    }
    const reuse = new Map<string, ReusedStep>();
    for (const d of deps) {
      const ref = fold.step(d)!.output;
      const text = ref === null ? undefined : await store.blob(ref);
      reuse.set(d, {
        output: text === undefined ? null : (JSON.parse(text) as unknown),
        sourceRunId: run.id,
      });
    }
    const inputs = JSON.parse((await store.blob(run.inputsHash)) ?? "{}") as Record<
      string,
      unknown
    >;
    return { ok: true, parent: run, inputs, reuse };
  }
  return {
    ok: false,
    problem: `no recorded run of this workflow has outputs for every step '${stepId}' needs (${deps.join(", ") || "none"}): run them with --to ${stepId}`,
  };
}

/** The first step upstream of `stepId` whose definition (or provider) differs from the run's source. */
async function changedUpstream(
  store: RunStore,
  run: RunRecord,
  loaded: LoadedWorkflow,
  stepId: string,
): Promise<string | undefined> {
  const source = await store.blob(run.sourceHash);
  if (source === undefined) return stepId;
  if (source === loaded.source) return undefined;
  const recorded = loadWorkflowText(loaded.path, source);
  if (!recorded.ok) return stepId;
  for (const id of withAncestors(loaded.graph, stepId)) {
    if (id !== stepId && stepChanged(recorded.loaded.workflow, loaded.workflow, id)) return id;
  }
  return undefined;
}

/** True when step `id`'s definition (or, for a model call, its provider's) differs between two versions. */
export function stepChanged(before: Workflow, now: Workflow, id: string): boolean {
  const a = before.steps[id];
  const b = now.steps[id];
  if (JSON.stringify(a) !== JSON.stringify(b)) return true;
  if (b?.type !== "llm") return false;
  const provider = b.provider ?? now.defaults?.provider;
  return (
    provider !== undefined &&
    JSON.stringify(before.providers?.[provider]) !== JSON.stringify(now.providers?.[provider])
  );
}
