// Prompt files for the editor (docs/editor.md, "Prompt files"): in a workflow, the prompt file a
// step's `prompt_file:` / `system_file:` names; in a prompt file, the input a `${{ }}` reads or
// declares, its occurrences, and the steps of the workspace's workflows that use the file (their
// `prompt_file:` value and the `with:` keys that give its inputs). Browser-safe: texts come in.
import { DiagnosticSink, type Diagnostic, type Span } from "../model/diagnostic";
import type { StepEntry } from "../check/parts";
import type { WorkflowModel } from "../check/validate";
import { checkPromptFile, type PromptFileCheck } from "../check/prompt-file";
import type { PromptInput } from "../model/prompt-file";
import type { LastRun } from "../protocol/lsp";

const PROMPT_KEYS = ["prompt_file", "system_file"] as const;

/** A step's `prompt_file:` or `system_file:` value, with the file it names as written. */
export interface PromptFileMention {
  readonly step: StepEntry;
  readonly key: (typeof PROMPT_KEYS)[number];
  readonly path: string;
  readonly span: Span;
}

/** The `prompt_file:` / `system_file:` value at `offset` in a workflow, if any. */
export function promptFileAt(model: WorkflowModel, offset: number): PromptFileMention | undefined {
  return promptFileMentions(model).find((m) => offset >= m.span.start && offset <= m.span.end);
}

/** Every `prompt_file:` and `system_file:` of the workflow's llm steps, in file order. */
export function promptFileMentions(model: WorkflowModel): PromptFileMention[] {
  const out: PromptFileMention[] = [];
  for (const step of model.parts?.steps.values() ?? []) {
    if (step.type !== "llm") continue;
    for (const key of PROMPT_KEYS) {
      const path = step.value[key];
      const loc = step.loc.children?.get(key);
      if (typeof path === "string" && loc) out.push({ step, key, path, span: loc.span });
    }
  }
  return out;
}

/** A step of a workflow that uses a prompt file: its `prompt_file:` value and `with:` keys. */
export interface PromptFileUse {
  readonly step: string;
  readonly file: Span;
  /** The `with:` keys by input name. */
  readonly inputs: ReadonlyMap<string, Span>;
}

/** The steps of `model` whose prompt file resolves (by `resolve`) to `file`. */
export function promptFileUses(
  model: WorkflowModel,
  resolve: (path: string) => string,
  file: string,
): PromptFileUse[] {
  return promptFileMentions(model)
    .filter((m) => resolve(m.path) === file)
    .map((m) => {
      const inputs = new Map<string, Span>();
      for (const [name, loc] of m.step.loc.children?.get("with")?.children ?? [])
        if (typeof name === "string" && loc.keySpan) inputs.set(name, loc.keySpan);
      return { step: m.step.id, file: m.span, inputs };
    });
}

/** The input named at `offset` in a prompt file: in a `${{ }}` or its declaration. */
export function promptInputAt(
  check: PromptFileCheck,
  offset: number,
): { readonly name: string; readonly span: Span } | undefined {
  for (const v of check.variables)
    if (offset >= v.start && offset <= v.end) return { name: v.name, span: v };
  for (const input of check.file.inputs.values())
    if (offset >= input.span.start && offset <= input.span.end)
      return { name: input.name, span: input.span };
  return undefined;
}

/**
 * The input's declaration and every `${{ }}` that reads it, in a Markdown prompt file (a
 * `.prompt.yml` is read-only to Keel: its placeholders are its declarations, nothing is listed).
 */
export function promptInputOccurrences(
  check: PromptFileCheck,
  name: string,
  includeDeclaration = true,
): Span[] {
  const decl = check.file.inputs.get(name);
  if (check.file.syntax !== "keel") return [];
  const reads = check.variables
    .filter((v) => v.name === name)
    .map((v): Span => ({ start: v.start, end: v.end }));
  return decl && includeDeclaration ? [decl.span, ...reads] : reads;
}

/** The prompt file `text` at `path`, checked (cached by content). */
export function promptFileCheck(text: string, path: string): PromptFileCheck {
  return checkPromptFile(text, path);
}

/**
 * Hover on a step's `prompt_file:` / `system_file:`: the file and its inputs, then the prompt the
 * step's last run rendered from it (`promptPreview`, given by the client's `keel/lastRun`).
 */
export function promptFileHover(
  mention: PromptFileMention,
  check: PromptFileCheck | undefined,
  lastRun: LastRun | null,
): string {
  const lines = [`**prompt file** \`${mention.path}\``];
  if (!check) lines.push("", "The file does not exist.");
  else {
    const inputs = [...check.file.inputs.values()];
    if (inputs.length > 0) {
      lines.push("", "Inputs:");
      for (const i of inputs) lines.push(`- ${inputLine(i)}`);
    }
    const params = Object.keys(check.file.params);
    if (params.length > 0) lines.push("", `Params: ${params.map((p) => `\`${p}\``).join(", ")}`);
  }
  const rendered = lastRun?.steps[mention.step.id]?.promptPreview;
  if (rendered !== undefined && lastRun)
    lines.push(
      "",
      "---",
      "",
      `Last rendered (run \`${lastRun.runId}\`):`,
      "",
      "```text",
      rendered,
      "```",
    );
  return lines.join("\n");
}

/** Hover on an input in a prompt file: its type, default and description. */
export function promptInputHover(check: PromptFileCheck, name: string): string | undefined {
  const input = check.file.inputs.get(name);
  if (!input) return undefined;
  return `**input** ${inputLine(input)}`;
}

function inputLine(i: PromptInput): string {
  const how = i.required ? "required" : `default \`${JSON.stringify(i.default)}\``;
  return `\`${i.name}\` · \`${i.type}\` · ${how}${i.description ? `: ${i.description}` : ""}`;
}

/** A step using a prompt file, as the prompt file's own diagnostics name it. */
export interface PromptCaller {
  /** How a message names it: `step 'draft' of flow.keel.yaml`. */
  readonly label: string;
  /** The keys its `with:` gives. */
  readonly inputs: Iterable<string>;
}

/**
 * The callers' `with:` problems, shown in the prompt file (the steps show them too: KEEL624/625):
 * a required input a caller does not give, at its declaration; a key a caller gives that the file
 * does not declare, at the front matter's first line.
 */
export function callerDiagnostics(
  check: PromptFileCheck,
  callers: readonly PromptCaller[],
): Diagnostic[] {
  if (!check.file.inputsKnown || check.file.problems.length > 0) return [];
  const sink = new DiagnosticSink();
  for (const caller of callers) {
    const given = new Set(caller.inputs);
    for (const input of check.file.inputs.values()) {
      if (input.required && !given.has(input.name))
        sink.add(
          "KEEL625",
          input.span,
          `${caller.label} does not give \`${input.name}\` in its \`with:\`, and it has no default`,
        );
    }
    for (const key of given) {
      if (!check.file.inputs.has(key))
        sink.add(
          "KEEL624",
          { start: 0, end: Math.min(3, check.file.lines.text.length) },
          `${caller.label} gives \`${key}\` in its \`with:\`, which this file does not declare under \`inputs\``,
        );
    }
  }
  return sink.items;
}
