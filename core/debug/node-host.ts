// The replay debugger's host on Node: the run store from the launch configuration (or the
// workspace's, found as docs/cli.md says under "keel run") and the workflow file read from disk.
// Used by `keel dap` and the extension alike.
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { defaultStorePath } from "../node/store-path";
import { openSqliteStore } from "../store/sqlite-store";
import type { ReplayHost, ReplayLaunchArgs } from "./session";

/** The store file a launch configuration names: `store`, else the workflow's workspace store. */
export function storePathOf(args: ReplayLaunchArgs, cwd = process.cwd()): string {
  if (args.store) return resolve(cwd, args.store);
  return defaultStorePath(args.workflow ? dirname(resolve(cwd, args.workflow)) : cwd);
}

export function nodeReplayHost(cwd = process.cwd()): ReplayHost {
  return {
    openStore(args) {
      const file = storePathOf(args, cwd);
      if (!existsSync(file)) throw new Error(`no run store at ${file}: run a workflow first`);
      return openSqliteStore(file);
    },
    readText(path) {
      try {
        return readFileSync(path, "utf8");
      } catch {
        return undefined;
      }
    },
  };
}
