// Field references against an upstream step's declared output: `steps.x.output.a.b` must exist
// in x's `output.schema` (for `http` the schema describes `body`, for `shell` `stdout`).
import type { DiagnosticSink, Span } from "../model/diagnostic";
import { STEP_TYPES } from "../model/schema";
import { didYouMean } from "../model/suggest";
import { isObj, type Obj } from "../model/untyped";
import type { Segment } from "../expr/analyze";
import type { StepEntry } from "./parts";

const ENVELOPES: Record<string, { fields: string[]; schemaField: string }> = {
  http: { fields: ["status", "headers", "body"], schemaField: "body" },
  shell: { fields: ["exit_code", "stdout", "stderr"], schemaField: "stdout" },
};

export function checkOutputField(
  step: StepEntry,
  fields: readonly Segment[],
  span: (start: number, end: number) => Span,
  sink: DiagnosticSink,
): void {
  // A step whose type is not one Keel knows (misspelt, or set aside by a YAML error) has an
  // output of unknown shape: its type's own diagnostic is the one to show.
  if (step.type !== undefined && !(STEP_TYPES as readonly string[]).includes(step.type)) return;
  const schema = declaredSchema(step);
  const envelope = step.type ? ENVELOPES[step.type] : undefined;
  let rest = fields;
  if (envelope) {
    const first = fields[0]!;
    if (!envelope.fields.includes(first.name)) {
      sink.add(
        "KEEL209",
        span(first.start, first.end),
        `the output of ${step.type} step '${step.id}' has ${envelope.fields.join(", ")}, not '${first.name}'${didYouMean(first.name, envelope.fields)}`,
      );
      return;
    }
    if (first.name !== envelope.schemaField) return;
    rest = fields.slice(1);
  }
  if (!schema) return;
  const path = `steps.${step.id}.output${envelope ? `.${envelope.schemaField}` : ""}`;
  checkFieldPath(schema, rest, path, `(output schema of step '${step.id}')`, span, sink);
}

/**
 * `fields` read from a value whose JSON Schema is `schema`, named `path` in messages: a field a
 * closed schema lacks is KEEL206, one an open schema does not declare KEEL207; `schemaOf` says
 * where the schema comes from.
 */
export function checkFieldPath(
  schema: Obj,
  fields: readonly Segment[],
  path: string,
  schemaOf: string,
  span: (start: number, end: number) => Span,
  sink: DiagnosticSink,
): void {
  let at: Obj = schema;
  let named = path;
  for (const field of fields) {
    const found = lookupField(at, field.name);
    if (found.kind === "unknown") return;
    if (found.kind === "absent") {
      const where = span(field.start, field.end);
      const hint = didYouMean(field.name, found.declared);
      if (found.closed) {
        sink.add("KEEL206", where, `${named} has no field '${field.name}' ${schemaOf}${hint}`);
      } else if (found.declared.length > 0) {
        sink.add("KEEL207", where, `${named} does not declare '${field.name}' ${schemaOf}${hint}`);
      }
      return;
    }
    at = found.schema;
    named += `.${field.name}`;
  }
}

/** What the value of `steps.<id>.output.<fields>` is by the step's type and output schema. */
export type ValueShape =
  | { readonly kind: "list"; readonly items: Obj | undefined }
  | { readonly kind: "other"; readonly what: string; readonly by?: string }
  | { readonly kind: "unknown" };

/**
 * The shape of `steps.<id>.output.<fields>`, for `for_each`. A map step's output is a list; a path
 * through an array is a list too (JSONata maps over it). Anything uncertain (`anyOf`, `$ref`, a
 * schema without `type`) is unknown, so that only a sure mismatch is reported.
 */
export function outputShape(step: StepEntry, fields: readonly string[]): ValueShape {
  if (step.type === undefined || !(STEP_TYPES as readonly string[]).includes(step.type)) {
    return { kind: "unknown" };
  }
  const map = "for_each" in step.value;
  const envelope = ENVELOPES[step.type];
  let rest = fields;
  let schema: Obj | undefined = declaredSchema(step);
  if (envelope) {
    if (fields.length === 0) {
      if (map) return { kind: "list", items: undefined };
      return {
        kind: "other",
        what: `an object (${envelope.fields.join(", ")})`,
        by: `by the type of ${step.type} step '${step.id}': its list may be steps.${step.id}.output.${envelope.schemaField}`,
      };
    }
    if (fields[0] !== envelope.schemaField) return { kind: "unknown" };
    rest = fields.slice(1);
  } else if (step.type === "workflow") {
    if (fields.length === 0 && !map)
      return {
        kind: "other",
        what: "an object",
        by: `(the outputs of the child workflow of step '${step.id}')`,
      };
    schema = undefined;
  }
  // A map step's output, read whole, is the list of its items' outputs.
  if (map && rest.length === 0) return { kind: "list", items: schema };
  let list = map;
  let at = schema;
  for (const name of rest) {
    if (at && plain(at) && at.type === "array") {
      list = true;
      at = isObj(at.items) ? at.items : undefined;
    }
    if (!at || !plain(at)) return list ? { kind: "list", items: undefined } : { kind: "unknown" };
    const props = isObj(at.properties) ? at.properties : undefined;
    const sub = props?.[name];
    at = isObj(sub) ? sub : undefined;
  }
  if (!at) return list ? { kind: "list", items: undefined } : { kind: "unknown" };
  // JSONata flattens a path through arrays: a list of lists reads as one list.
  if (at.type === "array") return { kind: "list", items: isObj(at.items) ? at.items : undefined };
  if (list) return { kind: "list", items: at };
  if (typeof at.type !== "string" || !plain(at)) return { kind: "unknown" };
  return { kind: "other", what: TYPE_WORDS[at.type] ?? at.type };
}

