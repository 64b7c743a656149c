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
  const output = isObj(step.value.output) ? step.value.output : undefined;
  const schema = output && isObj(output.schema) ? output.schema : undefined;
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
  let at: Obj = schema;
  let path = `steps.${step.id}.output${envelope ? `.${envelope.schemaField}` : ""}`;
  for (const field of rest) {
    const found = lookupField(at, field.name);
    if (found.kind === "unknown") return;
    if (found.kind === "absent") {
      const where = span(field.start, field.end);
      const hint = didYouMean(field.name, found.declared);
      const schemaOf = `(output schema of step '${step.id}')`;
      if (found.closed) {
        sink.add("KEEL206", where, `${path} has no field '${field.name}' ${schemaOf}${hint}`);
      } else if (found.declared.length > 0) {
        sink.add("KEEL207", where, `${path} does not declare '${field.name}' ${schemaOf}${hint}`);
      }
      return;
    }
    at = found.schema;
    path += `.${field.name}`;
  }
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
