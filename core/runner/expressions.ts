// Evaluating a workflow's expressions at run time: bare JSONata fields and `${{ }}` templates.
// Expressions are compiled once per text; Keel's status functions are passed as bindings.
import jsonata from "jsonata";
import { scanTemplates, wholeTemplate } from "../expr/template";
import { compileFast, FALLBACK } from "../expr/fast";
import { parseExpression } from "../expr/parse";

type Compiled = ReturnType<typeof jsonata>;

const compiled = new Map<string, Compiled>();

/** The data an expression sees (SPEC §4), plus the status functions an `if` may call. */
export interface ExprScope {
  readonly context: Readonly<Record<string, unknown>>;
  readonly bindings?: Readonly<Record<string, unknown>>;
}

export class ExpressionError extends Error {
  override readonly name = "ExpressionError";

  constructor(
    readonly expression: string,
    message: string,
  ) {
    super(message);
  }
}

function compile(text: string): Compiled {
  let c = compiled.get(text);
  if (!c) {
    try {
      c = jsonata(text);
    } catch (e) {
      throw new ExpressionError(text, `invalid expression \`${text}\`: ${(e as Error).message}`);
    }
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(text, c);
  }
  return c;
}

/** Evaluates a bare expression (a whole-value `${{ }}` is unwrapped). Numbers and booleans are literals. */
export async function evaluateBare(value: unknown, scope: ExprScope): Promise<unknown> {
  if (typeof value !== "string") return value;
  const whole = wholeTemplate(value);
  const text = whole ? value.slice(whole.exprStart, whole.exprEnd) : value;
  return evaluate(text, scope);
}

/**
 * Evaluates a bare expression synchronously when it is within the fast subset (expr/fast.ts);
 * FALLBACK when only jsonata can answer it (then use `evaluateBare`).
 */
export function evaluateBareSync(value: unknown, scope: ExprScope): unknown {
  if (typeof value !== "string") return value;
  let fast = fastByField.get(value);
  if (fast === undefined) {
    const whole = wholeTemplate(value);
    fast = fastFor(whole ? value.slice(whole.exprStart, whole.exprEnd) : value);
    if (fastByField.size > 10_000) fastByField.clear();
    fastByField.set(value, fast);
  }
  return fast ? fast(scope.context) : FALLBACK;
}

/** A field's text as written (a whole-value `${{ }}` not yet unwrapped) → its evaluator. */
const fastByField = new Map<string, ReturnType<typeof compileFast> | null>();

export { FALLBACK };

const fastByText = new Map<string, ReturnType<typeof compileFast> | null>();

/** The synchronous evaluator for `text`, when it is within the fast subset (see expr/fast.ts). */
function fastFor(text: string): ReturnType<typeof compileFast> | null {
  let fast = fastByText.get(text);
  if (fast === undefined) {
    // The validator parsed every expression of the file in one batch: this is a cache hit.
    const parsed = parseExpression(text);
    fast = (parsed.ast && compileFast(parsed.ast)) || null;
    if (fastByText.size > 10_000) fastByText.clear();
    fastByText.set(text, fast);
  }
  return fast;
}

export async function evaluate(text: string, scope: ExprScope): Promise<unknown> {
  const fast = fastFor(text);
  if (fast) {
    const value = fast(scope.context);
    if (value !== FALLBACK) return value;
  }
  try {
    return await compile(text).evaluate(scope.context, scope.bindings as Record<string, unknown>);
  } catch (e) {
    if (e instanceof ExpressionError) throw e;
    const err = e as { message?: string; code?: string };
    throw new ExpressionError(
      text,
      `expression \`${text.trim()}\` failed: ${err.message ?? String(e)}`,
    );
  }
}

/**
 * Renders templates in a value: strings with `${{ }}` are evaluated (a whole-value template keeps
 * its type; otherwise values are written into the text), objects and lists are rendered deeply.
 */
export async function render(value: unknown, scope: ExprScope): Promise<unknown> {
  const quick = renderSync(value, scope);
  return quick === FALLBACK ? renderAsync(value, scope) : quick;
}

/** `render` without a promise, when every expression in the value is within the fast subset; else FALLBACK. */
export function renderSync(value: unknown, scope: ExprScope): unknown {
  if (typeof value === "string") {
    if (!value.includes("${{")) return value;
    const whole = wholeTemplate(value);
    if (whole) {
      const fast = fastFor(value.slice(whole.exprStart, whole.exprEnd));
      const v = fast ? fast(scope.context) : FALLBACK;
      return v === FALLBACK ? FALLBACK : toJson(v);
    }
    let out = "";
    let at = 0;
    for (const part of scanTemplates(value).parts) {
      const fast = fastFor(value.slice(part.exprStart, part.exprEnd));
      const v = fast ? fast(scope.context) : FALLBACK;
      if (v === FALLBACK) return FALLBACK;
      out += value.slice(at, part.start) + asText(v);
      at = part.end;
    }
    return out + value.slice(at);
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) {
      const r = renderSync(v, scope);
      if (r === FALLBACK) return FALLBACK;
      out.push(r);
    }
    return out;
  }
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = renderSync(v, scope);
      if (r === FALLBACK) return FALLBACK;
      out[k] = r;
    }
    return out;
  }
  return value;
}

async function renderAsync(value: unknown, scope: ExprScope): Promise<unknown> {
  if (typeof value === "string") {
    if (!value.includes("${{")) return value;
    const whole = wholeTemplate(value);
    if (whole) return toJson(await evaluate(value.slice(whole.exprStart, whole.exprEnd), scope));
    let out = "";
    let at = 0;
    for (const part of scanTemplates(value).parts) {
      out += value.slice(at, part.start);
      out += asText(await evaluate(value.slice(part.exprStart, part.exprEnd), scope));
      at = part.end;
    }
    return out + value.slice(at);
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => render(v, scope)));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await render(v, scope);
    return out;
  }
  return value;
}

/** How a value reads inside text: strings as they are, nothing as "", the rest as JSON. */
export function asText(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  return JSON.stringify(toJson(v));
}

/** Plain JSON data: JSONata sequences become arrays, undefined becomes null, functions vanish. */
export function toJson(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === "function") return null;
  if (Array.isArray(v)) return v.map(toJson);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      if (x !== undefined && typeof x !== "function") out[k] = toJson(x);
    return out;
  }
  return v;
}