const TYPE_WORDS: Record<string, string> = {
  object: "an object",
  string: "a string",
  number: "a number",
  integer: "a number",
  boolean: "a boolean",
  null: "null",
};

/** A schema with no combinators or references, whose `type` (if any) is one name. */
function plain(schema: Obj): boolean {
  return (
    !["anyOf", "oneOf", "allOf", "$ref", "not", "if"].some((k) => k in schema) &&
    (schema.type === undefined || typeof schema.type === "string")
  );
}

function declaredSchema(step: StepEntry): Obj | undefined {
  const output = isObj(step.value.output) ? step.value.output : undefined;
  return output && isObj(output.schema) ? output.schema : undefined;
}

type Lookup =
  | { kind: "present"; schema: Obj }
  | { kind: "absent"; closed: boolean; declared: string[] }
  | { kind: "unknown" };

/** Looks a field up in a JSON Schema; arrays are transparent (JSONata maps a path over them). */
function lookupField(schema: Obj, name: string, depth = 0): Lookup {
  if (depth > 32 || "$ref" in schema) return { kind: "unknown" };
  if (isObj(schema.items) && !isObj(schema.properties))
    return lookupField(schema.items, name, depth + 1);
  for (const key of ["allOf", "anyOf", "oneOf"] as const) {
    const branches = schema[key];
    if (!Array.isArray(branches) || branches.length === 0) continue;
    const results = branches.filter(isObj).map((b) => lookupField(b, name, depth + 1));
    const present = results.find((r) => r.kind === "present");
    if (present) return present;
    if (results.some((r) => r.kind === "unknown")) return { kind: "unknown" };
    const absent = results as Extract<Lookup, { kind: "absent" }>[];
    return {
      kind: "absent",
      closed: key === "allOf" ? absent.some((r) => r.closed) : absent.every((r) => r.closed),
      declared: absent.flatMap((r) => r.declared),
    };
  }
  const properties = isObj(schema.properties) ? schema.properties : undefined;
  const sub = properties?.[name];
  if (isObj(sub)) return { kind: "present", schema: sub };
  if (properties && name in properties) return { kind: "present", schema: {} };
  const scalarType =
    typeof schema.type === "string" &&
    ["string", "number", "integer", "boolean", "null"].includes(schema.type);
  if (!properties && !scalarType) return { kind: "unknown" };
  const closed =
    scalarType || (schema.additionalProperties === false && !isObj(schema.patternProperties));
  return { kind: "absent", closed, declared: properties ? Object.keys(properties) : [] };
}

/** Field names readable after `steps.<id>.output.<path>`: the type's envelope, then the schema's. */
export function outputFieldsAt(step: StepEntry, path: readonly string[]): string[] {
  const envelope = step.type ? ENVELOPES[step.type] : undefined;
  let rest = path;
  if (envelope) {
    if (path.length === 0) return envelope.fields;
    if (path[0] !== envelope.schemaField) return [];
    rest = path.slice(1);
  }
  const output = isObj(step.value.output) ? step.value.output : undefined;
  let at: Obj | undefined = output && isObj(output.schema) ? output.schema : undefined;
  for (const name of rest) {
    if (!at) return [];
    const found = lookupField(at, name);
    at = found.kind === "present" ? found.schema : undefined;
  }
  return at ? propertiesOf(at, 0) : [];
}

function propertiesOf(schema: Obj, depth: number): string[] {
  if (depth > 32) return [];
  if (isObj(schema.items) && !isObj(schema.properties))
    return propertiesOf(schema.items, depth + 1);
  const names = new Set(isObj(schema.properties) ? Object.keys(schema.properties) : []);
  for (const key of ["allOf", "anyOf", "oneOf"] as const) {
    const branches = schema[key];
    if (Array.isArray(branches))
      for (const b of branches.filter(isObj))
        for (const n of propertiesOf(b, depth + 1)) names.add(n);
  }
  return [...names];
}
