// Semantic tokens for expressions (inside `${{ }}` and in bare expression fields): context names,
// step/input references, fields, functions, variables, strings, numbers, regular expressions,
// operators and keywords. Each token is a run of the document text on one line.
import { scalarSourceMap } from "../model/scalar-map";
import type { WorkflowModel } from "../check/validate";
import { JSONATA_FUNCTIONS, KEEL_FUNCTIONS, STATUS_FUNCTIONS } from "../expr/analyze";
import type { AnalyzedSite } from "../check/references";

export const TOKEN_TYPES = [
  "namespace",
  "variable",
  "property",
  "function",
  "string",
  "number",
  "regexp",
  "operator",
  "keyword",
  "comment",
] as const;
export const TOKEN_MODIFIERS = ["readonly", "defaultLibrary"] as const;

export type TokenType = (typeof TOKEN_TYPES)[number];

export interface Token {
  /** Offset in the document text; the token never crosses a line break. */
  readonly start: number;
  readonly length: number;
  readonly type: TokenType;
  /** Bit i set: TOKEN_MODIFIERS[i]. */
  readonly modifiers: number;
}

const READONLY = 1;
const LIBRARY = 2;
const KEYWORDS = new Set(["and", "or", "in", "true", "false", "null"]);
const OPERATORS = [
  ":=",
  "!=",
  "<=",
  ">=",
  "~>",
  "..",
  "??",
  "?:",
  "+",
  "-",
  "*",
  "/",
  "%",
  "&",
  "=",
  "<",
  ">",
  "?",
  ":",
];
const CONTEXT_ROOTS = new Set(["inputs", "steps", "run", "env", "secrets", "output"]);

/** Tokens of every expression of the document, in document order, not overlapping. */
export function semanticTokens(model: WorkflowModel): Token[] {
  const text = model.yaml.text;
  const out: Token[] = [];
  for (const analyzed of model.sites) {
    const { site } = analyzed;
    const scalar = site.loc.scalar;
    if (!scalar || site.loc.viaAlias || typeof scalar.value !== "string" || site.valueStart < 0)
      continue;
    const map = scalarSourceMap(text, scalar);
    for (const t of lex(analyzed)) {
      // Map each character; a token becomes one run per stretch of adjacent text on one line.
      let runStart = -1;
      let prev = -2;
      const flush = () => {
        if (runStart >= 0)
          out.push({
            start: runStart,
            length: prev + 1 - runStart,
            type: t.type,
            modifiers: t.modifiers,
          });
        runStart = -1;
      };
      for (let i = t.start; i < t.end; i++) {
        const at = map[site.valueStart + i];
        if (at === undefined) break;
        const c = text.charCodeAt(at);
        if (c === 10 || c === 13) {
          flush();
          prev = -2;
          continue;
        }
        if (at !== prev + 1) flush();
        if (runStart < 0) runStart = at;
        prev = at;
      }
      flush();
    }
  }
  out.sort((a, b) => a.start - b.start);
  const kept: Token[] = [];
  for (const t of out) {
    const last = kept[kept.length - 1];
    if (!last || t.start >= last.start + last.length) kept.push(t);
  }
  return kept;
}

interface ExprToken {
  readonly start: number;
  readonly end: number;
  readonly type: TokenType;
  readonly modifiers: number;
}

function lex({ site, info }: AnalyzedSite): ExprToken[] {
  const src = site.text;
  const names = new Map<number, { type: TokenType; modifiers: number }>();
  for (const ref of info.refs) {
    const root = ref.segments[0];
    const known = root && CONTEXT_ROOTS.has(root.name);
    ref.segments.forEach((s, i) => {
      const kind =
        i === 0 && known
          ? { type: "namespace" as const, modifiers: 0 }
          : i === 1 && known
            ? { type: "variable" as const, modifiers: READONLY }
            : { type: "property" as const, modifiers: 0 };
      names.set(s.start, kind);
    });
  }
  const tokens: ExprToken[] = [];
  let operand = false;
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const start = i;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "*") {
      const close = src.indexOf("*/", i + 2);
      i = close < 0 ? src.length : close + 2;
      tokens.push({ start, end: i, type: "comment", modifiers: 0 });
      continue;
    }
    if (c === '"' || c === "'") {
      i++;
      while (i < src.length && src[i] !== c) i += src[i] === "\\" ? 2 : 1;
      i = Math.min(i + 1, src.length);
      tokens.push({ start, end: i, type: "string", modifiers: 0 });
      operand = true;
      continue;
    }
    if (c === "/" && !operand) {
      i++;
      while (i < src.length && src[i] !== "/") i += src[i] === "\\" ? 2 : 1;
      i = Math.min(i + 1, src.length);
      while (i < src.length && /[a-z]/.test(src[i]!)) i++;
      tokens.push({ start, end: i, type: "regexp", modifiers: 0 });
      operand = true;
      continue;
    }
    const number = /^\d+(\.\d+)?([eE][+-]?\d+)?/.exec(src.slice(i));
    if (number) {
      i += number[0].length;
      tokens.push({ start, end: i, type: "number", modifiers: 0 });
      operand = true;
      continue;
    }
    const word = /^(\$?[A-Za-z_][\w]*|\$|`[^`]*`)/.exec(src.slice(i));
    if (word) {
      i += word[0].length;
      const w = word[0];
      if (w.startsWith("$")) {
        const call = /^\s*\(/.test(src.slice(i));
        const name = w.slice(1);
        const library =
          JSONATA_FUNCTIONS.has(name) || STATUS_FUNCTIONS.has(name) || KEEL_FUNCTIONS.has(name);
        tokens.push({
          start,
          end: i,
          type: call ? "function" : "variable",
          modifiers: call && library ? LIBRARY : 0,
        });
      } else if (KEYWORDS.has(w)) {
        tokens.push({ start, end: i, type: "keyword", modifiers: 0 });
      } else {
        const kind = names.get(start) ?? { type: "property" as const, modifiers: 0 };
        tokens.push({ start, end: i, ...kind });
      }
      operand = !(w === "and" || w === "or" || w === "in");
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op) {
      i += op.length;
      tokens.push({ start, end: i, type: "operator", modifiers: 0 });
      operand = false;
      continue;
    }
    i++;
    operand = c === ")" || c === "]" || c === "}";
  }
  return tokens;
}
