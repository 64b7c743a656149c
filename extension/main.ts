// The extension's entry: starts the Keel language server over IPC for `keel` documents, answers
// its `keel/lastRun` requests from the run store, and registers the graph panel, the run commands
// (which the server's code lenses carry) and the secret commands. No workflow logic lives here:
// it is the core's, the CLI's and the server's.
import * as vscode from "vscode";
import { LanguageClient, TransportKind, type ServerOptions } from "vscode-languageclient/node";
import { COMMANDS, lastRunRequest, runDidFinishNotification } from "@keel/core/protocol/lsp";
import { GRAPH_VIEW_TYPE, GraphPanel } from "./panel/graph-panel";
import { lastRun, recording } from "./runs/last-run";
import { RunManager, type Selection } from "./runs/run-manager";
import { Secrets } from "./runs/secrets";
import { RunsView } from "./runs/runs-view";
import { registerRunCommands } from "./runs/run-commands";

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const module = context.asAbsolutePath("dist/server.js");
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: {
      module,
      transport: TransportKind.ipc,
      options: { execArgv: ["--nolazy", "--inspect=6009"] },
    },
  };
  client = new LanguageClient("keel", "Keel", serverOptions, {
    documentSelector: [{ language: "keel" }],
  });
  context.subscriptions.push(client);
  const c = client;
  c.onRequest(lastRunRequest.method, async (raw: unknown) => {
    const params = lastRunRequest.params.safeParse(raw);
    if (!params.success) return null;
    return lastRun(vscode.Uri.parse(params.data.uri).fsPath);
  });
  registerGraph(context);
  registerRuns(context, (uri, runId) => {
    void c.sendNotification(runDidFinishNotification.method, { uri: uri.toString(), runId });
    void recording(uri.fsPath, runId).then((r) => r && GraphPanel.status(uri, r));
  });
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

function registerGraph(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand("keel.graph.open", async (uri?: vscode.Uri) => {
      const document = uri
        ? await vscode.workspace.openTextDocument(uri)
        : vscode.window.activeTextEditor?.document;
      if (!document || document.languageId !== "keel") {
        void vscode.window.showInformationMessage("Open a *.keel.yaml workflow to see its graph.");
        return;
      }
      GraphPanel.show(context, document);
    }),
    vscode.window.registerWebviewPanelSerializer(GRAPH_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state: unknown) => {
        const uri = (state as { uri?: unknown } | undefined)?.uri;
        if (typeof uri !== "string") {
          panel.dispose();
          return;
        }
        GraphPanel.restore(context, panel, vscode.Uri.parse(uri));
      },
    }),
  );
}

function registerRuns(
  context: vscode.ExtensionContext,
  finished: (uri: vscode.Uri, runId: string | undefined) => void,
): void {
  const log = vscode.window.createOutputChannel("Keel", { log: true });
  const secrets = new Secrets(context);
  const view = new RunsView();
  const runs = new RunManager(context, log, secrets, (uri, runId) => {
    view.refresh();
    finished(uri, runId);
  });
  /** The workflow a command is about: its argument, else the active editor's keel document. */
  const target = (uri: unknown): vscode.Uri | undefined => {
    if (uri instanceof vscode.Uri) return uri;
    if (typeof uri === "string") return vscode.Uri.parse(uri);
    const doc = vscode.window.activeTextEditor?.document;
    if (doc?.languageId === "keel") return doc.uri;
    void vscode.window.showInformationMessage("Open a *.keel.yaml workflow first.");
    return undefined;
  };
  const run = (selection: (step: string) => Selection) => async (uri?: unknown, step?: unknown) => {
    const workflow = target(uri);
    if (!workflow) return;
    if (typeof step !== "string") {
      await runs.run(workflow);
      return;
    }
    await runs.run(workflow, selection(step));
  };
  context.subscriptions.push(
    log,
    runs,
    vscode.commands.registerCommand(COMMANDS.runWorkflow, async (uri?: unknown) => {
      const workflow = target(uri);
      if (workflow) await runs.run(workflow);
    }),
    vscode.commands.registerCommand(
      COMMANDS.runStep,
      run((step) => ({ step })),
    ),
    vscode.commands.registerCommand(
      COMMANDS.runToStep,
      run((to) => ({ to })),
    ),
    vscode.commands.registerCommand(COMMANDS.showStepRun, async (uri?: unknown) => {
      const workflow = target(uri);
      if (workflow) await vscode.commands.executeCommand("keel.graph.open", workflow);
    }),
    vscode.commands.registerCommand("keel.run.cancel", () => runs.cancel()),
    view,
    vscode.window.registerTreeDataProvider("keel.runs", view),
    vscode.commands.registerCommand("keel.runs.refresh", () => view.refresh()),
    vscode.commands.registerCommand(
      "keel.run.showInGraph",
      async (workflowPath?: unknown, runId?: unknown) => {
        if (typeof workflowPath !== "string") return;
        const uri = vscode.Uri.file(workflowPath);
        await vscode.commands.executeCommand("keel.graph.open", uri);
        const r = await recording(workflowPath, typeof runId === "string" ? runId : undefined);
        if (r) GraphPanel.status(uri, r);
      },
    ),
    ...registerRunCommands(context, runs),
    vscode.commands.registerCommand("keel.secret.set", () => secrets.set()),
    vscode.commands.registerCommand("keel.secret.clear", () => secrets.clear()),
  );
}
