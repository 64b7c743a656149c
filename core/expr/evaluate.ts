// Evaluating a workflow's expressions at run time: bare JSONata fields and `${{ }}` templates.
// Expressions are compiled once per text; Keel's status functions are passed as bindings, and
// `$trajectory` is registered on every compiled expression.
import jsonata from "jsonata";
import { scanTemplates, wholeTemplate } from "./template";
import { compileFast, FALLBACK } from "./fast";
import { parseExpression } from "./parse";
import { trajectory } from "./trajectory";

type Compiled = ReturnType<typeof jsonata>;

const compiled = new Map<string, Compiled>();

/** The data an expression sees (docs/format.md), plus the status functions an `if` may call. */
export interface ExprScope {
  readonly context: Readonly<Record<string, unknown>>;
  readonly bindings?: Readonly<Record<string, unknown>>;
  /**
   * Stops an evaluation by jsonata: a step's time limit or the run's cancel. The evaluation
   * throws the signal's reason, within `EXPRESSION_LIMITS.yieldMs` of the abort.
   */
  readonly signal?: AbortSignal;
  /** A time limit of its own (the debugger's evaluate, which has no step): D1012 past it. */
  readonly timeoutMs?: number;
}

export class ExpressionError extends Error {
  override readonly name = "ExpressionError";

  constructor(
    readonly expression: string,
    message: string,
    /** jsonata's error code (`D3030`, `T2001`, `D1011` for too deep, `D1012` for too long). */
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * The limits on an evaluation by jsonata (docs/runner.md, "Limits on expressions"). Depth counts
 * the nodes being evaluated at once, across the branches jsonata evaluates side by side, so it
 * bounds the memory a non-tail recursion holds; a tail recursion does not deepen, and only time
 * or a cancel ends it. jsonata's own sequence limit bounds the arrays an expression builds.
 */
export const EXPRESSION_LIMITS = {
  /** Nodes in evaluation at once; past it jsonata's D1011 ("Stack overflow"). */
  depth: 20_000,
  /** Items in one sequence (`[1..n]`, `$append`); past it jsonata's D2015. */
  sequence: 10_000_000,
  /** How long an evaluation holds the event loop before it lets timers, signals and I/O run. */
  yieldMs: 10,
};

/**
 * The state of one evaluation, bound in its environment under a name no expression can write
 * (it has a space), so that the hooks below, shared by every evaluation of a compiled
 * expression, find their own.
 */
const GUARD = "keel guard";

interface Guard {
  depth: number;
  lastYield: number;
  readonly signal: AbortSignal | undefined;
  readonly deadline: number;
  readonly timeoutMs: number | undefined;
}

interface HookEnv {
  lookup(name: string): unknown;
}

/** Called by jsonata as it enters every node: depth, cancel, time, and a turn for the event loop. */
function enter(_node: unknown, _input: unknown, env: HookEnv): Promise<void> | undefined {
  const guard = env.lookup(GUARD) as Guard | undefined;
  if (!guard) return undefined;
  if (++guard.depth > EXPRESSION_LIMITS.depth)
    throw { code: "D1011", value: EXPRESSION_LIMITS.depth, stack: new Error().stack };
  if (guard.signal?.aborted) throw guard.signal.reason;
  const now = performance.now();
  if (now > guard.deadline) throw { code: "D1012", value: guard.timeoutMs };
  if (now - guard.lastYield < EXPRESSION_LIMITS.yieldMs) return undefined;
  guard.lastYield = now;
  return breathe(guard);
}

/** Lets timers, signal handlers and I/O run, then checks again whether to stop. */
async function breathe(guard: Guard): Promise<void> {
  await new Promise<void>((r) => setImmediate(r));
  if (guard.signal?.aborted) throw guard.signal.reason;
}

function leave(_node: unknown, _input: unknown, env: HookEnv): void {
  const guard = env.lookup(GUARD) as Guard | undefined;
  if (guard) guard.depth--;
}

function compile(text: string): Compiled {
  let c = compiled.get(text);
  if (!c) {
    try {
      c = jsonata(text, { sequence: EXPRESSION_LIMITS.sequence });
    } catch (e) {
      const err = e as { message?: string; code?: string };
      throw new ExpressionError(text, `invalid expression \`${text}\`: ${withCode(err)}`, err.code);
    }
    c.assign(Symbol.for("jsonata.__evaluate_entry") as unknown as string, enter);
    c.assign(Symbol.for("jsonata.__evaluate_exit") as unknown as string, leave);
    // Keel's functions for any expression (analyze.ts KEEL_FUNCTIONS); the status functions
    // are bound per step by the runner instead.
    c.registerFunction("trajectory", trajectory);
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(text, c);
  }
  return c;
}

/** jsonata's message with its code in front (`D3030: Unable to cast value to a number: "a"`). */
function withCode(err: { message?: string; code?: string }): string {
  const message = err.message ?? String(err);
  return err.code && !message.startsWith(err.code) ? `${err.code}: ${message}` : message;
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
  const expression = compile(text);
  const guard: Guard = {
    depth: 0,
    lastYield: performance.now(),
    signal: scope.signal,
    deadline: scope.timeoutMs === undefined ? Infinity : performance.now() + scope.timeoutMs,
    timeoutMs: scope.timeoutMs,
  };
  try {
    return await expression.evaluate(scope.context, { ...scope.bindings, [GUARD]: guard });
  } catch (e) {
    // A stop is thrown as the signal's reason, whatever jsonata wrapped it in (`$eval` does).
    if (scope.signal?.aborted) throw scope.signal.reason;
    const err = e as { message?: string; code?: string };
    throw new ExpressionError(
      text,
      `expression \`${text.trim()}\` failed: ${withCode(err)}`,
      err.code,
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
