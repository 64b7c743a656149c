// The CLI as the extension runs it: `dist/cli.js` in a child process, with the extension host's
// own runtime (Node in code-server, Electron as Node in desktop VS Code), so the store opens with
// whichever SQLite driver that runtime has. Nothing here knows a workflow: the CLI does.
import type * as vscode from "vscode";
import { spawn, type ChildProcess } from "node:child_process";
import { dirname } from "node:path";
import { defaultStorePath } from "@keel/core/node/store-path";

export function spawnCli(
  context: vscode.ExtensionContext,
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): ChildProcess {
  return spawn(process.execPath, [context.asAbsolutePath("dist/cli.js"), ...args], {
    cwd,
    env: { ...process.env, ...env, ELECTRON_RUN_AS_NODE: "1", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a CLI command to its end and collects what it printed. */
export function runCli(
  context: vscode.ExtensionContext,
  args: readonly string[],
  cwd: string,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawnCli(context, args, cwd);
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", (e) => resolve({ code: null, stdout, stderr: stderr + e.message }));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The run store of a workflow: `.keel/runs.sqlite` in its workspace root. */
export function storeOf(workflow: vscode.Uri): string {
  return defaultStorePath(dirname(workflow.fsPath));
}
