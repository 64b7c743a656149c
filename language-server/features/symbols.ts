// The document outline: inputs, providers, steps with their types, outputs.
import { SymbolKind, type DocumentSymbol } from "vscode-languageserver";
import type { LineIndex } from "@keel/core/index";
import { outline, type OutlineItem, type OutlineKind } from "@keel/core/service/outline";
import type { Feature } from "../context";
import { toRange } from "../convert";

const KINDS: Record<OutlineKind, SymbolKind> = {
  section: SymbolKind.Namespace,
  input: SymbolKind.Variable,
  provider: SymbolKind.Interface,
  step: SymbolKind.Function,
  output: SymbolKind.Field,
};

export const symbols: Feature = {
  capabilities: { documentSymbolProvider: { label: "Keel" } },
  register({ connection, workspace }) {
    connection.onDocumentSymbol(({ textDocument }) => {
      const a = workspace.analysis(textDocument.uri);
      return a ? outline(a.model).map((item) => toSymbol(item, a.index)) : null;
    });
  },
};

function toSymbol(item: OutlineItem, index: LineIndex): DocumentSymbol {
  return {
    name: item.name,
    detail: item.detail,
    kind: KINDS[item.kind],
    range: toRange(index, item.span),
    selectionRange: toRange(index, item.selection),
    children: item.children.map((c) => toSymbol(c, index)),
  };
}
