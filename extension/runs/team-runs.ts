// A team run (from the PostgreSQL store of `keel.runs.postgresUrl`) opens like a local one: it is
// first copied into the workspace's own store with `keel pull` (which only reads the team's
// database), then shown in the graph panel, where it steps through, replays and diffs as any
// recorded run does.
import * as vscode from "vscode";
import { dirname } from "node:path";
import type { RunRecord } from "@keel/core/record/records";
import { runCli, storeOf } from "./cli";

export interface TeamRunArg {
  readonly url: string;
  readonly run: Pick<RunRecord, "id" | "workflowPath" | "status">;
}

/** Pulls the run into the local store and opens it; says why when it cannot. */
export async function openTeamRun(
  context: vscode.ExtensionContext,
  arg: TeamRunArg | undefined,
  log: vscode.LogOutputChannel,
  pulled: () => void,
): Promise<void> {
  if (!arg?.run) return;
  const { run, url } = arg;
  if (run.status === "running") {
    void vscode.window.showInformationMessage(
      `Keel: run ${run.id} is still running on the team's workers; open it once it has ended.`,
    );
    return;
  }
  const workflow = vscode.Uri.file(run.workflowPath);
  const r = await runCli(
    context,
    ["pull", run.id, "--store", url, "--into", storeOf(workflow)],
    dirname(run.workflowPath),
  );
  if (r.code !== 0) {
    log.error(`keel pull ${run.id}: ${r.stderr.trim()}`);
    void vscode.window.showErrorMessage(`Keel: could not copy the team's run: ${r.stderr.trim()}`);
    return;
  }
  pulled();
  await vscode.commands.executeCommand("keel.run.showInGraph", run.workflowPath, run.id);
}
