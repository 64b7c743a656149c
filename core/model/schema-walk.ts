// Walks the zod schema along a document path, following the data to pick union branches (a
// step's `type`, a provider's `type`). Used by the schema check (allowed keys), and by the
// language service (completion of keys and values, hover docs from the `.describe()` texts).
import { Workflow } from "./schema";

export interface ZodDef {
  type: string;
  shape?: Record<string, ZodLike>;
  valueType?: ZodLike;
  element?: ZodLike;
  options?: readonly ZodLike[];
  innerType?: ZodLike;
  discriminator?: string;
  values?: unknown[];
  entries?: Record<string, unknown>;
}
export interface ZodLike {
  _zod: { def: ZodDef };
  description?: string;
}

/** The workflow schema, as the walker sees it. */
export const WORKFLOW_SCHEMA = Workflow as unknown as ZodLike;

/** The schema at `path` (unwrapped), its description, or undefined when the path leaves the format. */
export function schemaAt(
  schema: ZodLike,
  path: readonly PropertyKey[],
  rootValue: unknown,
): { schema: ZodLike; description?: string } | undefined {
  let s: ZodLike | undefined = schema;
  let v: unknown = rootValue;
  let description = s.description;
  for (const key of path) {
    s = unwrap(s, v);
    v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[key] : undefined;
    const def: ZodDef | undefined = s?._zod.def;
    if (!def) return undefined;
    if (def.type === "object") s = def.shape?.[String(key)];
    else if (def.type === "record") s = def.valueType;
    else if (def.type === "array") s = def.element;
    else return undefined;
    description = s?.description;
  }
  if (!s) return undefined;
  description ??= describedInside(s);
  const inner = unwrap(s, v) ?? s;
  return { schema: inner, description: description ?? inner.description };
}

/** Keys the schema allows at `path` (following the data to pick union branches). */
export function keysAt(
  schema: ZodLike,
  path: readonly PropertyKey[],
  rootValue: unknown,
): string[] {
  const found = schemaAt(schema, path, rootValue);
  const def = found?.schema._zod.def;
  return def?.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

/** Every key any branch of a union allows (an object's own keys when it is no union). */
export function branchKeys(schema: ZodLike): string[] {
  const def = schema._zod.def;
  if (def.type === "object") return Object.keys(def.shape ?? {});
  if (def.type !== "union") return [];
  return [...new Set((def.options ?? []).flatMap((o) => branchKeys(unwrap(o, undefined) ?? o)))];
}

/** The literal or enum values a schema accepts (through optional wrappers and unions). */
export function valuesOf(schema: ZodLike): unknown[] {
  const def = schema._zod.def;
  if (def.type === "optional" || def.type === "default" || def.type === "nullable")
    return def.innerType ? valuesOf(def.innerType) : [];
  if (def.type === "literal") return def.values ?? [];
  if (def.type === "enum") return Object.values(def.entries ?? {});
  if (def.type === "boolean") return [true, false];
  if (def.type === "array") return def.element ? valuesOf(def.element) : [];
  if (def.type === "union") return (def.options ?? []).flatMap(valuesOf);
  return [];
}

/** The branch of a discriminated union (steps, providers) chosen by `type`, or undefined. */
export function branchFor(schema: ZodLike, tag: string): ZodLike | undefined {
  const def = schema._zod.def;
  return def.options?.find((o) =>
    o._zod.def.shape?.[def.discriminator!]?._zod.def.values?.includes(tag),
  );
}

export function unwrap(s: ZodLike | undefined, value: unknown): ZodLike | undefined {
  while (s) {
    const def: ZodDef = s._zod.def;
    if (def.type === "optional" || def.type === "default" || def.type === "nullable") {
      s = def.innerType;
    } else if (def.type === "union" && def.options) {
      s = pickBranch(def, value);
      if (!s) return undefined;
    } else return s;
  }
  return s;
}

function describedInside(s: ZodLike): string | undefined {
  let at: ZodLike | undefined = s;
  while (at && !at.description) at = at._zod.def.innerType;
  return at?.description;
}

function pickBranch(def: ZodDef, value: unknown): ZodLike | undefined {
  const options = def.options ?? [];
  if (def.discriminator && value !== null && typeof value === "object") {
    const tag = (value as Record<string, unknown>)[def.discriminator];
    return options.find((o) =>
      o._zod.def.shape?.[def.discriminator!]?._zod.def.values?.includes(tag),
    );
  }
  const wanted = Array.isArray(value)
    ? "array"
    : value !== null && typeof value === "object"
      ? "object"
      : undefined;
  return options.find((o) => unwrap(o, value)?._zod.def.type === wanted) ?? undefined;
}
