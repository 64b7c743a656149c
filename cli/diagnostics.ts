// Printing diagnostics the way `keel validate` does, for every command that loads a workflow.
import { relative } from "node:path";
import { LineIndex, type Diagnostic } from "@keel/core/index";
import type { Style } from "./output";

export interface LocatedDiagnostic {
  file: string;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  severity: Diagnostic["severity"];
  code: string;
  message: string;
}

export function locate(
  file: string,
  text: string,
  diagnostics: readonly Diagnostic[],
): LocatedDiagnostic[] {
  const index = new LineIndex(text);
  const shown = relative(process.cwd(), file) || file;
  return diagnostics.map((d) => ({
    file: shown,
    range: { start: index.position(d.start), end: index.position(d.end) },
    severity: d.severity,
    code: d.code,
    message: d.message,
  }));
}

export function formatDiagnostic(d: LocatedDiagnostic, s: Style): string {
  const colour = { error: s.red, warning: s.yellow, information: s.blue, hint: s.dim } as const;
  const where = `${d.file}:${d.range.start.line + 1}:${d.range.start.character + 1}`;
  return `${where} ${colour[d.severity](d.severity)} ${s.dim(d.code)} ${d.message}`;
}
