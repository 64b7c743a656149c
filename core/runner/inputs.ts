// A run's inputs from the command line or a file: `--input k=v` is coerced by the declared type
// (JSON for object and array) and may be combined with `--inputs file.json`. Every value, a
// default included, is checked against its input's `type` and `schema` before anything runs
// (docs/format.md, "Inputs").
import type { Workflow } from "../model/schema";
import { inputProblem } from "../model/json-values";

export interface InputResolution {
  readonly inputs: Record<string, unknown>;
  readonly problems: string[];
}

export function resolveInputs(
  workflow: Workflow,
  fromFile: Readonly<Record<string, unknown>>,
  given: readonly [string, string][],
): InputResolution {
  const declared = workflow.inputs ?? {};
  const inputs: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, value] of Object.entries(fromFile)) {
    if (!(name in declared)) problems.push(`unknown input '${name}' in the inputs file`);
    else inputs[name] = value;
  }
  for (const [name, text] of given) {
    const input = declared[name];
    if (!input) {
      problems.push(
        `unknown input '${name}': the workflow declares ${Object.keys(declared).join(", ") || "no inputs"}`,
      );
      continue;
    }
    const coerced = coerce(input.type, text);
    if (coerced.ok) inputs[name] = coerced.value;
    else
      problems.push(
        `input '${name}' must be ${input.type === "array" || input.type === "object" ? `JSON (${input.type})` : `a ${input.type}`}, not '${text}'`,
      );
  }
  for (const [name, input] of Object.entries(declared)) {
    if (!(name in inputs)) {
      if (input.default !== undefined) inputs[name] = input.default;
      else problems.push(`input '${name}' is required: pass --input ${name}=…`);
    }
  }
  // Values that could not be read as their type are already reported; check the others.
  for (const [name, value] of Object.entries(inputs)) {
    const problem = inputProblem(name, declared[name]!, value);
    if (problem) problems.push(problem);
  }
  return { inputs, problems };
}

function coerce(type: string, text: string): { ok: true; value: unknown } | { ok: false } {
  switch (type) {
    case "string":
      return { ok: true, value: text };
    case "number": {
      const n = Number(text);
      return text.trim() !== "" && Number.isFinite(n) ? { ok: true, value: n } : { ok: false };
    }
    case "boolean":
      return text === "true" || text === "false"
        ? { ok: true, value: text === "true" }
        : { ok: false };
    default:
      try {
        const value = JSON.parse(text) as unknown;
        const isArray = Array.isArray(value);
        const fits =
          type === "array" ? isArray : value !== null && typeof value === "object" && !isArray;
        return fits ? { ok: true, value } : { ok: false };
      } catch {
        return { ok: false };
      }
  }
}
