// Per-step and per-input rules the schema alone cannot express.
import type { DiagnosticSink } from "../model/diagnostic";
import { describeValue, isObj } from "../model/untyped";
import type { StepEntry, WorkflowParts } from "./parts";
import { inputProblem } from "../model/json-values";

/**
 * An `llm` (or `agent`) step has at most one of `prompt`, `messages` and `prompt_file`, and one
 * of them or a system prompt (`system:` alone is a prompt), at most one of `system` and
 * `system_file`, and `with:` only beside a prompt file (docs/format.md "Prompt files").
 */
export function checkStepRules(step: StepEntry, sink: DiagnosticSink): void {
  if (step.type !== "llm" && step.type !== "agent") return;
  const kind = step.type;
  const asks = (["prompt", "messages", "prompt_file"] as const).filter((k) => k in step.value);
  const at = (key: string) => step.loc.children?.get(key)?.keySpan ?? step.keySpan;
  const system = "system" in step.value || "system_file" in step.value;
  if (asks.length > 1) {
    sink.add(
      "KEEL108",
      at(asks[1]!),
      `${kind} step '${step.id}' has both \`${asks[0]}\` and \`${asks[1]}\`: keep one`,
    );
  } else if (asks.length === 0 && !system) {
    sink.add(
      "KEEL108",
      step.keySpan,
      `${kind} step '${step.id}' has no \`prompt\`, \`messages\`, \`prompt_file\` or \`system\`: add what to ask the model`,
    );
  }
  if ("system" in step.value && "system_file" in step.value)
    sink.add(
      "KEEL108",
      at("system_file"),
      `${kind} step '${step.id}' has both \`system\` and \`system_file\`: keep one`,
    );
  if ("with" in step.value && !("prompt_file" in step.value) && !("system_file" in step.value))
    sink.add(
      "KEEL108",
      at("with"),
      `${kind} step '${step.id}' has \`with:\` but no \`prompt_file\` or \`system_file\` to give it to`,
    );
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
