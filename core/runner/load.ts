// Reads and validates a workflow file for running: the run only starts from a file without error
// diagnostics, and works on the typed workflow and the graph validation built.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { validateBytes } from "../check/validate-bytes";
import type { Diagnostic } from "../model/diagnostic";
import type { StepGraph } from "../graph/graph";
import { Workflow } from "../model/schema";
import { nodeHost } from "../node/host";

export interface LoadedWorkflow {
  readonly path: string;
  readonly dir: string;
  readonly source: string;
  readonly workflow: Workflow;
  readonly graph: StepGraph;
  /** Names of the `env.NAME` values the expressions read. */
  readonly envNames: readonly string[];
  /** Names of the `secrets.NAME` values the expressions read. */
  readonly secretNames: readonly string[];
}

export type LoadResult =
  | { readonly ok: true; readonly loaded: LoadedWorkflow; readonly diagnostics: Diagnostic[] }
  | { readonly ok: false; readonly source: string; readonly diagnostics: Diagnostic[] };

export function loadWorkflow(file: string): LoadResult {
  const path = resolve(file);
  return loadFromBytes(path, readFileSync(path));
}

/** Loads a workflow from its text as recorded (resume), rather than as it is on disk. */
export function loadWorkflowText(path: string, text: string): LoadResult {
  return loadFromBytes(path, new TextEncoder().encode(text));
}

/**
 * A recorded workflow text that must validate here (a worker executing a submitted run); throws
 * with the reasons when it does not.
 */
export function loadValidText(path: string, text: string): LoadedWorkflow {
  const result = loadWorkflowText(path, text);
  if (!result.ok) {
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    throw new Error(
      `the workflow does not validate here (${errors.map((d) => `${d.code} ${d.message}`).join("; ")}): a tool module may be missing here`,
    );
  }
  return result.loaded;
}

/** `loadValidText`, once per path and text in `cache` (up to 32 texts). */
export function loadValidTextOnce(
  cache: Map<string, LoadedWorkflow>,
  path: string,
  text: string,
): LoadedWorkflow {
  const key = `${path}\n${text}`;
  let loaded = cache.get(key);
  if (!loaded) {
    if (cache.size >= 32) cache.clear();
    loaded = loadValidText(path, text);
    cache.set(key, loaded);
  }
  return loaded;
}

function loadFromBytes(path: string, bytes: Uint8Array): LoadResult {
  const { text, diagnostics, model } = validateBytes(bytes, { file: path, host: nodeHost });
  if (diagnostics.some((d) => d.severity === "error"))
    return { ok: false, source: text, diagnostics };
  const workflow = Workflow.parse(model.yaml.value);
  const names = (root: string) => {
    const out = new Set<string>();
    for (const { info } of model.sites) {
      for (const ref of info.refs)
        if (ref.segments[0]?.name === root && ref.segments[1]) out.add(ref.segments[1].name);
    }
    return [...out].sort();
  };
  return {
    ok: true,
    diagnostics,
    loaded: {
      path,
      dir: dirname(path),
      source: text,
      workflow,
      graph: model.graph,
      envNames: names("env"),
      secretNames: names("secrets"),
    },
  };
}
