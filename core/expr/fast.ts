// A synchronous evaluator for the simple JSONata that most workflow expressions are: paths of
// names, literals, arithmetic, string concatenation, comparisons, `and`/`or`, conditions, and a
// few functions (`$count`, `$sum`, `$max`, `$min`, `$length`, `$substring`).
// jsonata's own evaluator awaits at every node (about 18 µs for `steps.a.output + 1`); this one
// answers in well under a microsecond.
// Invariant: it returns exactly what jsonata would, or FALLBACK, and then jsonata decides. Where
// jsonata's rules get subtle (arrays inside a path, type coercion, errors, non-finite numbers),
// it always falls back. test/core/expr/fast.test.ts holds it to jsonata with random expressions.
import type { JNode } from "./parse";

export const FALLBACK: unique symbol = Symbol("fallback");
type Value = unknown;
type Compiled = (context: Readonly<Record<string, unknown>>) => Value | typeof FALLBACK;

const ARITHMETIC: Record<string, (a: number, b: number) => number> = {
  "+": (a, b) => a + b,
  "-": (a, b) => a - b,
  "*": (a, b) => a * b,
  "/": (a, b) => a / b,
  "%": (a, b) => a % b,
};

const ORDER: Record<string, (a: number | string, b: number | string) => boolean> = {
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
};

/**
 * The keys a node of each type may have for this evaluator to take it. jsonata hangs filters
 * (`predicate`, `stages`), grouping (`group`), focus and index bindings, sorting and array
 * keeping on nodes of any type (`[1, 2][0]`, `$count(x)[1]`, `(s){"k": 1}`); a node with any key
 * not listed here is left to jsonata whole, so that nothing it means is ever dropped.
 */
const KEYS: Readonly<Record<string, ReadonlySet<string>>> = {
  string: new Set(["type", "value", "position"]),
  number: new Set(["type", "value", "position"]),
  value: new Set(["type", "value", "position"]),
  name: new Set(["type", "value", "position"]),
  variable: new Set(["type", "value", "position"]),
  path: new Set(["type", "steps", "position"]),
  block: new Set(["type", "expressions", "position"]),
  unary: new Set(["type", "value", "expressions", "expression", "position"]),
  function: new Set(["type", "value", "procedure", "arguments", "position"]),
  condition: new Set(["type", "condition", "then", "else", "position"]),
  binary: new Set(["type", "value", "lhs", "rhs", "position"]),
};

/** True when the node has no key beyond those of its type that this evaluator reads. */
function plain(node: JNode): boolean {
  const allowed = KEYS[node.type];
  if (!allowed) return false;
  // Own keys only: jsonata's name nodes inherit its parser's token fields (id, lbp, nud). A key
  // set to undefined means nothing (every call node has `name: undefined`).
  for (const key of Object.keys(node))
    if (node[key] !== undefined && !allowed.has(key)) return false;
  return true;
}

/** A compiled evaluator for the AST, or undefined when it uses anything beyond the subset. */
export function compileFast(node: JNode): Compiled | undefined {
  if (!plain(node)) return undefined;
  switch (node.type) {
    case "string":
    case "number": {
      const value = node.value;
      return () => value;
    }
    case "value": {
      const value = node.value;
      return value === true || value === false || value === null ? () => value : undefined;
    }
    case "path":
      return compilePath(node);
    case "block": {
      const inner = node.expressions as JNode[] | undefined;
      return inner?.length === 1 ? compileFast(inner[0]!) : undefined;
    }
    case "unary":
      if (node.value === "[") return compileArray((node.expressions as JNode[] | undefined) ?? []);
      return node.value === "-" ? compileNegate(node.expression as JNode) : undefined;
    case "function":
      return compileCall(node);
    case "condition":
      return compileCondition(node);
    case "binary":
      return compileBinary(node);
    default:
      return undefined;
  }
}

