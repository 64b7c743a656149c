// A Python function's signature as a JSON Schema `parameters` object, for a model calling it as a
// tool (docs/dev/authoring.md, "Python signatures"): the type hints give the types, the
// docstring's `Args:` section (Google style) or `Parameters` section (NumPy style) the
// descriptions. Pure: the signature comes from model/python-signatures.ts.
import { byKeyword, isRequired, type PythonFunction } from "./python-signatures";

export type JsonSchema = { [key: string]: unknown };

/** The descriptions of a docstring's parameters, by name (Google or NumPy style). */
export function docArgs(doc: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!doc) return out;
  const lines = doc.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const google =
      /^(\s*)(?:Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments):\s*$/.exec(line);
    const numpy =
      /^(\s*)(?:Parameters|Other Parameters)\s*$/.exec(line) &&
      /^\s*-{3,}\s*$/.test(lines[i + 1] ?? "");
    if (!google && !numpy) continue;
    const base = (google?.[1] ?? /^\s*/.exec(line)![0]).length;
    let j = i + (numpy ? 2 : 1);
    let name: string | undefined;
    let itemIndent = -1;
    for (; j < lines.length; j++) {
      const l = lines[j]!;
      if (l.trim() === "") {
        if (name && out.get(name)) out.set(name, `${out.get(name)}\n`);
        continue;
      }
      const indent = /^\s*/.exec(l)![0].length;
      // The section ends at a line indented like its heading (Google) or at the next heading (NumPy).
      if (google && indent <= base) break;
      if (numpy && indent <= base && /^\s*-{3,}\s*$/.test(lines[j + 1] ?? "")) break;
      if (itemIndent < 0) itemIndent = indent;
      const item = google
        ? /^\s*\**([A-Za-z_]\w*)\s*(?:\([^)]*\))?\s*:\s*(.*)$/.exec(l)
        : /^\s*\**([A-Za-z_]\w*)\s*(?::\s*.*)?$/.exec(l);
      if (indent === itemIndent && item) {
        name = item[1]!;
        out.set(name, google ? item[2]!.trim() : "");
      } else if (name) {
        const prev = out.get(name)!;
        out.set(name, prev === "" || prev.endsWith("\n") ? prev + l.trim() : `${prev} ${l.trim()}`);
      }
    }
    i = j - 1;
  }
  for (const [k, v] of out) out.set(k, v.trim().replace(/\n+/g, "\n"));
  return out;
}

/** The docstring's summary: its text before the first blank line or section heading. */
export function docSummary(doc: string | undefined): string | undefined {
  if (!doc) return undefined;
  const first = doc.split(/\n\s*\n/)[0]!.trim();
  return first || undefined;
}

/**
 * The JSON Schema of the keyword arguments `fn` takes: `{type: "object", properties, required,
 * additionalProperties}`. Positional-only parameters and `*args` are left out (a model passes
 * keywords); `**kwargs` allows other properties (typed by its hint). A hint this does not know
 * (a class, a forward reference, `Any`) gives a property with no `type`.
 */
export function parametersSchema(fn: PythonFunction): JsonSchema {
  const docs = docArgs(fn.docstring);
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const p of fn.parameters) {
    if (!byKeyword(p)) continue;
    const schema = p.annotation ? hintSchema(p.annotation) : {};
    const description = docs.get(p.name);
    const value = p.default !== undefined ? literal(p.default) : undefined;
    properties[p.name] = {
      ...schema,
      ...(description ? { description } : {}),
      ...(value !== undefined ? { default: value.value } : {}),
    };
    if (isRequired(p)) required.push(p.name);
  }
  const kwargs = fn.parameters.find((p) => p.kind === "var-keyword");
  const out: JsonSchema = { type: "object", properties };
  if (required.length) out.required = required;
  out.additionalProperties = kwargs
    ? kwargs.annotation
      ? hintSchema(kwargs.annotation)
      : true
    : false;
  const summary = docSummary(fn.docstring);
  if (summary) out.description = summary;
  return out;
}

const SIMPLE: Record<string, JsonSchema> = {
  str: { type: "string" },
  int: { type: "integer" },
  float: { type: "number" },
  bool: { type: "boolean" },
  None: { type: "null" },
  NoneType: { type: "null" },
  list: { type: "array" },
  List: { type: "array" },
  Sequence: { type: "array" },
  tuple: { type: "array" },
  Tuple: { type: "array" },
  set: { type: "array", uniqueItems: true },
  Set: { type: "array", uniqueItems: true },
  dict: { type: "object" },
  Dict: { type: "object" },
  Mapping: { type: "object" },
  Any: {},
  object: {},
};

