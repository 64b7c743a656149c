// Where the run store lives (docs/cli.md, "keel run"): `.keel/runs.sqlite` in the workspace root,
// found from the workflow file's folder (or the current folder); `--store` overrides.
import { join, resolve } from "node:path";
import { workspaceRoot } from "./workspace-settings";

export function defaultStorePath(from: string): string {
  return join(workspaceRoot(resolve(from)), ".keel", "runs.sqlite");
}
