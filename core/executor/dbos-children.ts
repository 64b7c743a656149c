// The child workflow files a run on the workers needs (docs/dev/production-mode.md, "Maps, child
// runs and loops on the workers"): read and validated where the run is submitted and carried in
// its RunSpec, as the run's own workflow text is, so every worker runs the files the submitter had
// (and a child run's record holds the text it ran), whatever is on the workers' disks by then.
import { dirname, resolve } from "node:path";
import type { Step } from "../model/schema";
import { LineIndex } from "../model/line-index";
import {
  loadWorkflow,
  loadWorkflowText,
  type LoadedWorkflow,
  type LoadResult,
} from "../runner/load";
import type { ChildFile } from "./executor";

/** Reads `env.NAME` values where the run is submitted. */
export type ReadEnv = (names: readonly string[]) => Record<string, string | undefined>;

const processEnv: ReadEnv = (names) => Object.fromEntries(names.map((n) => [n, process.env[n]]));

/**
 * Every child workflow file the workflow at `path` (with this text) uses, through its `workflow`
 * steps and theirs, by absolute path; throws naming the file, step and line of the first that
 * cannot be read or does not validate.
 */
export function childFiles(
  path: string,
  source: string,
  readEnv: ReadEnv = processEnv,
): Record<string, ChildFile> {
  const out: Record<string, ChildFile> = {};
  const root = loadWorkflowText(path, source);
  // A workflow with errors is refused before this (the run is validated first).
  if (!root.ok) return out;
  const todo: LoadedWorkflow[] = [root.loaded];
  for (let parent = todo.pop(); parent; parent = todo.pop()) {
    for (const [uses, where] of childUses(parent)) {
      const file = resolve(dirname(parent.path), uses);
      if (out[file]) continue;
      let loaded: LoadResult;
      try {
        loaded = loadWorkflow(file);
      } catch (e) {
        throw new Error(
          `${where}: cannot read the child workflow ${uses} (${file}): ${(e as Error).message}`,
        );
      }
      if (!loaded.ok) {
        const errors = loaded.diagnostics.filter((d) => d.severity === "error");
        const first = errors[0]!;
        const line = new LineIndex(loaded.source).position(first.start).line + 1;
        throw new Error(
          `${where}: the child workflow ${uses} has ${errors.length} error${errors.length > 1 ? "s" : ""} (first, ${file}:${line}: ${first.code} ${first.message}): run keel validate ${uses}`,
        );
      }
      out[file] = { source: loaded.loaded.source, env: readEnv(loaded.loaded.envNames) };
      todo.push(loaded.loaded);
    }
  }
  return out;
}

/**
 * The child workflows a workflow's steps use: each `workflow` step's, and each workflow tool of
 * an agent step (`tools.<name>.workflow`), with where it is written.
 */
function childUses(parent: LoadedWorkflow): [uses: string, where: string][] {
  const out: [string, string][] = [];
  for (const [id, step] of Object.entries(parent.workflow.steps as Record<string, Step>)) {
    const where = `${parent.path}: step '${id}'`;
    if (step.type === "workflow") out.push([step.uses, where]);
    if (step.type !== "agent") continue;
    for (const [name, tool] of Object.entries(step.tools))
      if (tool.workflow) out.push([tool.workflow, `${where}, tool '${name}'`]);
  }
  return out;
}