/** The JSON Schema of a type hint's text; `{}` for what it does not know. */
export function hintSchema(hint: string): JsonSchema {
  const text = hint.trim();
  // A string hint (a forward reference) is read as the hint it holds.
  const quoted = /^(['"])(.*)\1$/s.exec(text);
  if (quoted) return hintSchema(quoted[2]!);
  const union = splitTop(text, "|");
  if (union.length > 1) return anyOf(union.map(hintSchema));
  const m = /^([\w.]+)\s*(?:\[(.*)\])?$/s.exec(text);
  if (!m) return {};
  const name = m[1]!.replace(/^(typing|typing_extensions|collections\.abc|builtins)\./, "");
  const args = m[2] !== undefined ? splitTop(m[2], ",") : [];
  switch (name) {
    case "Optional":
      return args[0] ? anyOf([hintSchema(args[0]), { type: "null" }]) : {};
    case "Union":
      return anyOf(args.map(hintSchema));
    case "Literal": {
      const values = args.map((a) => literal(a));
      if (values.some((v) => v === undefined)) return {};
      const vs = values.map((v) => v!.value);
      const types = [...new Set(vs.map(jsonType))];
      return types.length === 1 ? { type: types[0], enum: vs } : { enum: vs };
    }
    case "Annotated":
      return args[0] ? hintSchema(args[0]) : {};
    case "list":
    case "List":
    case "Sequence":
    case "set":
    case "Set":
    case "frozenset":
    case "Iterable":
      return {
        ...(SIMPLE[name] ?? { type: "array" }),
        ...(args[0] ? { items: hintSchema(args[0]) } : {}),
      };
    case "tuple":
    case "Tuple":
      if (args.length === 2 && args[1] === "...")
        return { type: "array", items: hintSchema(args[0]!) };
      if (args.length === 0) return { type: "array" };
      return {
        type: "array",
        prefixItems: args.map(hintSchema),
        minItems: args.length,
        maxItems: args.length,
      };
    case "dict":
    case "Dict":
    case "Mapping":
      return args[1]
        ? { type: "object", additionalProperties: hintSchema(args[1]) }
        : { type: "object" };
  }
  return SIMPLE[name] ? { ...SIMPLE[name] } : {};
}

function anyOf(schemas: JsonSchema[]): JsonSchema {
  if (schemas.some((s) => Object.keys(s).length === 0)) return {};
  const simple = schemas.every((s) => Object.keys(s).length === 1 && typeof s.type === "string");
  if (simple) return { type: [...new Set(schemas.map((s) => s.type as string))] };
  return { anyOf: schemas };
}

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** A Python literal's value (strings, numbers, True/False/None, lists and dicts of them). */
export function literal(text: string): { value: unknown } | undefined {
  const t = text.trim();
  if (t === "None") return { value: null };
  if (t === "True") return { value: true };
  if (t === "False") return { value: false };
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t)) return { value: Number(t) };
  const s = /^([rRuU]?)(['"])((?:\\.|(?!\2).)*)\2$/s.exec(t);
  if (s) {
    if (s[1]!.toLowerCase() === "r") return { value: s[3] };
    const escapes: Record<string, string> = { n: "\n", t: "\t", r: "\r" };
    return { value: s[3]!.replace(/\\(.)/gs, (_, c: string) => escapes[c] ?? c) };
  }
  const list = /^[[(](.*)[\])]$/s.exec(t);
  if (list) {
    const items = splitTop(list[1]!, ",").map(literal);
    return items.every(Boolean) ? { value: items.map((i) => i!.value) } : undefined;
  }
  const dict = /^\{(.*)\}$/s.exec(t);
  if (dict) {
    const out: Record<string, unknown> = {};
    for (const pair of splitTop(dict[1]!, ",")) {
      const [k, v] = splitTop(pair, ":");
      const key = k === undefined ? undefined : literal(k);
      const value = v === undefined ? undefined : literal(v);
      if (!key || typeof key.value !== "string" || !value) return undefined;
      out[key.value] = value.value;
    }
    return { value: out };
  }
  return undefined;
}

/** `text` cut at `sep` outside brackets and strings, pieces trimmed, empty ones dropped. */
function splitTop(text: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    else if (c === sep && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim()).filter(Boolean);
}
