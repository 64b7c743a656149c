// Values checked against what the workflow declares for them: a JSON Schema compiled once per
// text (outputs' and inputs' `schema`), and an input's value against its `type` and `schema`.
// Browser-safe: the validator (core/check) and the runner (core/runner/inputs.ts) share it.
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import type { Workflow } from "./schema";
import { describeValue, isObj } from "./untyped";

const ajv = new Ajv({ allErrors: false, strict: false });
const compiled = new Map<string, ValidateFunction>();

/** A JSON Schema compiled once per text; throws when it is not valid JSON Schema. */
export function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(key, validate);
  }
  return validate;
}

export type Input = NonNullable<Workflow["inputs"]>[string];

const TYPE_OF: Record<Input["type"], (v: unknown) => boolean> = {
  string: (v) => typeof v === "string",
  number: (v) => typeof v === "number" && Number.isFinite(v),
  boolean: (v) => typeof v === "boolean",
  object: (v) => isObj(v),
  array: (v) => Array.isArray(v),
};

/** Why `value` is not a valid value of input `name`: the rule it breaks; undefined when it is valid. */
export function inputProblem(
  name: string,
  input: { readonly type: Input["type"]; readonly schema?: Record<string, unknown> },
  value: unknown,
): string | undefined {
  const fits = TYPE_OF[input.type];
  if (fits && !fits(value))
    return `input '${name}' is ${describeValue(value)}, but its type is ${input.type}`;
  if (!input.schema) return undefined;
  let validate;
  try {
    validate = validatorFor(input.schema);
  } catch (e) {
    return `the schema of input '${name}' is not a valid JSON Schema: ${(e as Error).message}`;
  }
  if (validate(value)) return undefined;
  return `input '${name}' is ${describeValue(value)}, which breaks its schema: ${ruleText(validate.errors?.[0])}`;
}

/** An ajv error as the rule it names: where, what, and the schema keyword. */
function ruleText(error: ErrorObject | undefined): string {
  if (!error) return "invalid";
  const where = error.instancePath ? `at ${error.instancePath} ` : "";
  const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues;
  const message =
    error.keyword === "enum" && allowed
      ? `must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}`
      : (error.message ?? "invalid");
  return `${where}${message} (\`${error.keyword}\`)`;
}
