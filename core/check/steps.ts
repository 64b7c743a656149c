// Per-step and per-input rules the schema alone cannot express.
import type { DiagnosticSink } from "../model/diagnostic";
import { describeValue, isObj } from "../model/untyped";
import type { StepEntry, WorkflowParts } from "./parts";
import { inputProblem } from "../model/json-values";

/** An `llm` step has exactly one of `prompt` and `messages`. */
export function checkStepRules(step: StepEntry, sink: DiagnosticSink): void {
  if (step.type !== "llm") return;
  const hasPrompt = "prompt" in step.value;
  const hasMessages = "messages" in step.value;
  if (hasPrompt && hasMessages) {
    const loc = step.loc.children?.get("messages");
    sink.add(
      "KEEL108",
      loc?.keySpan ?? step.keySpan,
      `llm step '${step.id}' has both \`prompt\` and \`messages\`: keep one`,
    );
  } else if (!hasPrompt && !hasMessages) {
    sink.add(
      "KEEL108",
      step.keySpan,
      `llm step '${step.id}' has no \`prompt\` or \`messages\`: add what to ask the model`,
    );
  }
}

/**
 * A default that is not a valid value of its own input (its `type`, then its `schema`) is an
 * error: the run refuses it before anything runs (core/runner/inputs.ts, the same check).
 */
export function checkInputDefaults(parts: WorkflowParts, sink: DiagnosticSink): void {
  for (const input of parts.inputs.values()) {
    if (!isObj(input.value) || !("default" in input.value)) continue;
    const { type, schema } = input.value;
    const loc = input.loc.children?.get("default");
    if (!loc || !INPUT_TYPES.some((t) => t === type)) continue;
    const typed = { type: type as (typeof INPUT_TYPES)[number] };
    const wrongType = inputProblem(input.id, typed, input.value.default);
    if (wrongType) {
      sink.add(
        "KEEL110",
        loc.span,
        `the default of input '${input.id}' is ${describeValue(input.value.default)}, but its type is ${type}`,
      );
      continue;
    }
    if (!isObj(schema)) continue;
    const broken = inputProblem(input.id, { ...typed, schema }, input.value.default);
    if (broken)
      sink.add(
        "KEEL111",
        loc.span,
        broken.startsWith("input ") ? `the default of ${broken}` : broken,
      );
  }
}

const INPUT_TYPES = ["string", "number", "boolean", "object", "array"] as const;