function compilePath(node: JNode): Compiled | undefined {
  const steps = node.steps as JNode[] | undefined;
  if (!steps || steps.length === 0) return undefined;
  const names: string[] = [];
  for (const step of steps) {
    if (step.type !== "name" || !plain(step)) return undefined;
    names.push(String(step.value));
  }
  return (context) => {
    let at: unknown = context;
    for (let i = 0; i < names.length; i++) {
      // An array on the way means JSONata's mapping and flattening rules: leave those to it.
      if (Array.isArray(at)) return FALLBACK;
      if (at === null || typeof at !== "object") return undefined;
      at = (at as Record<string, unknown>)[names[i]!];
      if (at === undefined) return undefined;
    }
    return at;
  };
}

/** `[a, b]`: missing values are left out; an array element means flattening rules: fall back. */
function compileArray(items: readonly JNode[]): Compiled | undefined {
  const parts = items.map(compileFast);
  if (parts.some((p) => !p)) return undefined;
  const compiled = parts as Compiled[];
  return (context) => {
    const out: unknown[] = [];
    for (let i = 0; i < compiled.length; i++) {
      const v = compiled[i]!(context);
      if (v === FALLBACK || Array.isArray(v)) return FALLBACK;
      if (v !== undefined) out.push(v);
    }
    return out;
  };
}

/** Aggregates over numbers: `$sum`, `$max`, `$min`, `$count` of one argument. */
const AGGREGATES: Record<string, (numbers: number[]) => number | undefined> = {
  sum: (n) => {
    let total = 0;
    for (let i = 0; i < n.length; i++) total += n[i]!;
    return total;
  },
  max: (n) => extreme(n, (a, b) => a > b),
  min: (n) => extreme(n, (a, b) => a < b),
};

/** The largest (or smallest) number, as Math.max/min give it (NaN wins); undefined for none. */
function extreme(
  n: readonly number[],
  better: (a: number, b: number) => boolean,
): number | undefined {
  if (n.length === 0) return undefined;
  let best = n[0]!;
  for (let i = 1; i < n.length; i++) {
    const x = n[i]!;
    if (Number.isNaN(x)) return x;
    if (better(x, best) || (x === 0 && best === 0 && better(1 / x, 1 / best))) best = x;
  }
  return best;
}

function allNumbers(values: readonly unknown[]): values is number[] {
  for (let i = 0; i < values.length; i++) if (typeof values[i] !== "number") return false;
  return true;
}

function compileCall(node: JNode): Compiled | undefined {
  const procedure = node.procedure as JNode | undefined;
  const args = node.arguments as JNode[] | undefined;
  if (procedure?.type !== "variable" || !plain(procedure) || !args) return undefined;
  const name = String(procedure.value);
  if (name === "substring") return compileSubstring(args);
  if (args.length !== 1) return undefined;
  const arg = compileFast(args[0]!);
  if (!arg) return undefined;
  if (name === "count") {
    return (context) => {
      const v = arg(context);
      if (v === FALLBACK) return FALLBACK;
      return v === undefined ? 0 : Array.isArray(v) ? v.length : 1;
    };
  }
  if (name === "length") {
    return (context) => {
      const v = arg(context);
      return typeof v === "string" && !SURROGATE.test(v) ? v.length : FALLBACK;
    };
  }
  const aggregate = AGGREGATES[name];
  if (!aggregate) return undefined;
  return (context) => {
    const v = arg(context);
    if (v === FALLBACK) return FALLBACK;
    if (v === undefined) return undefined;
    const numbers: unknown[] = Array.isArray(v) ? v : [v];
    if (!allNumbers(numbers)) return FALLBACK;
    const r = aggregate(numbers);
    return r === undefined || Number.isFinite(r) ? r : FALLBACK;
  };
}

/**
 * jsonata counts characters by code point; in a string without surrogates each code unit is one,
 * so JavaScript's own indices agree with it. Strings with surrogates fall back.
 */
const SURROGATE = /[\uD800-\uDFFF]/;

/** `$substring(s, start[, length])` of a string with integer positions, as jsonata computes it. */
function compileSubstring(args: readonly JNode[]): Compiled | undefined {
  if (args.length < 2 || args.length > 3) return undefined;
  const parts = args.map(compileFast);
  if (parts.some((p) => !p)) return undefined;
  const [str, from, count] = parts as Compiled[];
  return (context) => {
    const s = str!(context);
    const start = from!(context);
    const length = count ? count(context) : undefined;
    if (typeof s !== "string" || SURROGATE.test(s) || !Number.isInteger(start)) return FALLBACK;
    if (count && !Number.isInteger(length)) return FALLBACK;
    const at = s.length + (start as number) < 0 ? 0 : (start as number);
    if (!count) return s.slice(at);
    if ((length as number) <= 0) return "";
    return s.slice(at, at >= 0 ? at + (length as number) : s.length + at + (length as number));
  };
}

