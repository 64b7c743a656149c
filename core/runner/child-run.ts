// A `workflow` step's attempt on the local runner (docs/dev/scopes.md, "Runner"): the child file
// loaded and checked, then run as a run of its own in the same store (`parentId` this run,
// `parentScope` the unit), between `child_started` and `child_finished` in this run's log. The
// rules that do not depend on where it runs are in child.ts, shared with the team's workers.
import { resolve } from "node:path";
import { LineIndex } from "../model/line-index";
import { newRunId } from "../store/ids";
import { childError, childInputs, depthError } from "./child";
import { StepError } from "./errors";
import { loadWorkflow, type LoadResult } from "./load";
import { createNodeEffects } from "./node-effects";
import type { RunCore } from "./run-core";
import type { ChildCall, StepOutput } from "./steps";

/**
 * Runs the child of `unit`'s attempt: its outputs are the attempt's output; its failure fails the
 * attempt with the child step's error kind, so `retry.on` applies to it.
 */
export async function runChild(
  r: RunCore,
  unit: string,
  attempt: number,
  call: ChildCall,
  signal: AbortSignal,
): Promise<StepOutput> {
  const o = r.o;
  const depth = (o.depth ?? 0) + 1;
  const tooDeep = depthError(call.uses, depth);
  if (tooDeep) throw tooDeep;
  // A replay replays the recorded child in its place.
  const replayed = o.replay?.children;
  if (replayed) return replayed.run(unit, attempt, call, signal);
  const path = resolve(r.dir, call.uses);
  let loaded: LoadResult;
  try {
    loaded = loadWorkflow(path);
  } catch (e) {
    throw new StepError(
      "config",
      `cannot read the child workflow ${call.uses} (${path}): ${(e as Error).message}`,
    );
  }
  if (!loaded.ok) {
    const errors = loaded.diagnostics.filter((d) => d.severity === "error");
    const first = errors[0]!;
    throw new StepError(
      "config",
      `the child workflow ${call.uses} has ${errors.length} error${errors.length > 1 ? "s" : ""} (first, line ${new LineIndex(loaded.source).position(first.start).line + 1}: ${first.code} ${first.message}): run keel validate ${call.uses}`,
    );
  }
  const child = loaded.loaded;
  const inputs = childInputs(child, call);
  const childId = newRunId();
  const sourceHash = r.recorder.textBlob(child.source);
  r.outcomes.event("child_started", unit, attempt, r.now(), {
    childRun: childId,
    uses: call.uses,
    source: sourceHash,
  });
  // The child's effects may depend on what this run recorded so far.
  await r.recorder.durable();
  const parentEnv = o.env ?? {};
  const result = await r.runChildWorkflow({
    workflowPath: child.path,
    source: child.source,
    workflow: child.workflow,
    graph: child.graph,
    inputs,
    store: o.store,
    effects: o.childEffects
      ? o.childEffects(child)
      : createNodeEffects({ providers: child.workflow.providers ?? {}, dir: child.dir }),
    env: o.readEnv
      ? o.readEnv(child.envNames)
      : Object.fromEntries(child.envNames.map((n) => [n, parentEnv[n]])),
    secrets: o.secrets,
    signal,
    concurrency: o.concurrency,
    noCache: o.noCache,
    runId: childId,
    mode: "run",
    parentId: r.runId,
    parentScope: unit,
    depth,
    readEnv: o.readEnv,
    childEffects: o.childEffects,
  });
  r.outcomes.event("child_finished", unit, attempt, r.now(), {
    childRun: childId,
    status: result.status,
  });
  if (result.status === "succeeded") return { value: result.outputs ?? {} };
  const failed = result.steps.find((s) => s.status === "failed" && !s.continued);
  throw childError(childId, call.uses, {
    status: result.status,
    error: result.error,
    failed: failed?.error ? { id: failed.id, ...failed.error } : null,
  });
}
