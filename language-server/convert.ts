// Core diagnostics → LSP diagnostics.
import { DiagnosticSeverity, type Diagnostic as LspDiagnostic } from "vscode-languageserver";
import type { Diagnostic, LineIndex } from "@keel/core/index";

const SEVERITY = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
} as const;

export function toLspDiagnostic(d: Diagnostic, index: LineIndex): LspDiagnostic {
  return {
    range: { start: index.position(d.start), end: index.position(d.end) },
    severity: SEVERITY[d.severity],
    code: d.code,
    source: "keel",
    message: d.message,
  };
}
