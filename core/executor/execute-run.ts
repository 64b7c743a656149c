// A run as a worker executes it: started with the id the submitter chose, or, when the record
// already has it (the worker that had it died and DBOS handed the run to this one), resumed from
// what was recorded, as `keel resume` does: steps that had ended are kept (their record was
// committed exactly once), steps that were in flight run again (at least once).
// Invariant: the run's record is written only through the RunStore; running the same spec twice
// never records a step twice (a second writer of a run is refused by the store).
import { loadWorkflowText, type LoadedWorkflow } from "../runner/load";
import { loadResumePoint } from "../runner/resume";
import { runWorkflow } from "../runner/run";
import { createNodeEffects } from "../runner/node-effects";
import type { RunStore } from "../store/run-store";
import type { RunSpec } from "./executor";

export interface ExecuteOptions {
  readonly store: RunStore;
  /** The secrets a workflow reads, from the worker's own environment; throws when one is missing. */
  readonly secrets: (names: readonly string[]) => Record<string, string>;
  readonly signal?: AbortSignal;
}

export interface Executed {
  readonly runId: string;
  readonly status: string;
  /** True when the run was already recorded: this worker continued it. */
  readonly resumed: boolean;
}

export async function executeRun(spec: RunSpec, o: ExecuteOptions): Promise<Executed> {
  const recorded = await o.store.getRun(spec.runId);
  if (recorded && recorded.status !== "running") {
    return { runId: spec.runId, status: recorded.status, resumed: false };
  }
  if (!recorded) {
    const loaded = load(spec.workflowPath, spec.source);
    const result = await runWorkflow({
      ...common(loaded, o),
      runId: spec.runId,
      inputs: spec.inputs,
      env: spec.env,
      concurrency: spec.concurrency,
      noCache: spec.noCache,
    });
    return { runId: result.runId, status: result.status, resumed: false };
  }
  const point = await loadResumePoint(o.store, spec.runId);
  if (!point) throw new Error(`run ${spec.runId} vanished from the store`);
  const loaded = load(point.run.workflowPath, point.source);
  const result = await runWorkflow({
    ...common(loaded, o),
    inputs: point.inputs,
    env: point.env,
    resume: point.point,
    concurrency: spec.concurrency,
    noCache: spec.noCache,
  });
  return { runId: result.runId, status: result.status, resumed: true };
}

function load(path: string, source: string): LoadedWorkflow {
  const result = loadWorkflowText(path, source);
  if (!result.ok) {
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    throw new Error(
      `the workflow does not validate on this worker (${errors.map((d) => `${d.code} ${d.message}`).join("; ")}): a tool module may be missing here`,
    );
  }
  return result.loaded;
}

function common(loaded: LoadedWorkflow, o: ExecuteOptions) {
  return {
    workflowPath: loaded.path,
    source: loaded.source,
    workflow: loaded.workflow,
    graph: loaded.graph,
    store: o.store,
    effects: createNodeEffects({ providers: loaded.workflow.providers ?? {}, dir: loaded.dir }),
    secrets: o.secrets(loaded.secretNames),
    signal: o.signal,
  };
}
