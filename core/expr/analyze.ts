// What an expression refers to, read from its JSONata AST (never from its text with patterns):
// the context paths it reads (`steps.fetch.output.items`, `inputs.q`), the functions it calls,
// and the variables it binds. Offsets are relative to the expression text.
import { parseExpression, type JNode } from "./parse";
import { wholeTemplate } from "./template";

export interface Segment {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/** A path read from the expression's context; `segments[0]` is the root name. */
export interface ContextRef {
  readonly segments: readonly Segment[];
  /** False when a non-name step follows the names (`steps.x.output.(a + b)`), so fields past it are unknown. */
  readonly complete: boolean;
}

export interface Call {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  /** The arguments as the checks can read them without running the expression. */
  readonly args: readonly Argument[];
}

/**
 * A call's argument: a literal (text, number, true, false, null) with its value, a path of
 * plain names (`steps.research`) with its names, a list constructor with its items, or
 * anything else. `start`/`end` span a literal or a path in the expression's text.
 */
export type Argument =
  | {
      readonly kind: "literal";
      readonly value: unknown;
      readonly start: number;
      readonly end: number;
    }
  | {
      readonly kind: "path";
      readonly names: readonly string[];
      readonly start: number;
      readonly end: number;
    }
  | { readonly kind: "list"; readonly items: readonly Argument[] }
  | { readonly kind: "other" };

export interface ExprInfo {
  readonly refs: readonly ContextRef[];
  readonly calls: readonly Call[];
  /**
   * Where the whole context is read rather than a named part of it: `$$` (anywhere) or `$` (at
   * the top) not followed by a name, and a leading `*` or `**`. Such a read reaches `steps`
   * without naming a step.
   */
  readonly wholeContext: readonly Segment[];
  /** Variables bound anywhere in the expression (`$x := …`, lambda parameters). */
  readonly bound: ReadonlySet<string>;
}

const memo = new WeakMap<JNode, ExprInfo>();

/** `text` is the expression source; `offset` is subtracted from AST positions. */
export function analyzeExpression(ast: JNode, text: string, offset: number): ExprInfo {
  const cached = memo.get(ast);
  if (cached) return cached;
  const refs: ContextRef[] = [];
  const calls: Call[] = [];
  const wholeContext: Segment[] = [];
  const bound = new Set<string>();
  /** A token's span from its end position and its length in the text. */
  const tokenSpan = (n: JNode, length: number, name: string): Segment => {
    const end = (n.position ?? 0) - offset;
    return { name, start: Math.max(0, end - length), end };
  };
  /** `$$` anywhere, and `$` where it is the context (at the top), are the context itself. */
  const isContext = (n: JNode, atRoot: boolean): boolean =>
    n.type === "variable" && (n.value === "$" || (n.value === "" && atRoot));
  const contextSpan = (n: JNode): Segment =>
    n.value === "$" ? tokenSpan(n, 2, "$$") : tokenSpan(n, 1, "$");
  const nameSpan = (n: JNode): Segment => {
    const name = String(n.value);
    const end = (n.position ?? 0) - offset;
    const quoted = text[end - 1] === "`";
    const start = Math.max(0, end - name.length - (quoted ? 2 : 0));
    return { name, start, end };
  };

  const walk = (node: unknown, atRoot: boolean, depth: number): void => {
    if (node === null || typeof node !== "object" || depth > 400) return;
    if (Array.isArray(node)) {
      for (const n of node) walk(n, atRoot, depth + 1);
      return;
    }
    const n = node as JNode;
    switch (n.type) {
      case "path":
        walkPath(n, atRoot, depth);
        return;
      case "name":
        // A lone name is normally wrapped in a path; handle it anyway.
        if (atRoot) refs.push({ segments: [nameSpan(n)], complete: true });
        walkChildren(n, false, depth, notMeta);
        return;
      case "function":
      case "partial": {
        const proc = n.procedure as JNode | undefined;
        if (proc?.type === "variable") {
          const name = String(proc.value);
          const end = (proc.position ?? 0) - offset;
          const args = ((n.arguments as JNode[] | undefined) ?? []).map(argumentOf);
          calls.push({ name, start: Math.max(0, end - name.length - 1), end, args });
        } else walk(proc, atRoot, depth + 1);
        walk(n.arguments, atRoot, depth + 1);
        return;
      }
      case "variable":
        if (isContext(n, atRoot)) wholeContext.push(contextSpan(n));
        walkChildren(n, false, depth, notMeta);
        return;
      case "lambda":
        for (const a of (n.arguments as JNode[] | undefined) ?? []) bound.add(String(a.value));
        walk(n.body, false, depth + 1);
        return;
      case "bind": {
        const lhs = n.lhs as JNode | undefined;
        if (lhs?.type === "variable") bound.add(String(lhs.value));
        walk(n.rhs, atRoot, depth + 1);
        return;
      }
      default:
        walkChildren(n, atRoot, depth, notMeta);
    }
  };

  const walkChildren = (
    n: JNode,
    atRoot: boolean,
    depth: number,
    include: (key: string) => boolean,
  ): void => {
    for (const key of Object.keys(n)) {
      if (!include(key)) continue;
      const child = n[key];
      if (child !== null && typeof child === "object") {
        // Filters, sort terms and group-by run against each item, not against the context.
        const itemScoped =
          key === "stages" || key === "predicate" || key === "group" || key === "terms";
        walk(child, atRoot && !itemScoped, depth + 1);
      }
    }
  };

  const walkPath = (n: JNode, atRoot: boolean, depth: number): void => {
    const steps = (n.steps as JNode[] | undefined) ?? [];
    const segments: Segment[] = [];
    let complete = true;
    // `$$.steps.x` (and `$.steps.x` at the top) read the context as `steps.x` does.
    const first = steps[0];
    const from = first && isContext(first, atRoot) && plainStep(first) ? 1 : 0;
    if (from === 1 && steps[1]?.type !== "name") wholeContext.push(contextSpan(first!));
    if (atRoot && (first?.type === "wildcard" || first?.type === "descendant"))
      wholeContext.push(tokenSpan(first, String(first.value).length, String(first.value)));
    steps.forEach((step, i) => {
      if (i < from) return;
      const leading = complete && i - from === segments.length;
      if (step.type === "name" && leading) {
        segments.push(nameSpan(step));
        // A filter or binding on the root (`steps[0]`, `steps@$s`) reads the whole root.
        if (segments.length === 1 && !plainStep(step)) complete = false;
        walkChildren(step, false, depth, notMeta);
      } else {
        if (leading) complete = false;
        walk(step, atRoot && i === 0, depth + 1);
      }
    });
    if ((atRoot || from === 1) && segments.length > 0) refs.push({ segments, complete });
    walkChildren(n, false, depth, (key) => key !== "steps" && notMeta(key));
  };

  const argumentOf = (a: JNode): Argument => {
    const end = (a.position ?? 0) - offset;
    if (a.type === "string")
      return { kind: "literal", value: a.value, start: quotedStart(text, end), end };
    if (a.type === "number" || a.type === "value") {
      const length = String(a.value).length;
      return { kind: "literal", value: a.value, start: Math.max(0, end - length), end };
    }
    if (a.type === "unary" && a.value === "[" && plainStep(a, "expressions")) {
      return {
        kind: "list",
        items: ((a.expressions as JNode[] | undefined) ?? []).map(argumentOf),
      };
    }
    const steps = a.type === "path" ? ((a.steps as JNode[] | undefined) ?? []) : [];
    if (
      steps.length > 0 &&
      plainStep(a, "steps") &&
      steps.every((st) => st.type === "name" && plainStep(st))
    ) {
      const spans = steps.map(nameSpan);
      return {
        kind: "path",
        names: spans.map((sp) => sp.name),
        start: spans[0]!.start,
        end: spans[spans.length - 1]!.end,
      };
    }
    return { kind: "other" };
  };

  walk(ast, true, 0);
  const info = { refs, calls, wholeContext, bound };
  memo.set(ast, info);
  return info;
}

const META = new Set(["type", "value", "position", "keepArray", "consarray", "tuple"]);
const notMeta = (key: string): boolean => !META.has(key);

/**
 * A path step with nothing on it (no filter, sort, focus or index binding, grouping); `also`
 * is one more key the node may have (a path's `steps`, a list's `expressions`).
 */
function plainStep(step: JNode, also?: string): boolean {
  for (const key of Object.keys(step))
    if (
      step[key] !== undefined &&
      key !== "type" &&
      key !== "value" &&
      key !== "position" &&
      key !== also
    )
      return false;
  return true;
}

/** Where the string literal ending at `end` starts: its opening quote, escapes skipped. */
function quotedStart(text: string, end: number): number {
  const quote = text[end - 1];
  for (let i = end - 2; i >= 0; i--) {
    if (text[i] !== quote) continue;
    let slashes = 0;
    while (i - slashes - 1 >= 0 && text[i - slashes - 1] === "\\") slashes++;
    if (slashes % 2 === 0) return i;
  }
  return 0;
}

/** JSONata's built-in functions (https://docs.jsonata.org/overview), checked by a test. */
export const JSONATA_FUNCTIONS: ReadonlySet<string> = new Set(
  (
    "sum count max min average string substring substringBefore substringAfter lowercase " +
    "uppercase length trim pad match contains replace split join formatNumber formatBase " +
    "formatInteger parseInteger number floor ceil round abs power sqrt random millis now " +
    "boolean not exists map zip filter single reduce sift keys lookup append spread merge " +
    "reverse each error assert type sort shuffle distinct base64encode base64decode " +
    "encodeUrlComponent encodeUrl decodeUrlComponent decodeUrl eval toMillis fromMillis clone"
  ).split(" "),
);

/** Functions that break replay: their value differs between a run and its replay. */
export const IMPURE_FUNCTIONS: ReadonlySet<string> = new Set(["now", "millis", "random"]);

/** Keel's status functions, meaningful in `if` only. */
export const STATUS_FUNCTIONS: ReadonlySet<string> = new Set([
  "always",
  "success",
  "failure",
  "cancelled",
]);

/** Keel's own functions, usable in any expression (evaluate.ts registers them). */
export const KEEL_FUNCTIONS: ReadonlySet<string> = new Set(["trajectory"]);

/**
 * What a bare expression field reads and calls (a whole-value `${{ }}` unwrapped, as the runner
 * does); undefined when it is not text or does not parse.
 */
export function analyzeBare(value: unknown): ExprInfo | undefined {
  if (typeof value !== "string") return undefined;
  const whole = wholeTemplate(value);
  const text = whole ? value.slice(whole.exprStart, whole.exprEnd) : value;
  const parsed = parseExpression(text);
  return parsed.ast ? analyzeExpression(parsed.ast, text, parsed.offset) : undefined;
}
