// Recovery from YAML syntax errors. One unquoted `: ` or `{` in a value makes YAML read the rest
// of a mapping as part of that value, and every check after it would report the consequences
// ("missing required field 'steps'", a step without a type, ...). Instead, the value of the line
// that caused each error is set aside (read as plain text of the same length, so every offset
// stays where it was) and the text is parsed again: the document around the bad value keeps its true shape, and
// only the syntax error itself and what is really missing are reported. Pure; never throws.
import type { YAMLError } from "yaml";
import type { Span } from "./diagnostic";

/** One syntax error, reported once at the line that caused it. */
export interface SyntaxProblem {
  readonly span: Span;
  readonly message: string;
}

export interface Recovery {
  /** The text with each bad value replaced; same length and line breaks as the original. */
  readonly text: string;
  /** The parts of the original text that were set aside: what they hold is not known. */
  readonly setAside: readonly Span[];
}

interface Line {
  readonly start: number;
  readonly end: number;
}

function lineAt(text: string, offset: number): Line {
  const at = Math.max(0, Math.min(offset, text.length));
  let start = text.lastIndexOf("\n", at - 1) + 1;
  if (at === text.length && at > 0 && text[at - 1] === "\n") {
    start = text.lastIndexOf("\n", at - 2) + 1; // an error at the very end belongs to the last line
  }
  let end = text.indexOf("\n", start);
  if (end < 0) end = text.length;
  return { start, end };
}

function previousLine(text: string, line: Line): Line | undefined {
  if (line.start === 0) return undefined;
  return lineAt(text, line.start - 1);
}

/** `key: value` (optionally after `- `): where the value starts, or undefined for other lines. */
function valueStart(text: string, line: Line): number | undefined {
  const s = text.slice(line.start, line.end);
  const m =
    /^(\s*(?:-\s+)*)("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{[\]}][^#]*?)\s*:(\s+)(?=\S)/.exec(s);
  if (!m) return undefined;
  return line.start + m[0].length;
}

/** Whether a value opened on this line by `open` is still open at the line's end. */
function opensUnclosed(text: string, line: Line, at: number, open: string): boolean {
  const s = text.slice(at, line.end);
  if (!s.startsWith(open)) return false;
  if (open === "'" || open === '"') return s.length < 2 || !s.trimEnd().endsWith(open);
  const close = open === "{" ? "}" : "]";
  let depth = 0;
  for (const c of s) {
    if (c === open) depth++;
    else if (c === close) depth--;
  }
  return depth > 0;
}

/**
 * The line whose value caused `error`: for an unclosed flow collection or quote, the nearest line
 * at or above the error whose value opens it; otherwise the error's own line.
 */
function causeOf(text: string, error: YAMLError): { line: Line; at: number | undefined } {
  const line = lineAt(text, error.pos[0]);
  const opener =
    error.code === "BAD_INDENT" && /flow map/i.test(error.message)
      ? "{"
      : error.code === "BAD_INDENT" && /flow sequence/i.test(error.message)
        ? "["
        : error.code === "MISSING_CHAR" && /quote/i.test(error.message)
          ? /'quote/.test(error.message)
            ? "'"
            : '"'
          : undefined;
  if (opener) {
    for (let l: Line | undefined = line, n = 0; l && n < 200; l = previousLine(text, l), n++) {
      const at = valueStart(text, l);
      if (at !== undefined && opensUnclosed(text, l, at, opener)) return { line: l, at };
    }
  }
  return { line, at: valueStart(text, line) };
}

const HINTS: Record<string, string> = {
  BLOCK_AS_IMPLICIT_KEY:
    "`: ` inside an unquoted value starts a nested mapping: put the value in quotes, or write it as a block (`|`)",
  MISSING_CHAR:
    "a quote opens this value and is never closed: close it, or write it as a block (`|`)",
  BAD_SCALAR_START: "put the value in quotes",
  TAB_AS_INDENT: "indent with spaces",
};

function describe(error: YAMLError): string {
  const flow = error.code === "BAD_INDENT" && /flow (map|sequence)/i.exec(error.message);
  if (flow) {
    const [open, close] = /map/i.test(flow[1]!) ? ["{", "}"] : ["[", "]"];
    return `YAML syntax: \`${open}\` opens a flow ${flow[1]!.toLowerCase()} that is not closed: close it with \`${close}\`, or put the value in quotes`;
  }
  return `YAML syntax: ${HINTS[error.code] ?? error.message}`;
}

/**
 * A value's text made a plain YAML string of the same length, close to what its author meant:
 * an opening quote or bracket becomes `_`, `: ` becomes `; `, ` #` becomes ` _`, a tab a space.
 * A key's value then keeps its kind (text), so nothing else is reported because it went missing.
 */
function asPlainText(value: string): string {
  const out = value
    .replace(/\t/g, " ")
    .replace(/:(?=\s|$)/g, ";")
    .replace(/\s#/g, (m) => `${m[0]}_`)
    .replace(/^[{}[\]"'@`|>!&*%,?#-]/, "_");
  return out.replace(/\s+$/, (m) => m); // trailing spaces stay: the length is the same
}

/** Where `error` is shown: the value that caused it, or its own place. */
function problemAt(text: string, error: YAMLError): SyntaxProblem {
  const { line, at } = causeOf(text, error);
  const span =
    at !== undefined && at < line.end
      ? { start: at, end: line.end }
      : { start: Math.min(error.pos[0], text.length), end: Math.min(error.pos[1], text.length) };
  return {
    span: { start: span.start, end: Math.max(span.start, span.end) },
    message: describe(error),
  };
}

/**
 * Sets aside the cause of the first error (the value of its line, or the whole line when it holds
 * no `key: value`) and parses again with `parse`, until the text parses cleanly: the errors that
 * vanish with an earlier cause were its consequences, and are not reported. Without a clean text
 * within a bounded number of rounds, every error is reported, once per line, and `recovery` is
 * undefined.
 */
export function recover(
  text: string,
  errors: readonly YAMLError[],
  parse: (text: string) => readonly YAMLError[],
): { problems: SyntaxProblem[]; recovery: Recovery | undefined } {
  let current = text;
  const setAside: Span[] = [];
  const problems: SyntaxProblem[] = [];
  const done = new Set<number>();
  let pending = errors;
  for (let round = 0; round < 50 && pending.length > 0; round++) {
    const first = [...pending].sort((a, b) => a.pos[0] - b.pos[0])[0]!;
    const { line, at } = causeOf(current, first);
    const from = at ?? line.start;
    if (done.has(line.start) || from >= line.end) break;
    done.add(line.start);
    problems.push(problemAt(current, first));
    current =
      current.slice(0, from) +
      (at === undefined
        ? current.slice(from, line.end).replace(/[^\r]/g, " ")
        : asPlainText(current.slice(from, line.end))) +
      current.slice(line.end);
    setAside.push({ start: from, end: line.end });
    pending = parse(current);
  }
  if (pending.length === 0) return { problems, recovery: { text: current, setAside } };
  const seen = new Set<string>();
  const all = errors
    .map((e) => problemAt(text, e))
    .filter((p) => {
      const line = String(lineAt(text, p.span.start).start);
      return !seen.has(line) && !!seen.add(line);
    });
  return { problems: all, recovery: undefined };
}

/** Whether `span` starts inside one of `aside`. */
export function inSetAside(span: Span, aside: readonly Span[]): boolean {
  return aside.some((a) => span.start >= a.start && span.start < Math.max(a.end, a.start + 1));
}
