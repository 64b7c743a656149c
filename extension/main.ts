// The extension's entry. Activation registers every contributed command, the Runs view and the
// graph panel's serializer as thin forwards, and starts the language server in the background;
// the code behind them (extension/features.ts) loads the first time one is used, so activating
// costs milliseconds. No workflow logic lives here: it is the core's, the CLI's and the server's.
// First: it notes when loading the extension's code began.
import { loadStart } from "./load-start";
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import type { Features } from "./features";
import { forwarded, startServer } from "./failures";

/** The graph panel's webview type (extension/panel/graph-panel.ts). */
const GRAPH_VIEW_TYPE = "keel.graph";
/** The replay debugger's debug type (extension/debug/replay-debug.ts). */
const DEBUG_TYPE = "keel-replay";
/** The language server's notification that a run ended (core/protocol/lsp.ts). */
const RUN_DID_FINISH = "keel/runDidFinish";

let client: Promise<LanguageClient | undefined> | undefined;

/** When this module's code had loaded (its imports included). */
const loadedAt = performance.now();

export function activate(context: vscode.ExtensionContext): void {
  const activateStart = performance.now();
  const log = vscode.window.createOutputChannel("Keel", { log: true });
  context.subscriptions.push(log);
  const viewChanged = new vscode.EventEmitter<void>();
  let features: Promise<Features> | undefined;
  const load = () =>
    (features ??= import("./features").then((m) => {
      const f = m.createFeatures(context, log, (uri, runId) => {
        void client?.then((c) =>
          c?.sendNotification(RUN_DID_FINISH, { uri: uri.toString(), runId }),
        );
      });
      context.subscriptions.push(
        f,
        f.view.onDidChangeTreeData(() => viewChanged.fire()),
      );
      return f;
    }));

  const contributed = (
    context.extension.packageJSON as {
      contributes: { commands: { command: string; title?: string }[] };
    }
  ).contributes.commands;
  // A command that fails is shown with its title (extension/failures.ts), never lost.
  for (const { command, title } of contributed) {
    context.subscriptions.push(
      vscode.commands.registerCommand(
        command,
        forwarded(
          title ?? command,
          async (...args) => {
            const handler = (await load()).commands.get(command);
            if (!handler) throw new Error(`no handler for ${command}`);
            return (handler as (...a: unknown[]) => unknown)(...args);
          },
          log,
        ),
      ),
    );
  }
  context.subscriptions.push(
    viewChanged,
    vscode.window.registerTreeDataProvider<unknown>("keel.runs", {
      onDidChangeTreeData: viewChanged.event,
      getTreeItem: async (item) => (await load()).view.getTreeItem(item as never),
      getChildren: async (item) => (await load()).view.getChildren(item as never),
    }),
    vscode.window.registerWebviewPanelSerializer(GRAPH_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state: unknown) =>
        (await load()).restoreGraph(panel, state),
    }),
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, {
      createDebugAdapterDescriptor: async (session) => (await load()).debug.adapter(session),
    }),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, {
      provideDebugConfigurations: async () => (await load()).debug.initial(),
      resolveDebugConfiguration: async (_folder, config) => (await load()).debug.resolve(config),
    }),
  );

  // The server starts after activation, in the background; a failure to start is shown.
  setTimeout(() => {
    client = startServer(() => import("./client").then((m) => m.startClient(context)), log);
  }, 0);

  // Loading the code and running activate(), not the host's wait between the two.
  const activated = performance.now() - activateStart;
  const loading = loadedAt - loadStart;
  log.info(
    `activated in ${activated.toFixed(1)} ms (${(activated + loading).toFixed(1)} ms with loading the code)`,
  );
}

export async function deactivate(): Promise<void> {
  const c = await client;
  await c?.stop();
  client = undefined;
}
