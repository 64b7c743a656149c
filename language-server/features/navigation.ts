// Go to definition (steps, inputs, providers, and a tool's `uses:` module), find references and
// document highlights.
import { DocumentHighlightKind, type Location } from "vscode-languageserver";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { LineIndex } from "@keel/core/index";
import { readExports } from "@keel/core/check/tool-exports";
import { definitionAt, highlightsAt, referencesAt } from "@keel/core/service/navigation";
import { nodeHost } from "@keel/core/node/host";
import type { Context, Feature } from "../context";
import { toRange } from "../convert";

export const navigation: Feature = {
  capabilities: {
    definitionProvider: true,
    referencesProvider: true,
    documentHighlightProvider: true,
  },
  register({ connection, workspace }) {
    connection.onDefinition(({ textDocument, position }) => {
      const a = workspace.analysis(textDocument.uri);
      if (!a) return null;
      const target = definitionAt(a.model, a.index.offset(position));
      if (!target) return null;
      if (target.kind === "span")
        return { uri: textDocument.uri, range: toRange(a.index, target.span) };
      return a.file ? moduleLocation(a.file, target.module, target.exportName, workspace) : null;
    });
    connection.onReferences(({ textDocument, position, context }) => {
      const a = workspace.analysis(textDocument.uri);
      if (!a) return null;
      return referencesAt(a.model, a.index.offset(position), context.includeDeclaration).map(
        (span): Location => ({ uri: textDocument.uri, range: toRange(a.index, span) }),
      );
    });
    connection.onDocumentHighlight(({ textDocument, position }) => {
      const a = workspace.analysis(textDocument.uri);
      if (!a) return null;
      return highlightsAt(a.model, a.index.offset(position)).map((h) => ({
        range: toRange(a.index, h.span),
        kind: h.write ? DocumentHighlightKind.Write : DocumentHighlightKind.Read,
      }));
    });
  },
};

/** The tool module's file, at the statement exporting the name when it can be found. */
function moduleLocation(
  workflowFile: string,
  module: string,
  exportName: string,
  workspace: Context["workspace"],
): Location | null {
  const path = resolve(dirname(workflowFile), module);
  const uri = pathToFileURL(path).href;
  const source = workspace.documents.get(uri)?.getText() ?? nodeHost.readFile(path);
  if (source === undefined) return null;
  const exports = readExports(source);
  const at = exports instanceof Error ? undefined : exports.at.get(exportName);
  const position = new LineIndex(source).position(at ?? 0);
  return { uri, range: { start: position, end: position } };
}
