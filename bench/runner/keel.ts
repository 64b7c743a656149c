// Keel's side of the runner benchmark: the generated workflow is written to a temp folder and
// loaded (validated) once, untimed; each timed run is `runWorkflow` with full recording into the
// process's SQLite store, where every run creates its own rows (transform and tool steps do not
// cache by default, so no run is answered from another's records).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Effects } from "@keel/core/runner/effects";
import { loadWorkflow, type LoadedWorkflow } from "@keel/core/runner/load";
import { createNodeEffects } from "@keel/core/runner/node-effects";
import { runWorkflow, type RunResult } from "@keel/core/runner/run";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import type { RunStore } from "@keel/core/store/run-store";
import { NOOP_MODULE, workflowYaml, type Dag } from "./shapes";

export type KeelKind = "transform" | "effect";

export interface Prepared {
  readonly loaded: LoadedWorkflow;
  readonly dir: string;
  /** One store per process, as `keel run` and the editor have: every run adds its own rows. */
  readonly store: RunStore;
}

export function prepareKeel(dag: Dag, kind: KeelKind): Prepared {
  const dir = mkdtempSync(join(tmpdir(), "keel-runner-bench-"));
  const path = join(dir, `${dag.shape}-${dag.n}.keel.yaml`);
  writeFileSync(path, workflowYaml(dag, kind));
  // A real module, so that validation's static check of `uses:` finds the export.
  writeFileSync(join(dir, "noop.js"), NOOP_MODULE);
  const r = loadWorkflow(path);
  if (!r.ok) {
    const first = r.diagnostics.filter((d) => d.severity === "error").slice(0, 3);
    throw new Error(`invalid workflow: ${first.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  }
  return { loaded: r.loaded, dir, store: openSqliteStore(join(dir, "runs.sqlite")) };
}

/**
 * The bench-only "in-process no-op effect" of docs/benchmarks.md ("Runner (#4)"): `tool()` answers
 * at once, without the worker thread the real Node effects start, so the effect chain measures the
 * executor, the recording and the commit that must precede every effect, not a thread start-up.
 */
function noopToolEffects(base: Effects): Effects {
  return {
    ...base,
    tool: (call) => Promise.resolve((call.args as { x: number }).x + 1),
  };
}

/** One timed `runWorkflow` of a loaded workflow, no inputs; throws unless the run succeeded. */
export async function runLoaded(
  loaded: LoadedWorkflow,
  store: RunStore,
  effects: Effects,
): Promise<{ ms: number; result: RunResult }> {
  const start = performance.now();
  const result = await runWorkflow({
    workflowPath: loaded.path,
    source: loaded.source,
    workflow: loaded.workflow,
    graph: loaded.graph,
    inputs: {},
    store,
    effects,
  });
  const ms = performance.now() - start;
  if (result.status !== "succeeded")
    throw new Error(`run ${result.status}: ${result.error ?? "no error"}`);
  return { ms, result };
}

/** One timed run; throws unless it succeeded, recorded N `step_succeeded` and computed `expected`. */
export async function runKeelOnce(p: Prepared, dag: Dag, kind: KeelKind): Promise<number> {
  const { loaded, store } = p;
  const base = createNodeEffects({ providers: loaded.workflow.providers ?? {}, dir: loaded.dir });
  const effects = kind === "effect" ? noopToolEffects(base) : base;
  const { ms, result } = await runLoaded(loaded, store, effects);
  const succeeded = (await store.events(result.runId)).filter(
    (e) => e.type === "step_succeeded",
  ).length;
  if (succeeded !== dag.n) throw new Error(`${succeeded} step_succeeded events, not ${dag.n}`);
  const final = result.outputs?.final;
  if (final !== dag.expected) throw new Error(`final value ${String(final)}, not ${dag.expected}`);
  return ms;
}
