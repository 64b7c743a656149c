// The language server. So far: diagnostics from the core validator for open `*.keel.yaml`
// documents, with the workspace's severity settings. Completion, hover, navigation and the rest
// arrive with the language server issue; all intelligence stays in the core.
import { TextDocuments, TextDocumentSyncKind, type Connection } from "vscode-languageserver";
import { TextDocument } from "vscode-languageserver-textdocument";
import { fileURLToPath } from "node:url";
import { dirname } from "node:path";
import { applySeverities, LineIndex, validate } from "@keel/core/index";
import { nodeHost } from "@keel/core/node/host";
import { SeverityCache } from "@keel/core/node/settings";
import { toLspDiagnostic } from "./convert";

export function startServer(connection: Connection): void {
  const documents = new TextDocuments(TextDocument);
  const settings = new SeverityCache();

  connection.onInitialize(() => ({
    capabilities: { textDocumentSync: TextDocumentSyncKind.Incremental },
    serverInfo: { name: "keel-language-server" },
  }));

  const publish = (doc: TextDocument) => {
    const file = doc.uri.startsWith("file:") ? fileURLToPath(doc.uri) : undefined;
    const text = doc.getText();
    const { diagnostics } = validate(text, { file, host: nodeHost });
    const overrides = file ? settings.forFolder(dirname(file)).overrides : new Map();
    const index = new LineIndex(text);
    void connection.sendDiagnostics({
      uri: doc.uri,
      version: doc.version,
      diagnostics: applySeverities(diagnostics, overrides).map((d) => toLspDiagnostic(d, index)),
    });
  };

  documents.onDidChangeContent((e) => publish(e.document));
  documents.onDidClose(
    (e) => void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] }),
  );
  documents.listen(connection);
  connection.listen();
}
