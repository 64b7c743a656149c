// Checks a step's output against its `output.schema` (for http the body, for shell the stdout).
import type { ValidateFunction } from "ajv";
import { validatorFor } from "../model/json-values";
import { StepError } from "./errors";

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
  let validate: ValidateFunction;
  try {
    validate = validatorFor(schema);
  } catch (e) {
    throw new StepError(
      "config",
      `output.schema is not a valid JSON Schema: ${(e as Error).message}`,
    );
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
