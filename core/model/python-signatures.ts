// The top-level function signatures of a Python module, read from its text without importing or
// running it (docs/dev/authoring.md, "Python signatures"). A small scanner of Python's lexical
// structure (strings, f-strings, comments, brackets, line continuations) cuts the module into
// logical lines; only those at indentation 0 are read: `def` / `async def` headers with their
// decorators and docstrings, and the other names the module binds (imports, assignments,
// classes), which may be callable too. Pure TypeScript, browser-safe, cached by text.

import { LineIndex } from "./line-index";

export type ParameterKind =
  "positional-only" | "positional" | "var-positional" | "keyword-only" | "var-keyword";

export interface PythonParameter {
  readonly name: string;
  readonly kind: ParameterKind;
  /** The type hint's text, as written. */
  readonly annotation?: string;
  /** The default's text, as written. */
  readonly default?: string;
  /** Offset of the name in the module's text. */
  readonly at: number;
}

export interface PythonFunction {
  readonly name: string;
  readonly async: boolean;
  readonly parameters: readonly PythonParameter[];
  /** The return hint's text. */
  readonly returns?: string;
  /** The docstring, dedented as `inspect.cleandoc` does. */
  readonly docstring?: string;
  /** Decorators' text without the `@`, in order. */
  readonly decorators: readonly string[];
  /** Offset of `def` (or `async`) and of the name. */
  readonly at: number;
  readonly nameAt: number;
  /** 0-based line of the `def`. */
  readonly line: number;
}

export interface PythonModule {
  /** Top-level functions by name; a name defined twice keeps its last definition (`@overload`s aside). */
  readonly functions: ReadonlyMap<string, PythonFunction>;
  /** Other names bound at the top level (imports, assignments, classes): callable or not, unknown. */
  readonly others: ReadonlySet<string>;
  /** `from x import *`: the module may bind names we cannot see. */
  readonly open: boolean;
}

