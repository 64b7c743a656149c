// Checks a step's output against its `output.schema` (for http the body, for shell the stdout).
import Ajv, { type ValidateFunction } from "ajv";
import { StepError } from "./errors";

const ajv = new Ajv({ allErrors: false, strict: false });
const compiled = new Map<string, ValidateFunction>();

export function checkOutput(
  stepType: string,
  schema: Record<string, unknown> | undefined,
  output: unknown,
): void {
  if (!schema) return;
  const subject =
    stepType === "http"
      ? (output as { body?: unknown })?.body
      : stepType === "shell"
        ? (output as { stdout?: unknown })?.stdout
        : output;
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    try {
      validate = ajv.compile(schema);
    } catch (e) {
      throw new StepError(
        "config",
        `output.schema is not a valid JSON Schema: ${(e as Error).message}`,
      );
    }
    compiled.set(key, validate);
  }
  if (!validate(subject)) {
    const first = validate.errors?.[0];
    const where = first?.instancePath ? `at ${first.instancePath} ` : "";
    throw new StepError(
      "invalid_output",
      `the output does not match output.schema: ${where}${first?.message ?? "invalid"}`,
    );
  }
}
