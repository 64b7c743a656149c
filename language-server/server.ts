// The language server: the features of `features/`, each over the core's language service, on
// one per-version analysis of each open workflow (workspace.ts). All intelligence is in the core;
// this layer converts offsets to positions and wires LSP messages.
import {
  TextDocumentSyncKind,
  type Connection,
  type ServerCapabilities,
} from "vscode-languageserver";
import { runDidFinishNotification } from "@keel/core/protocol/lsp";
import { filePath, Workspace } from "./workspace";
import { Settings } from "./settings";
import { LastRuns } from "./last-run";
import { Callers } from "./callers";
import type { Context, Feature } from "./context";
import { DiagnosticsPublisher } from "./features/diagnostics";
import { files } from "./features/files";
import { navigation } from "./features/navigation";
import { rename } from "./features/rename";
import { symbols } from "./features/symbols";
import { completion } from "./features/completion";
import { hover } from "./features/hover";
import { codeActions } from "./features/code-actions";
import { lenses } from "./features/code-lenses";
import { tokens } from "./features/semantic-tokens";

const FEATURES: readonly Feature[] = [
  files,
  navigation,
  rename,
  symbols,
  completion,
  hover,
  codeActions,
  lenses,
  tokens,
];

export function startServer(connection: Connection): void {
  const workspace = new Workspace();
  const settings = new Settings();
  const callers = new Callers(workspace);
  const diagnostics = new DiagnosticsPublisher(connection, workspace, settings, callers);
  const lastRuns = new LastRuns(connection);
  const ctx: Context = {
    connection,
    workspace,
    settings,
    lastRuns,
    callers,
    refreshDiagnostics: (uri) => diagnostics.schedule(uri),
    client: { codeLensRefresh: false, watchedFilesRegistration: false },
  };
  const log = (problems: string[]) => problems.forEach((p) => connection.console.warn(p));

  connection.onInitialize(({ initializationOptions, capabilities, workspaceFolders, rootUri }) => {
    log(settings.update(initializationOptions));
    const folders = workspaceFolders?.map((f) => f.uri) ?? (rootUri ? [rootUri] : []);
    ctx.callers.setFolders(folders.map(filePath).filter((p): p is string => !!p));
    ctx.client.codeLensRefresh = capabilities.workspace?.codeLens?.refreshSupport === true;
    ctx.client.watchedFilesRegistration =
      capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    const merged: ServerCapabilities = { textDocumentSync: TextDocumentSyncKind.Incremental };
    for (const f of FEATURES) Object.assign(merged, f.capabilities);
    return { capabilities: merged, serverInfo: { name: "keel-language-server" } };
  });
  connection.onDidChangeConfiguration(({ settings: all }) => {
    const keel = (all as { keel?: unknown } | null)?.keel;
    if (keel === undefined) return;
    log(settings.update(keel));
    diagnostics.scheduleAll();
  });
  connection.onNotification(runDidFinishNotification.method, (raw: unknown) => {
    const parsed = runDidFinishNotification.params.safeParse(raw);
    if (!parsed.success)
      return log([`${runDidFinishNotification.method}: ${parsed.error.message}`]);
    lastRuns.forget(parsed.data.uri);
    if (ctx.client.codeLensRefresh) void connection.sendRequest("workspace/codeLens/refresh");
  });

  workspace.documents.onDidChangeContent((e) => {
    if (workspace.isWorkflow(e.document.uri) || workspace.isPromptFile(e.document.uri))
      diagnostics.schedule(e.document.uri);
    // An open prompt file shows its callers' with: problems: an edited workflow may change them.
    if (workspace.isWorkflow(e.document.uri))
      for (const doc of workspace.documents.all())
        if (workspace.isPromptFile(doc.uri)) diagnostics.schedule(doc.uri);
  });
  workspace.documents.onDidClose((e) => {
    workspace.forget(e.document.uri);
    lastRuns.forget(e.document.uri);
    diagnostics.close(e.document.uri);
  });
  for (const f of FEATURES) f.register(ctx);
  workspace.documents.listen(connection);
  connection.listen();
}
