// The language client: the Keel language server (dist/server.js) over IPC for `keel` documents,
// with the extension answering its `keel/lastRun` requests from the run store. Started in the
// background after activation.
import * as vscode from "vscode";
import { LanguageClient, TransportKind, type ServerOptions } from "vscode-languageclient/node";
import { lastRunRequest } from "@keel/core/protocol/lsp";
import { lastRun } from "./runs/last-run";

export async function startClient(context: vscode.ExtensionContext): Promise<LanguageClient> {
  const module = context.asAbsolutePath("dist/server.js");
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: {
      module,
      transport: TransportKind.ipc,
      options: { execArgv: ["--nolazy", "--inspect=6009"] },
    },
  };
  const client = new LanguageClient("keel", "Keel", serverOptions, {
    // Prompt files too (docs/editor.md "Prompt files"): the server checks a Markdown file only
    // when its front matter declares inputs or it holds a `${{ }}`.
    documentSelector: [
      { language: "keel" },
      { scheme: "file", pattern: "**/*.{md,prompt.yml,prompt.yaml}" },
    ],
  });
  context.subscriptions.push(client);
  client.onRequest(lastRunRequest.method, async (raw: unknown) => {
    const params = lastRunRequest.params.safeParse(raw);
    if (!params.success) return null;
    return lastRun(vscode.Uri.parse(params.data.uri).fsPath);
  });
  await client.start();
  return client;
}
