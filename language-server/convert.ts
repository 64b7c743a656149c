// Core values (offsets, spans, diagnostics) → LSP types. The core speaks offsets; this is the edge.
import {
  DiagnosticSeverity,
  type Diagnostic as LspDiagnostic,
  type Range,
  type TextEdit as LspTextEdit,
} from "vscode-languageserver";
import type { Diagnostic, LineIndex, Span } from "@keel/core/index";

const SEVERITY = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
} as const;

export function toRange(index: LineIndex, span: Span): Range {
  return { start: index.position(span.start), end: index.position(span.end) };
}

export function toTextEdit(index: LineIndex, edit: { span: Span; newText: string }): LspTextEdit {
  return { range: toRange(index, edit.span), newText: edit.newText };
}

export function toLspDiagnostic(d: Diagnostic, index: LineIndex): LspDiagnostic {
  return {
    range: toRange(index, d),
    severity: SEVERITY[d.severity],
    code: d.code,
    source: "keel",
    message: d.message,
  };
}