function compileNegate(operand: JNode): Compiled | undefined {
  const inner = compileFast(operand);
  if (!inner) return undefined;
  return (context) => {
    const v = inner(context);
    if (v === FALLBACK) return FALLBACK;
    if (v === undefined) return undefined;
    return typeof v === "number" ? -v : FALLBACK;
  };
}

function compileCondition(node: JNode): Compiled | undefined {
  const test = compileFast(node.condition as JNode);
  const then = compileFast(node.then as JNode);
  const otherwise = node.else === undefined ? () => undefined : compileFast(node.else as JNode);
  if (!test || !then || !otherwise) return undefined;
  return (context) => {
    const c = test(context);
    if (c === FALLBACK || (c !== undefined && typeof c !== "boolean")) return FALLBACK;
    return c === true ? then(context) : otherwise(context);
  };
}

function compileBinary(node: JNode): Compiled | undefined {
  const op = String(node.value);
  const lhs = compileFast(node.lhs as JNode);
  const rhs = compileFast(node.rhs as JNode);
  if (!lhs || !rhs) return undefined;
  const both = (context: Readonly<Record<string, unknown>>): [Value, Value] | typeof FALLBACK => {
    const a = lhs(context);
    if (a === FALLBACK) return FALLBACK;
    const b = rhs(context);
    return b === FALLBACK ? FALLBACK : [a, b];
  };
  const arithmetic = ARITHMETIC[op];
  if (arithmetic) {
    return (context) => {
      // Both sides without an array in between: this is the hot path of pure DAGs.
      const a = lhs(context);
      if (a === FALLBACK) return FALLBACK;
      const b = rhs(context);
      if (b === FALLBACK) return FALLBACK;
      // jsonata checks each side that has a value before it looks for a missing one.
      if ((a !== undefined && typeof a !== "number") || (b !== undefined && typeof b !== "number"))
        return FALLBACK;
      if (a === undefined || b === undefined) return undefined;
      const r = arithmetic(a as number, b as number);
      return Number.isFinite(r) ? r : FALLBACK;
    };
  }
  const order = ORDER[op];
  if (order) {
    return (context) => {
      const v = both(context);
      if (v === FALLBACK) return FALLBACK;
      const [a, b] = v;
      const orderable = (x: unknown) =>
        x === undefined || typeof x === "number" || typeof x === "string";
      if (!orderable(a) || !orderable(b)) return FALLBACK;
      if (a === undefined || b === undefined) return undefined;
      const sameKind =
        (typeof a === "number" && typeof b === "number") ||
        (typeof a === "string" && typeof b === "string");
      return sameKind ? order(a as number | string, b as number | string) : FALLBACK;
    };
  }
  switch (op) {
    case "&":
      return (context) => {
        const v = both(context);
        if (v === FALLBACK) return FALLBACK;
        const [a, b] = v;
        if (
          (a !== undefined && typeof a !== "string") ||
          (b !== undefined && typeof b !== "string")
        )
          return FALLBACK;
        return (a ?? "") + (b ?? "");
      };
    case "=":
    case "!=":
      return (context) => {
        const v = both(context);
        if (v === FALLBACK) return FALLBACK;
        const [a, b] = v;
        if (a === undefined || b === undefined) return false;
        if (!primitive(a) || !primitive(b)) return FALLBACK;
        return op === "=" ? a === b : a !== b;
      };
    case "and":
    case "or":
      return (context) => {
        const v = both(context);
        if (v === FALLBACK) return FALLBACK;
        const [a, b] = v;
        if (typeof a !== "boolean" || typeof b !== "boolean") return FALLBACK;
        return op === "and" ? a && b : a || b;
      };
    default:
      return undefined;
  }
}

function primitive(v: unknown): boolean {
  return v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}
