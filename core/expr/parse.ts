// JSONata parsing, fast. `jsonata(text)` rebuilds its parser tables on every call (~60 µs per
// expression here), so a file's expressions are parsed together as the elements of one array
// constructor `[e1, e2, …]` and the element ASTs are handed back one by one. The batch is
// trusted only when it has one element per expression and every element's token positions lie
// inside that expression's own text; otherwise (a syntax error, or texts that only parse
// together) the batch is split in halves down to single expressions. Results are cached by text.
import jsonata from "jsonata";

/** A JSONata AST node, as the library builds it (only the parts Keel reads are typed). */
export interface JNode {
  readonly type: string;
  readonly value?: unknown;
  /** Offset just after the node's token, relative to `offset` of the parsed expression. */
  readonly position?: number;
  readonly [key: string]: unknown;
}

export interface ParsedExpression {
  readonly ast?: JNode;
  /** Subtract from AST positions to get offsets in this expression's text. */
  readonly offset: number;
  readonly error?: { readonly message: string; readonly start: number; readonly end: number };
}

const CACHE_LIMIT = 50_000;
const cache = new Map<string, ParsedExpression>();

/** Parses every text (errors included); the i-th result belongs to the i-th text. */
export function parseExpressions(texts: readonly string[]): ParsedExpression[] {
  const results = new Array<ParsedExpression | undefined>(texts.length);
  const todo: number[] = [];
  const pending = new Map<string, number[]>();
  texts.forEach((text, i) => {
    const hit = cache.get(text);
    if (hit) results[i] = hit;
    else {
      const slots = pending.get(text);
      if (slots) slots.push(i);
      else {
        pending.set(text, [i]);
        todo.push(i);
      }
    }
  });
  const unique = todo.map((i) => texts[i]!);
  const parsed = new Array<ParsedExpression>(unique.length);
  parseRange(unique, 0, unique.length, parsed);
  if (cache.size + unique.length > CACHE_LIMIT) cache.clear();
  unique.forEach((text, k) => {
    cache.set(text, parsed[k]!);
    for (const i of pending.get(text)!) results[i] = parsed[k];
  });
  return results as ParsedExpression[];
}

/** Forgets every cached parse (benchmarks use it to measure cold validation). */
export function clearExpressionCache(): void {
  cache.clear();
}

export function parseExpression(text: string): ParsedExpression {
  return parseExpressions([text])[0]!;
}

function parseRange(texts: string[], from: number, to: number, out: ParsedExpression[]): void {
  if (to - from === 1) {
    out[from] = parseOne(texts[from]!);
    return;
  }
  if (to - from <= 0) return;
  if (!parseBatch(texts, from, to, out)) {
    const mid = (from + to) >> 1;
    parseRange(texts, from, mid, out);
    parseRange(texts, mid, to, out);
  }
}

function parseBatch(texts: string[], from: number, to: number, out: ParsedExpression[]): boolean {
  const starts: number[] = [];
  let source = "[";
  for (let i = from; i < to; i++) {
    if (i > from) source += "\n,";
    starts.push(source.length);
    source += texts[i];
  }
  source += "\n]";
  let ast: JNode;
  try {
    ast = jsonata(source).ast() as unknown as JNode;
  } catch {
    return false;
  }
  const elements = ast.expressions as JNode[] | undefined;
  if (ast.type !== "unary" || !elements || elements.length !== to - from) return false;
  for (let k = 0; k < elements.length; k++) {
    const lo = starts[k]!;
    const hi = lo + texts[from + k]!.length;
    if (!positionsWithin(elements[k]!, lo, hi, 0)) return false;
  }
  for (let k = 0; k < elements.length; k++)
    out[from + k] = { ast: elements[k], offset: starts[k]! };
  return true;
}

function positionsWithin(node: unknown, lo: number, hi: number, depth: number): boolean {
  if (node === null || typeof node !== "object" || depth > 500) return true;
  if (Array.isArray(node)) return node.every((n) => positionsWithin(n, lo, hi, depth + 1));
  for (const [key, child] of Object.entries(node)) {
    if (key === "position") {
      if (typeof child === "number" && (child < lo || child > hi)) return false;
    } else if (typeof child === "object" && !positionsWithin(child, lo, hi, depth + 1))
      return false;
  }
  return true;
}

function parseOne(text: string): ParsedExpression {
  if (text.trim() === "") {
    return { offset: 0, error: { message: "empty expression", start: 0, end: text.length } };
  }
  try {
    return { ast: jsonata(text).ast() as unknown as JNode, offset: 0 };
  } catch (e) {
    const err = e as { message?: string; position?: number; token?: string };
    const end = Math.max(
      0,
      Math.min(typeof err.position === "number" ? err.position : text.length, text.length),
    );
    const tokenLength =
      typeof err.token === "string" && err.token !== "(end)" ? err.token.length : 1;
    const start = Math.max(0, Math.min(end - tokenLength, text.length - 1));
    return {
      offset: 0,
      error: { message: err.message ?? String(e), start, end: Math.max(end, start + 1) },
    };
  }
}
