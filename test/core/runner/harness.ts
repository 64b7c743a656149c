// Runs workflow text end to end for tests: writes it to a temp folder, validates, runs it with the
// real Node effects (or a wrapper of them) against a given store.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadWorkflow, type LoadedWorkflow } from "@keel/core/runner/load";
import { runWorkflow, type RunOptions, type RunResult } from "@keel/core/runner/run";
import { createNodeEffects } from "@keel/core/runner/node-effects";
import type { Effects } from "@keel/core/runner/effects";
import { MemoryStore } from "@keel/core/store/memory-store";
import type { RunStore } from "@keel/core/store/run-store";

export function writeWorkflow(text: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "keel-run-"));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const path = join(dir, "flow.keel.yaml");
  writeFileSync(path, text);
  return path;
}

export function load(path: string): LoadedWorkflow {
  const r = loadWorkflow(path);
  if (!r.ok)
    throw new Error(
      `invalid workflow: ${r.diagnostics.map((d) => `${d.code} ${d.message}`).join("; ")}`,
    );
  return r.loaded;
}

export interface TestRun {
  readonly result: RunResult;
  readonly store: RunStore;
  readonly loaded: LoadedWorkflow;
}

export async function runText(
  text: string,
  options: Partial<RunOptions> & {
    wrap?: (e: Effects) => Effects;
    files?: Record<string, string>;
    path?: string;
  } = {},
): Promise<TestRun> {
  const path = options.path ?? writeWorkflow(text, options.files);
  const loaded = load(path);
  const store = options.store ?? new MemoryStore();
  const base = createNodeEffects({ providers: loaded.workflow.providers ?? {}, dir: loaded.dir });
  const inputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(loaded.workflow.inputs ?? {}))
    if (v.default !== undefined) inputs[k] = v.default;
  const result = await runWorkflow({
    workflowPath: loaded.path,
    source: loaded.source,
    workflow: loaded.workflow,
    graph: loaded.graph,
    inputs: { ...inputs, ...options.inputs },
    store,
    effects: options.wrap ? options.wrap(base) : base,
    ...options,
  });
  return { result, store, loaded };
}

export function stepOf(run: TestRun, id: string) {
  const s = run.result.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id}`);
  return s;
}
