// The extension's entry: starts the Keel language server over IPC for `keel` documents and
// registers the graph panel. Run commands and the Runs view arrive with the rest of #7.
import * as vscode from "vscode";
import { LanguageClient, TransportKind, type ServerOptions } from "vscode-languageclient/node";
import { GRAPH_VIEW_TYPE, GraphPanel } from "./panel/graph-panel";

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
  registerGraph(context);
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
