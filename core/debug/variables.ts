// How the replay debugger shows values: JSON values become DAP variables lazily (a child gets a
// handle only when listed), arrays and objects page by `start`/`count`, long strings are cut in
// the view and given whole on copy, and every variable carries its JSONata path (`evaluateName`),
// so Add to Watch and Copy Value ask `evaluate` for exactly that value.
// Invariants: a reply never holds more items than asked (nor more than PAGE_MAX when not asked);
// no value is read from the store before its parent is expanded.
import type { DebugProtocol } from "@vscode/debugprotocol";
import { inlineValue } from "../record/refs";

/** A value kept in the store by reference, read only when it is shown. */
export class Lazy {
  constructor(readonly ref: string) {}
}

/** Strings longer than this show cut in Variables; Copy Value gives the whole text. */
export const STRING_MAX = 1_000;
/** The most children one `variables` reply holds when the client does not page. */
export const PAGE_MAX = 1_000;

/** Reads values by reference, each at most once per session. */
export class ValueCache {
  private readonly cache = new Map<string, unknown>();

  constructor(private readonly read: (ref: string) => Promise<string | undefined>) {}

  async load(ref: string | null): Promise<unknown> {
    if (ref === null) return null;
    if (this.cache.has(ref)) return this.cache.get(ref);
    const text = inlineValue(ref) ?? (await this.read(ref));
    const value =
      text === undefined ? `«value ${ref.slice(0, 12)}… not in the store»` : parse(text);
    this.cache.set(ref, value);
    return value;
  }

  /** The value read if it is Lazy (its children are read when they are listed). */
  async shallow(value: unknown): Promise<unknown> {
    return value instanceof Lazy ? this.load(value.ref) : value;
  }

  /** The value with every Lazy inside it read (our own views only: stored JSON has none). */
  async resolve(value: unknown): Promise<unknown> {
    if (value instanceof Lazy) return this.load(value.ref);
    if (Array.isArray(value)) return Promise.all(value.map((v) => this.resolve(v)));
    if (isPlainObject(value)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = await this.resolve(v);
      return out;
    }
    return value;
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Lazy);
}

/** A field of a JSONata path: bare when it is a name, in backticks otherwise. */
export function fieldPath(parent: string, key: string): string {
  const field = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : `\`${key.replace(/`/g, "")}\``;
  return parent ? `${parent}.${field}` : field;
}

/** A container whose children a `variables` request lists. */
export interface Container {
  readonly value: unknown;
  /** The JSONata path of the value itself. */
  readonly path: string;
}

/** How a value shows in one line. */
export function display(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "string") {
    if (value.length <= STRING_MAX) return JSON.stringify(value);
    return `${JSON.stringify(value.slice(0, STRING_MAX))}… (${value.length.toLocaleString("en")} characters; Copy Value copies all)`;
  }
  if (Array.isArray(value)) return `Array(${value.length})`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    const shown = keys.slice(0, 5).join(", ");
    return `{${shown}${keys.length > 5 ? ", …" : ""}}`;
  }
  if (value instanceof Lazy) return "…";
  return JSON.stringify(value) ?? String(value);
}

/** The whole value as text, for the clipboard: a string as it is, anything else as JSON. */
export function fullText(value: unknown): string {
  return typeof value === "string" ? value : (JSON.stringify(value, null, 2) ?? "undefined");
}

/** One variable; `handle` gives a container its reference. */
export function variableOf(
  name: string,
  value: unknown,
  path: string,
  handle: (c: Container) => number,
): DebugProtocol.Variable {
  const v: DebugProtocol.Variable = {
    name,
    value: display(value),
    evaluateName: path,
    variablesReference: 0,
  };
  if (Array.isArray(value)) {
    v.type = "array";
    if (value.length > 0) {
      v.variablesReference = handle({ value, path });
      v.indexedVariables = value.length;
    }
  } else if (isPlainObject(value)) {
    v.type = "object";
    const n = Object.keys(value).length;
    if (n > 0) {
      v.variablesReference = handle({ value, path });
      v.namedVariables = n;
    }
  } else {
    v.type = value === null ? "null" : typeof value;
  }
  return v;
}

/** The children of a container, one page of them, with their Lazy values read. */
export async function childrenOf(
  c: Container,
  args: { filter?: "indexed" | "named"; start?: number; count?: number },
  values: ValueCache,
  handle: (c: Container) => number,
): Promise<DebugProtocol.Variable[]> {
  const start = Math.max(0, args.start ?? 0);
  const count = Math.min(args.count && args.count > 0 ? args.count : PAGE_MAX, PAGE_MAX);
  if (Array.isArray(c.value)) {
    if (args.filter === "named") return [];
    const page = c.value.slice(start, start + count);
    const resolved = await Promise.all(page.map((v) => values.shallow(v)));
    return resolved.map((v, i) =>
      variableOf(`[${start + i}]`, v, `${c.path}[${start + i}]`, handle),
    );
  }
  if (isPlainObject(c.value)) {
    if (args.filter === "indexed") return [];
    const entries = Object.entries(c.value).slice(start, start + count);
    const resolved = await Promise.all(entries.map(([, v]) => values.shallow(v)));
    return entries.map(([k], i) => variableOf(k, resolved[i], fieldPath(c.path, k), handle));
  }
  return [];
}