export class PythonSyntaxError extends Error {
  constructor(
    message: string,
    /** 1-based line. */
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const cache = new Map<string, PythonModule | PythonSyntaxError>();

/** The module's top-level signatures, or the first thing the scanner could not read. Cached by text. */
export function readPythonModule(source: string): PythonModule | PythonSyntaxError {
  let hit = cache.get(source);
  if (!hit) {
    try {
      hit = readModule(source);
    } catch (e) {
      if (!(e instanceof PythonSyntaxError)) throw e;
      hit = e;
    }
    if (cache.size > 200) cache.clear();
    cache.set(source, hit);
  }
  return hit;
}

/** One logical line: its physical start, indentation (of its first line) and the text's extent. */
interface Logical {
  readonly start: number;
  readonly end: number;
  readonly indent: number;
  /** Offsets where strings start and end inside the line, for docstrings. */
  readonly strings: readonly (readonly [number, number])[];
}

const CLOSES: Record<string, string> = { "(": ")", "[": "]", "{": "}" };

const PREFIX = /^(?:[rRbBuUfF]|[rR][bBfF]|[bBfF][rR])?$/;

/** Cuts `src` into logical lines, skipping comments and blank lines. */
function logicalLines(src: string, lines: LineStarts): Logical[] {
  const out: Logical[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    // Start of a physical line: measure indentation.
    let indent = 0;
    while (i < n && (src[i] === " " || src[i] === "\t" || src[i] === "\f")) {
      indent += src[i] === "\t" ? 8 - (indent % 8) : 1;
      i++;
    }
    if (i >= n) break;
    if (src[i] === "\n" || src[i] === "\r" || src[i] === "#") {
      i = skipToLineEnd(src, i);
      continue;
    }
    const start = i;
    const open: string[] = [];
    const strings: [number, number][] = [];
    let end = i;
    for (;;) {
      if (i >= n) {
        if (open.length > 0)
          throw new PythonSyntaxError(`a '${open.pop()}' is never closed`, lines.line(start));
        end = n;
        break;
      }
      const c = src[i]!;
      if (c === "#") {
        i = skipComment(src, i);
        continue;
      }
      if (c === "\\" && (src[i + 1] === "\n" || src[i + 1] === "\r")) {
        i = skipNewline(src, i + 1);
        continue;
      }
      if (c === "\n" || c === "\r") {
        if (open.length > 0) {
          i = skipNewline(src, i);
          continue;
        }
        end = i;
        i = skipNewline(src, i);
        break;
      }
      if (c === '"' || c === "'") {
        const close = skipString(src, i, lines);
        strings.push([i, close]);
        i = close;
        continue;
      }
      if (/[A-Za-z_]/.test(c)) {
        let j = i;
        while (j < n && /\w/.test(src[j]!)) j++;
        if ((src[j] === '"' || src[j] === "'") && PREFIX.test(src.slice(i, j))) {
          const close = skipString(src, i, lines);
          strings.push([i, close]);
          i = close;
        } else i = j;
        continue;
      }
      if (c === "(" || c === "[" || c === "{") open.push(c);
      else if (c === ")" || c === "]" || c === "}") {
        const last = open.pop();
        if (last === undefined || CLOSES[last] !== c)
          throw new PythonSyntaxError(
            last ? `'${c}' does not close '${last}'` : `unmatched '${c}'`,
            lines.line(i),
          );
      }
      i++;
    }
    out.push({ start, end, indent, strings });
  }
  return out;
}

function skipToLineEnd(src: string, i: number): number {
  while (i < src.length && src[i] !== "\n" && src[i] !== "\r") i++;
  return skipNewline(src, i);
}

function skipComment(src: string, i: number): number {
  while (i < src.length && src[i] !== "\n" && src[i] !== "\r") i++;
  return i;
}

function skipNewline(src: string, i: number): number {
  if (src[i] === "\r" && src[i + 1] === "\n") return i + 2;
  return src[i] === "\n" || src[i] === "\r" ? i + 1 : i;
}

/** `at` is the string's prefix or quote; returns the offset after its closing quote. */
function skipString(src: string, at: number, lines: LineStarts): number {
  let i = at;
  let prefix = "";
  while (src[i] !== '"' && src[i] !== "'") prefix += src[i++]!.toLowerCase();
  const f = prefix.includes("f");
  const q = src[i]!;
  const triple = src[i + 1] === q && src[i + 2] === q;
  const close = triple ? q.repeat(3) : q;
  i += close.length;
  for (;;) {
    if (i >= src.length)
      throw new PythonSyntaxError(
        triple ? "a triple-quoted string is never closed" : "a string is never closed",
        lines.line(at),
      );
    const c = src[i]!;
    // A backslash keeps the next character from closing the string, in raw strings too.
    if (c === "\\") {
      i += 2;
      continue;
    }
    if (!triple && (c === "\n" || c === "\r"))
      throw new PythonSyntaxError("a string is never closed on its line", lines.line(at));
    if (src.startsWith(close, i)) return i + close.length;
    if (f && c === "{") {
      if (src[i + 1] === "{") {
        i += 2;
        continue;
      }
      i = skipReplacement(src, i + 1, lines);
      continue;
    }
    i++;
  }
}

/** Inside an f-string's `{`: skips the expression (nested strings and brackets) to its `}`. */
function skipReplacement(src: string, i: number, lines: LineStarts): number {
  let depth = 0;
  const from = i;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '"' || c === "'") {
      i = skipString(src, i, lines);
      continue;
    }
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]") depth--;
    else if (c === "}") {
      if (depth === 0) return i + 1;
      depth--;
    }
    i++;
  }
  throw new PythonSyntaxError("an f-string's `{` is never closed", lines.line(from));
}

