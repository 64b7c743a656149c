// Everything the extension does beyond starting up, loaded the first time it is needed (a
// command, the Runs view, a restored graph panel): activation itself loads almost nothing
// (extension/main.ts). Every command the manifest contributes has its handler here.
import * as vscode from "vscode";
import { COMMANDS } from "@keel/core/protocol/lsp";
import { GraphPanel } from "./panel/graph-panel";
import { recording } from "./runs/last-run";
import { RunManager, type Selection } from "./runs/run-manager";
import { Secrets } from "./runs/secrets";
import { RunsView } from "./runs/runs-view";
import { runCommands } from "./runs/run-commands";
import { openTeamRun, type TeamRunArg } from "./runs/team-runs";
import { ReplayDebugging, type DebugArg } from "./debug/replay-debug";

export interface Features extends vscode.Disposable {
  readonly commands: ReadonlyMap<string, (...args: never[]) => unknown>;
  readonly view: RunsView;
  /** The replay debugger (debug type keel-replay). */
  readonly debug: ReplayDebugging;
  restoreGraph(panel: vscode.WebviewPanel, state: unknown): void;
}

export function createFeatures(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  finished: (uri: vscode.Uri, runId: string | undefined) => void,
): Features {
  const secrets = new Secrets(context);
  const view = new RunsView();
  const debug = new ReplayDebugging(context);
  const runs = new RunManager(context, log, secrets, (uri, runId) => {
    view.refresh();
    finished(uri, runId);
    void recording(uri.fsPath, runId).then((r) => r && GraphPanel.status(uri, r));
  });
  /**
   * The workflow a command is about: its argument, else the graph panel in focus, else the active
   * editor's keel document.
   */
  const target = (uri: unknown): vscode.Uri | undefined => {
    if (uri instanceof vscode.Uri) return uri;
    if (typeof uri === "string") return vscode.Uri.parse(uri);
    const graph = GraphPanel.active();
    if (graph) return graph;
    const doc = vscode.window.activeTextEditor?.document;
    if (doc?.languageId === "keel") return doc.uri;
    void vscode.window.showInformationMessage("Open a *.keel.yaml workflow first.");
    return undefined;
  };
  const run = (selection: (step: string) => Selection) => async (uri?: unknown, step?: unknown) => {
    const workflow = target(uri);
    if (!workflow) return;
    await runs.run(workflow, typeof step === "string" ? selection(step) : {});
  };
  const commands = new Map<string, (...args: never[]) => unknown>(
    Object.entries({
      "keel.graph.open": async (uri?: vscode.Uri) => {
        const document = uri
          ? await vscode.workspace.openTextDocument(uri)
          : vscode.window.activeTextEditor?.document;
        if (!document || document.languageId !== "keel") {
          void vscode.window.showInformationMessage(
            "Open a *.keel.yaml workflow to see its graph.",
          );
          return;
        }
        GraphPanel.show(context, document);
      },
      [COMMANDS.runWorkflow]: async (uri?: unknown) => {
        const workflow = target(uri);
        if (workflow) await runs.run(workflow);
      },
      [COMMANDS.runStep]: run((step) => ({ step })),
      [COMMANDS.runToStep]: run((to) => ({ to })),
      [COMMANDS.showStepRun]: async (uri?: unknown) => {
        const workflow = target(uri);
        if (workflow) await vscode.commands.executeCommand("keel.graph.open", workflow);
      },
      "keel.run.cancel": () => runs.cancel(),
      "keel.runs.refresh": () => view.refresh(),
      "keel.run.showInGraph": async (workflowPath?: unknown, runId?: unknown) => {
        if (typeof workflowPath !== "string") return;
        const uri = vscode.Uri.file(workflowPath);
        await vscode.commands.executeCommand("keel.graph.open", uri);
        const r = await recording(workflowPath, typeof runId === "string" ? runId : undefined);
        if (r) GraphPanel.status(uri, r);
      },
      "keel.run.debug": (arg?: DebugArg) => debug.stepThrough(arg),
      "keel.run.openTeamRun": (arg?: TeamRunArg) =>
        openTeamRun(context, arg, log, () => view.refresh()),
      "keel.secret.set": () => secrets.set(),
      "keel.secret.clear": () => secrets.clear(),
      ...runCommands(context, runs),
    }),
  );
  return {
    commands,
    view,
    debug,
    restoreGraph(panel, state) {
      const uri = (state as { uri?: unknown } | undefined)?.uri;
      if (typeof uri !== "string") panel.dispose();
      else GraphPanel.restore(context, panel, vscode.Uri.parse(uri));
    },
    dispose() {
      runs.dispose();
      view.dispose();
      debug.dispose();
    },
  };
}
