// Quick fixes for the diagnostics in the requested range, from core/service/fixes.ts.
import { CodeActionKind, type CodeAction } from "vscode-languageserver";
import { quickFixes } from "@keel/core/service/fixes";
import type { Feature } from "../context";
import { toLspDiagnostic, toTextEdit } from "../convert";

export const codeActions: Feature = {
  capabilities: { codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] } },
  register({ connection, workspace }) {
    connection.onCodeAction(({ textDocument, range }) => {
      const a = workspace.analysis(textDocument.uri);
      if (!a) return null;
      const start = a.index.offset(range.start);
      const end = a.index.offset(range.end);
      const actions: CodeAction[] = [];
      for (const d of a.diagnostics) {
        if (d.end < start || d.start > end) continue;
        for (const fix of quickFixes(a.model, d)) {
          actions.push({
            title: fix.title,
            kind: CodeActionKind.QuickFix,
            diagnostics: [toLspDiagnostic(d, a.index)],
            isPreferred: fix.preferred,
            edit: { changes: { [textDocument.uri]: fix.edits.map((e) => toTextEdit(a.index, e)) } },
          });
        }
      }
      return actions;
    });
  },
};