/** 1-based lines of offsets. */
class LineStarts {
  private readonly index: LineIndex;
  constructor(src: string) {
    this.index = new LineIndex(src);
  }
  line(offset: number): number {
    return this.index.position(offset).line + 1;
  }
}

const DEF = /^(async[ \t\\\r\n]+)?def[ \t\\\r\n]+([A-Za-z_]\w*)\b/;

const BLOCK = /^(?:if|elif|else|try|except|finally|with|for|while|match|async\s+(?:with|for))\b/;

function readModule(text: string): PythonModule {
  // A byte order mark is kept so offsets stay those of the text.
  const lines = new LineStarts(text);
  const logical = logicalLines(text, lines);
  const functions = new Map<string, PythonFunction>();
  const others = new Set<string>();
  let open = false;
  let decorators: string[] = [];
  // Inside a top-level `if`/`try`/`with`/… block: what it defines or binds is a module attribute
  // too (`try: from fast import f` / `except ImportError: def f(…)`), taken as an other name.
  let inBlock = false;
  const other = (name: string) => {
    functions.delete(name);
    others.add(name);
  };
  for (let k = 0; k < logical.length; k++) {
    const l = logical[k]!;
    if (l.indent !== 0) {
      if (!inBlock) continue;
      const inner = text.slice(l.start, l.end);
      const def = DEF.exec(inner);
      if (def) other(def[2]!);
      else bind(inner, other);
      if (/^from\s+\S+\s+import\s+\*/.test(inner)) open = true;
      continue;
    }
    const src = text.slice(l.start, l.end).replace(/^\uFEFF/, "");
    inBlock = BLOCK.test(src);
    if (src.startsWith("@")) {
      decorators.push(src.slice(1).replace(/\s+/g, " ").trim());
      continue;
    }
    const def = DEF.exec(src);
    if (def) {
      const fn = readDef(text, l, def, decorators, lines, logical[k + 1]);
      decorators = [];
      const overload = fn.decorators.some((d) => /^(typing\.)?overload$/.test(d));
      if (!overload || !functions.has(fn.name)) {
        others.delete(fn.name);
        functions.set(fn.name, fn);
      }
      continue;
    }
    decorators = [];
    bind(src, other);
    if (/^from\s+\S+\s+import\s+\*/.test(src)) open = true;
  }
  return { functions, others, open };
}

