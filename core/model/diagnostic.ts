// Diagnostics as the core produces them: offsets into the text, a stable code, a message.
// Editors and the CLI convert offsets to positions with a LineIndex at the edge.
import { CODES, type Code, type Severity } from "./codes";

/** A half-open range of UTF-16 offsets into the document text. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** A machine-readable fix a client can offer (quick fixes in the language server). */
export interface Fix {
  readonly title: string;
  readonly span: Span;
  readonly newText: string;
}

export interface Diagnostic extends Span {
  readonly code: Code;
  readonly severity: Severity;
  readonly message: string;
  /** Other places that explain this one (the anchor of an alias, the other duplicate key, ...). */
  readonly related?: readonly { readonly span: Span; readonly message: string }[];
  readonly fixes?: readonly Fix[];
}

/** Collects diagnostics; the default severity comes from the codes table. */
export class DiagnosticSink {
  readonly items: Diagnostic[] = [];

  add(
    code: Code,
    span: Span,
    message: string,
    extra?: Pick<Diagnostic, "related" | "fixes">,
  ): void {
    this.items.push({
      code,
      severity: CODES[code].severity,
      message,
      start: span.start,
      end: span.end,
      ...extra,
    });
  }
}

/**
 * Sorts by position, then code, then message, so output is the same whatever order the checks
 * ran in (the incremental analysis runs them in another order than a full validation).
 */
export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return list.sort(
    (a, b) =>
      a.start - b.start ||
      a.end - b.end ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
}
