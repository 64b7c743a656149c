// Completion, from the core's language service (core/service/completion.ts).
import {
  CompletionItemKind,
  InsertTextFormat,
  InsertTextMode,
  MarkupKind,
  type CompletionItem,
} from "vscode-languageserver";
import { complete, type CompletionKind } from "@keel/core/service/completion";
import { completePython } from "@keel/core/service/python";
import { completeAgent } from "@keel/core/service/agents";
import type { Feature } from "../context";
import { toRange } from "../convert";

const KINDS: Record<CompletionKind, CompletionItemKind> = {
  key: CompletionItemKind.Property,
  value: CompletionItemKind.EnumMember,
  step: CompletionItemKind.Function,
  input: CompletionItemKind.Variable,
  provider: CompletionItemKind.Interface,
  field: CompletionItemKind.Field,
  function: CompletionItemKind.Function,
  namespace: CompletionItemKind.Module,
  snippet: CompletionItemKind.Snippet,
};

export const completion: Feature = {
  capabilities: { completionProvider: { triggerCharacters: [".", "$", " "] } },
  register({ connection, workspace }) {
    connection.onCompletion(({ textDocument, position }) => {
      const a = workspace.analysis(textDocument.uri);
      if (!a) return null;
      const children = workspace.children(textDocument.uri);
      const offset = a.index.offset(position);
      const python = workspace.python(textDocument.uri);
      const items =
        (python && completePython(a.semanticModel, a.text, offset, python)) ??
        completeAgent(a.semanticModel, a.text, offset, workspace.tools(textDocument.uri)) ??
        complete(a.semanticModel, a.text, offset, children);
      return items.map((item, i): CompletionItem => ({
        label: item.label,
        kind: KINDS[item.kind],
        detail: item.detail,
        documentation: item.documentation && {
          kind: MarkupKind.Markdown,
          value: item.documentation,
        },
        sortText: String(i).padStart(4, "0"),
        textEdit: { range: toRange(a.index, item.span), newText: item.insertText ?? item.label },
        insertTextFormat: item.snippet ? InsertTextFormat.Snippet : InsertTextFormat.PlainText,
        insertTextMode: item.snippet ? InsertTextMode.asIs : undefined,
      }));
    });
  },
};
