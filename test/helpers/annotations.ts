// Expected diagnostics written in the fixture itself, as YAML comments:
//
//   needs: [chek]
// #         ^^^^ KEEL201 unknown step 'chek' in needs: did you mean 'check'?
//
// A caret line marks columns of the nearest line above it that is not an annotation. For ranges
// that span lines, or lines where a comment cannot go (inside a block scalar), write the range:
//
// # want 12:5-13:9 KEEL301 invalid expression: ...      (1-based line:column, end exclusive)
import { LineIndex, type Diagnostic } from "@keel/core/index";

export interface Expected {
  readonly line: number; // zero-based
  readonly start: { line: number; character: number };
  readonly end: { line: number; character: number };
  readonly code: string;
  readonly message: string;
}

const CARET = /^(\s*#\s*?)(\s*)(\^+)\s+(KEEL\d{3})\s(.*)$/;
const EXPLICIT = /^\s*#\s*want\s+(\d+):(\d+)-(\d+):(\d+)\s+(KEEL\d{3})\s(.*)$/;

export function readExpectations(text: string): Expected[] {
  const lines = text.split(/\r\n|\r|\n/);
  const out: Expected[] = [];
  let target = -1;
  lines.forEach((line, i) => {
    const explicit = EXPLICIT.exec(line);
    if (explicit) {
      const [, l1, c1, l2, c2, code, message] = explicit;
      out.push({
        line: i,
        start: { line: Number(l1) - 1, character: Number(c1) - 1 },
        end: { line: Number(l2) - 1, character: Number(c2) - 1 },
        code: code!,
        message: message!.trim(),
      });
      return;
    }
    const caret = CARET.exec(line);
    if (caret && target >= 0) {
      const col = line.indexOf("^");
      const len = caret[3]!.length;
      out.push({
        line: i,
        start: { line: target, character: col },
        end: { line: target, character: col + len },
        code: caret[4]!,
        message: caret[5]!.trim(),
      });
      return;
    }
    target = i;
  });
  return out;
}

/** Diagnostics as the same strings annotations produce, for comparing and for readable diffs. */
export function formatActual(text: string, diagnostics: readonly Diagnostic[]): string[] {
  const index = new LineIndex(text);
  return diagnostics.map((d) => {
    const s = index.position(d.start);
    const e = index.position(d.end);
    return `${s.line + 1}:${s.character + 1}-${e.line + 1}:${e.character + 1} ${d.code} ${d.message}`;
  });
}

export function formatExpected(expected: readonly Expected[]): string[] {
  return expected.map(
    (x) =>
      `${x.start.line + 1}:${x.start.character + 1}-${x.end.line + 1}:${x.end.character + 1} ${x.code} ${x.message}`,
  );
}
