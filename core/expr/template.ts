// Finds `${{ … }}` templates in a string value. The closing `}}` is the first one outside a
// string literal and outside braces opened inside the expression, so object constructors and
// strings containing "}}" work.

export interface TemplatePart {
  /** Offsets in the string value: the whole `${{ … }}`. */
  readonly start: number;
  readonly end: number;
  /** Offsets of the expression text between the delimiters. */
  readonly exprStart: number;
  readonly exprEnd: number;
}

export interface TemplateScan {
  readonly parts: TemplatePart[];
  /** Offset of a `${{` that has no closing `}}`. */
  readonly unterminatedAt?: number;
}

export function scanTemplates(value: string): TemplateScan {
  const parts: TemplatePart[] = [];
  let from = 0;
  for (;;) {
    const open = value.indexOf("${{", from);
    if (open < 0) return { parts };
    const exprStart = open + 3;
    const close = findClose(value, exprStart);
    if (close < 0) return { parts, unterminatedAt: open };
    parts.push({ start: open, end: close + 2, exprStart, exprEnd: close });
    from = close + 2;
  }
}

function findClose(s: string, from: number): number {
  let depth = 0;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (c === '"' || c === "'" || c === "`") {
      i = skipQuoted(s, i, c);
      if (i < 0) return -1;
    } else if (c === "/" && s[i + 1] === "*") {
      const endComment = s.indexOf("*/", i + 2);
      if (endComment < 0) return -1;
      i = endComment + 1;
    } else if (c === "{") depth++;
    else if (c === "}") {
      if (depth === 0 && s[i + 1] === "}") return i;
      if (depth > 0) depth--;
    }
  }
  return -1;
}

function skipQuoted(s: string, i: number, quote: string): number {
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === "\\" && quote !== "`") j++;
    else if (s[j] === quote) return j;
  }
  return -1;
}

/** When the whole value is one template, the expression's offsets; otherwise undefined. */
export function wholeTemplate(value: string): TemplatePart | undefined {
  const trimmedStart = value.length - value.trimStart().length;
  const scan = scanTemplates(value);
  const only = scan.parts[0];
  if (scan.parts.length !== 1 || scan.unterminatedAt !== undefined || !only) return undefined;
  return only.start === trimmedStart && only.end === value.trimEnd().length ? only : undefined;
}