/** Calls `add` with each name a top-level statement binds (class, import, assignment, for, with). */
function bind(src: string, add: (name: string) => void): void {
  let m = /^class\s+([A-Za-z_]\w*)/.exec(src);
  if (m) return add(m[1]!);
  m = /^import\s+(.*)$/s.exec(src.replace(/#[^\n\r]*/g, ""));
  if (m) {
    for (const part of m[1]!.split(",")) {
      const a = /^\s*([\w.]+)(?:\s+as\s+(\w+))?/.exec(part);
      if (a) add(a[2] ?? a[1]!.split(".")[0]!);
    }
    return;
  }
  m = /^from\s+\S+\s+import\s+\(?(.*?)\)?\s*$/s.exec(src.replace(/#[^\n\r]*/g, ""));
  if (m) {
    for (const part of m[1]!.split(",")) {
      const a = /^\s*(\w+)(?:\s+as\s+(\w+))?/.exec(part);
      if (a && a[1] !== "*") add(a[2] ?? a[1]!);
    }
    return;
  }
  // `a = b = …`, `a: T = …`, `a, *b = …`, `(a, b) = …`: the plain names of the targets, before
  // each `=` at depth 0 (a call's `f(x=1)` binds nothing, `a.b = …` and `a[k] = …` rebind no name).
  const cuts: number[] = [];
  walkTop(src, 0, src.length, (i) => {
    if (src[i] === "=" && !"=!<>+-*/%&|^@:".includes(src[i - 1] ?? "") && src[i + 1] !== "=")
      cuts.push(i);
  });
  let from = 0;
  for (const cut of cuts) {
    const target = src.slice(from, cut).replace(/:.*$/s, "");
    for (const piece of target.replace(/^\s*[([]|[)\]]\s*$/g, "").split(",")) {
      const name = /^\s*\*?\s*([A-Za-z_]\w*)\s*$/.exec(piece);
      if (name) add(name[1]!);
    }
    from = cut + 1;
  }
}

function readDef(
  text: string,
  l: Logical,
  def: RegExpExecArray,
  decorators: readonly string[],
  lines: LineStarts,
  next: Logical | undefined,
): PythonFunction {
  const name = def[2]!;
  const base = l.start + (text.charCodeAt(l.start) === 0xfeff ? 1 : 0);
  const nameAt = base + def[0].length - name.length;
  // Type parameters (`def f[T](x: T)`, Python 3.12) come before the parameters.
  let open = skipBlank(text, nameAt + name.length);
  if (text[open] === "[") open = skipBlank(text, matching(text, open, l.end, lines) + 1);
  if (text[open] !== "(")
    throw new PythonSyntaxError(
      `\`def ${name}\` has no \`(\` for its parameters`,
      lines.line(open),
    );
  const close = matching(text, open, l.end, lines);
  const parameters = readParameters(text, splitTopLevel(text, open + 1, close), lines);
  // After `)`: `-> hint` then `:`.
  const tail = topLevelColon(text, close + 1, l.end);
  if (tail < 0) throw new PythonSyntaxError(`\`def ${name}(…)\` has no \`:\``, lines.line(l.start));
  const arrow = text.slice(close + 1, tail).trim();
  const returns = arrow.startsWith("->") ? clean(arrow.slice(2)) : undefined;
  // The docstring: the body's first statement when it is a string (same line or the next one).
  let docstring: string | undefined;
  const inline = text.slice(tail + 1, l.end).trim();
  if (inline) docstring = docFrom(text, l.strings, tail + 1, l.end);
  else if (next && next.indent > 0) docstring = docFrom(text, next.strings, next.start, next.end);
  return {
    name,
    async: !!def[1],
    parameters,
    returns,
    docstring,
    decorators,
    at: base,
    nameAt,
    line: lines.line(base) - 1,
  };
}

/** The first offset from `i` that is not a space, a tab or a line continuation. */
function skipBlank(text: string, i: number): number {
  for (;;) {
    if (text[i] === " " || text[i] === "\t") i++;
    else if (text[i] === "\\" && (text[i + 1] === "\n" || text[i + 1] === "\r"))
      i = skipNewline(text, i + 1);
    else return i;
  }
}

/** The docstring when the statement from `from` to `end` is one string literal (or several, concatenated). */
function docFrom(
  text: string,
  strings: readonly (readonly [number, number])[],
  from: number,
  end: number,
): string | undefined {
  const parts = strings.filter(([s, e]) => s >= from && e <= end);
  if (parts.length === 0) return undefined;
  // Only strings (and whitespace) up to the statement's end, which may be `;`.
  let at = from;
  const values: string[] = [];
  for (const [s, e] of parts) {
    if (text.slice(at, s).trim() !== "") return values.length ? join(values) : undefined;
    const v = stringValue(text.slice(s, e));
    if (v === undefined) return undefined;
    values.push(v);
    at = e;
  }
  const rest = text.slice(at, end).trim();
  if (rest !== "" && !rest.startsWith(";")) return undefined;
  return join(values);
}

function join(values: string[]): string {
  return cleandoc(values.join(""));
}

/** A string literal's value (simple escapes); undefined for bytes and f-strings, never docstrings. */
function stringValue(literal: string): string | undefined {
  const m = /^([a-zA-Z]*)('''|"""|'|")([\s\S]*)\2$/.exec(literal);
  if (!m) return undefined;
  const prefix = m[1]!.toLowerCase();
  if (prefix.includes("b") || prefix.includes("f")) return undefined;
  const body = m[3]!;
  if (prefix.includes("r")) return body;
  const escapes: Record<string, string> = {
    n: "\n",
    t: "\t",
    r: "\r",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "\n": "",
  };
  return body.replace(/\\(.)/gs, (all, c: string) => escapes[c] ?? all);
}

/** Python's `inspect.cleandoc`: tabs expanded, the first line stripped, the rest dedented. */
export function cleandoc(doc: string): string {
  const lines = doc.replace(/\t/g, "        ").split(/\r?\n/);
  let margin = Infinity;
  for (const line of lines.slice(1)) {
    const content = line.trimStart();
    if (content) margin = Math.min(margin, line.length - content.length);
  }
  const out = [
    lines[0]!.trimStart(),
    ...lines.slice(1).map((l) => (margin < Infinity ? l.slice(margin) : l)),
  ];
  while (out.length && out[0]!.trim() === "") out.shift();
  while (out.length && out[out.length - 1]!.trim() === "") out.pop();
  return out.map((l) => l.trimEnd()).join("\n");
}

/** The `)` matching the `(` at `open`, skipping strings and comments. */
function matching(text: string, open: number, end: number, lines: LineStarts): number {
  let depth = 0;
  for (let i = open; i < end;) {
    const c = text[i]!;
    const s = stringAt(text, i);
    if (s !== undefined) {
      i = skipString(text, s, lines);
      continue;
    }
    if (c === "#") {
      i = skipComment(text, i);
      continue;
    }
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      depth--;
      if (depth === 0) return i;
    }
    i++;
  }
  throw new PythonSyntaxError("a `def`'s parameters are never closed", lines.line(open));
}

/** When a string literal (with its prefix) starts at `i`, `i`; else undefined. */
function stringAt(text: string, i: number): number | undefined {
  const c = text[i]!;
  if (c === '"' || c === "'") return i;
  if (!/[A-Za-z]/.test(c) || (i > 0 && /\w/.test(text[i - 1]!))) return undefined;
  let j = i;
  while (j < i + 2 && /[A-Za-z]/.test(text[j] ?? "")) j++;
  return (text[j] === '"' || text[j] === "'") && PREFIX.test(text.slice(i, j)) ? i : undefined;
}

/** Walks `from`–`to` at bracket depth 0, calling `at` on each character there (strings and comments skipped). */
function walkTop(text: string, from: number, to: number, at: (i: number) => boolean | void): void {
  let depth = 0;
  const lines = new LineStarts("");
  for (let i = from; i < to;) {
    const s = stringAt(text, i);
    if (s !== undefined) {
      i = skipString(text, s, lines);
      continue;
    }
    const c = text[i]!;
    if (c === "#") {
      i = skipComment(text, i);
      continue;
    }
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (depth === 0 && at(i) === true) return;
    i++;
  }
}

/** The pieces of `from`–`to` between commas at depth 0: [start, end] pairs, empty ones dropped. */
function splitTopLevel(text: string, from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  let start = from;
  // A lambda's parameters (a default may be one) hold commas up to its `:`.
  let lambdas = 0;
  walkTop(text, from, to, (i) => {
    if (
      text.startsWith("lambda", i) &&
      !/\w/.test(text[i - 1] ?? "") &&
      !/\w/.test(text[i + 6] ?? "")
    )
      lambdas++;
    else if (text[i] === ":" && lambdas > 0) lambdas--;
    else if (text[i] === "," && lambdas === 0) {
      out.push([start, i]);
      start = i + 1;
    }
  });
  out.push([start, to]);
  return out.filter(([s, e]) => strip(text.slice(s, e)).trim() !== "");
}

function topLevelColon(text: string, from: number, to: number): number {
  let found = -1;
  walkTop(text, from, to, (i) => {
    if (text[i] === ":") {
      found = i;
      return true;
    }
  });
  return found;
}

/** Text without comments and line continuations, whitespace collapsed. */
function strip(s: string): string {
  return s.replace(/#[^\n\r]*/g, "").replace(/\\\r?\n/g, " ");
}

function clean(s: string): string {
  return s
    .replace(/\\\r?\n/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

function readParameters(
  text: string,
  pieces: [number, number][],
  lines: LineStarts,
): PythonParameter[] {
  const out: PythonParameter[] = [];
  let kind: ParameterKind = "positional";
  for (const [s, e] of pieces) {
    const piece = text.slice(s, e);
    const lead = /^(?:\s|#[^\n\r]*|\\\r?\n)*/.exec(piece)![0].length;
    const at0 = s + lead;
    const body = text.slice(at0, e);
    if (/^\/\s*$/.test(strip(body))) {
      for (let k = 0; k < out.length; k++) out[k] = { ...out[k]!, kind: "positional-only" };
      continue;
    }
    if (/^\*\s*$/.test(strip(body))) {
      kind = "keyword-only";
      continue;
    }
    const star = /^(\*\*?)\s*/.exec(body);
    const nameMatch = /^([A-Za-z_]\w*)/.exec(body.slice(star?.[0].length ?? 0));
    if (!nameMatch)
      throw new PythonSyntaxError(
        `cannot read the parameter '${clean(strip(body))}'`,
        lines.line(at0),
      );
    const name = nameMatch[1]!;
    const at = at0 + (star?.[0].length ?? 0);
    const afterName = at + name.length;
    // `name: hint = default` or `name = default`: whichever of `:` and `=` comes first at depth 0.
    let colon = -1;
    let equals = -1;
    walkTop(text, afterName, e, (i) => {
      const c = text[i];
      if (c === ":" && colon < 0 && equals < 0) colon = i;
      else if (c === "=" && equals < 0 && !"=!<>".includes(text[i - 1]!) && text[i + 1] !== "=") {
        equals = i;
        return true;
      }
    });
    const annotation =
      colon >= 0 ? clean(strip(text.slice(colon + 1, equals >= 0 ? equals : e))) : undefined;
    const def = equals >= 0 ? clean(strip(text.slice(equals + 1, e))) : undefined;
    let k: ParameterKind = kind;
    if (star?.[1] === "*") {
      k = "var-positional";
      kind = "keyword-only";
    } else if (star?.[1] === "**") k = "var-keyword";
    out.push({ name, kind: k, annotation: annotation || undefined, default: def, at });
  }
  return out;
}

/** Whether `with:` can give the parameter (by keyword). */
export function byKeyword(p: PythonParameter): boolean {
  return p.kind === "positional" || p.kind === "keyword-only";
}

/** Whether a call must give the parameter: no default, not `*args`/`**kwargs`. */
export function isRequired(p: PythonParameter): boolean {
  return p.default === undefined && p.kind !== "var-positional" && p.kind !== "var-keyword";
}

/** `def name(a: int, *, b: str = "x") -> str`, on one line. */
export function signatureText(fn: PythonFunction): string {
  const parts: string[] = [];
  let sawStar = false;
  fn.parameters.forEach((p, i) => {
    if (p.kind === "keyword-only" && !sawStar) {
      parts.push("*");
      sawStar = true;
    }
    if (p.kind === "var-positional") sawStar = true;
    const star = p.kind === "var-positional" ? "*" : p.kind === "var-keyword" ? "**" : "";
    const hint = p.annotation ? `: ${p.annotation}` : "";
    const def = p.default !== undefined ? (hint ? ` = ${p.default}` : `=${p.default}`) : "";
    parts.push(`${star}${p.name}${hint}${def}`);
    if (p.kind === "positional-only" && fn.parameters[i + 1]?.kind !== "positional-only")
      parts.push("/");
  });
  const returns = fn.returns ? ` -> ${fn.returns}` : "";
  return `${fn.async ? "async " : ""}def ${fn.name}(${parts.join(", ")})${returns}`;
}
