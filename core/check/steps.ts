// Per-step and per-input rules the schema alone cannot express.
import type { DiagnosticSink } from "../model/diagnostic";
import { describeValue, isObj } from "../model/values";
import type { StepEntry, WorkflowParts } from "./parts";

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

const TYPE_OF: Record<string, (v: unknown) => boolean> = {
  string: (v) => typeof v === "string",
  number: (v) => typeof v === "number",
  boolean: (v) => typeof v === "boolean",
  object: (v) => isObj(v),
  array: (v) => Array.isArray(v),
};

export function checkInputDefaults(parts: WorkflowParts, sink: DiagnosticSink): void {
  for (const input of parts.inputs.values()) {
    if (!isObj(input.value) || !("default" in input.value)) continue;
    const type = input.value.type;
    const matches = typeof type === "string" ? TYPE_OF[type] : undefined;
    const loc = input.loc.children?.get("default");
    if (!matches || !loc || matches(input.value.default)) continue;
    sink.add(
      "KEEL110",
      loc.span,
      `the default of input '${input.id}' is ${describeValue(input.value.default)}, but its type is ${type}`,
    );
  }
}
