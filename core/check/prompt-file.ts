// Prompt files as you type (docs/format.md "Prompt files"): the file itself (its front matter, its
// templates, which see only its declared inputs) and the `llm` steps that use it (`prompt_file:`,
// `system_file:`, `with:` against the file's inputs). File access goes through the host, so this
// stays browser-safe; without a host only the steps' own keys are checked (steps.ts).
import { DiagnosticSink, type Diagnostic, type Span } from "../model/diagnostic";
import { lineOf, parsePromptFile, type PromptFile, type PromptInput } from "../model/prompt-file";
import { didYouMean } from "../model/suggest";
import { scanTemplates } from "../expr/template";
import { parseExpressions } from "../expr/parse";
import { analyzeExpression } from "../expr/analyze";
import type { StepEntry } from "./parts";
import type { ValidationHost } from "./tools";

/** A template's variable read in a prompt file: its root name and where it is in the file. */
export interface PromptVariable extends Span {
  readonly name: string;
  /** The declared input it reads; undefined when the front matter does not declare it. */
  readonly input?: PromptInput;
}

export interface PromptFileCheck {
  readonly file: PromptFile;
  /** Diagnostics with offsets into the prompt file's text. */
  readonly diagnostics: readonly Diagnostic[];
  /** Every input a template reads, in file order. */
  readonly variables: readonly PromptVariable[];
}

const checked = new Map<string, PromptFileCheck>();

/** The diagnostics and variables of the prompt file `text` at `path`; cached by content. */
export function checkPromptFile(text: string, path: string): PromptFileCheck {
  const key = path.replace(/^.*[\\/]/, "") + "\0" + text;
  let hit = checked.get(key);
  if (!hit) {
    hit = check(text, path);
    if (checked.size > 200) checked.clear();
    checked.set(key, hit);
  }
  return hit;
}

function check(text: string, path: string): PromptFileCheck {
  const file = parsePromptFile(text, path);
  const sink = new DiagnosticSink();
  const variables: PromptVariable[] = [];
  for (const p of file.problems) sink.add("KEEL622", p, p.message);
  if (file.syntax === "mustache") {
    for (const input of file.inputs.values())
      variables.push({ name: input.name, start: input.span.start, end: input.span.end, input });
    return { file, diagnostics: sink.items, variables };
  }
  const exprs: { text: string; at: number }[] = [];
  for (const m of file.messages) {
    const scan = scanTemplates(m.text);
    if (scan.unterminatedAt !== undefined) {
      const at = m.start + scan.unterminatedAt;
      sink.add("KEEL303", { start: at, end: at + 3 }, "`${{` has no closing `}}`");
    }
    for (const part of scan.parts) {
      const body = m.text.slice(part.exprStart, part.exprEnd);
      if (body.trim() === "")
        sink.add(
          "KEEL305",
          { start: m.start + part.start, end: m.start + part.end },
          "`${{ }}` is empty: write an input's name inside",
        );
      else exprs.push({ text: body, at: m.start + part.exprStart });
    }
  }
  const parsed = parseExpressions(exprs.map((e) => e.text));
  exprs.forEach((e, i) => {
    const p = parsed[i]!;
    if (p.error) {
      sink.add(
        "KEEL301",
        { start: e.at + p.error.start, end: e.at + Math.max(p.error.end, p.error.start + 1) },
        `invalid expression: ${p.error.message}`,
      );
      return;
    }
    if (!p.ast) return;
    const info = analyzeExpression(p.ast, e.text, p.offset);
    for (const ref of info.refs) {
      const root = ref.segments[0];
      if (!root) continue;
      const span = { start: e.at + root.start, end: e.at + root.end };
      const input = file.inputs.get(root.name);
      variables.push({ name: root.name, ...span, ...(input ? { input } : {}) });
      if (!input && file.inputsKnown)
        sink.add(
          "KEEL623",
          span,
          `\`${root.name}\` is not an input of this prompt file${didYouMean(root.name, file.inputs.keys()) || ": declare it under `inputs:` in the front matter"} (a prompt file sees its declared inputs only)`,
        );
    }
  });
  return { file, diagnostics: sink.items, variables };
}

/**
 * An `llm` step's `prompt_file` and `system_file`: the file exists, is a valid prompt file, and
 * `with:` gives each required input and nothing else.
 */
export function checkStepPromptFiles(
  step: StepEntry,
  file: string | undefined,
  host: ValidationHost | undefined,
  sink: DiagnosticSink,
): void {
  if (step.type !== "llm" || !host || !file) return;
  const used: { key: string; path: string; check: PromptFileCheck }[] = [];
  for (const key of ["system_file", "prompt_file"] as const) {
    const path = step.value[key];
    const loc = step.loc.children?.get(key);
    if (typeof path !== "string" || !loc || !/^\.\.?\//.test(path)) continue;
    const text = host.readFile(host.resolve(file, path));
    if (text === undefined) {
      sink.add(
        "KEEL621",
        loc.span,
        `prompt file '${path}' does not exist: \`${key}:\` paths are relative to the workflow file's folder`,
      );
      continue;
    }
    const check = checkPromptFile(text, path);
    used.push({ key, path, check });
    const errors = check.diagnostics.filter((d) => d.severity === "error");
    for (const d of errors.filter((x) => x.code === "KEEL623"))
      sink.add("KEEL623", loc.span, `${path}:${lineOf(check.file, d.start)}: ${d.message}`);
    const other = errors.filter((x) => x.code !== "KEEL623");
    if (other.length > 0)
      sink.add(
        "KEEL622",
        loc.span,
        `the prompt file ${path} has ${other.length} error${other.length > 1 ? "s" : ""}; the first, at ${path}:${lineOf(check.file, other[0]!.start)}: ${other[0]!.message}`,
      );
    const messages = check.file.messages;
    if (
      key === "system_file" &&
      (messages.length !== 1 || (!check.file.headless && messages[0]!.role !== "system"))
    )
      sink.add(
        "KEEL622",
        loc.span,
        `the system_file ${path} must be one text: no heading, or one \`## system\``,
      );
  }
  if (used.length === 0 || used.some((u) => !u.check.file.inputsKnown)) return;
  const declared = new Map<string, PromptInput>();
  for (const u of used) for (const [n, i] of u.check.file.inputs) declared.set(n, i);
  const withLoc = step.loc.children?.get("with");
  const given = step.value.with;
  const keys =
    given !== null && typeof given === "object" && !Array.isArray(given) ? Object.keys(given) : [];
  for (const k of keys) {
    if (declared.has(k)) continue;
    const at = withLoc?.children?.get(k);
    sink.add(
      "KEEL624",
      at?.keySpan ?? withLoc?.keySpan ?? step.keySpan,
      `\`${k}\` is not an input of ${used.map((u) => u.path).join(" or ")}${didYouMean(k, declared.keys()) || (declared.size > 0 ? `: it declares ${[...declared.keys()].join(", ")}` : ": it declares no inputs")}`,
    );
  }
  const missing = [...declared.values()].filter((i) => i.required && !keys.includes(i.name));
  if (missing.length > 0) {
    const owner = used.find((u) => u.check.file.inputs.has(missing[0]!.name))!;
    sink.add(
      "KEEL625",
      withLoc?.keySpan ?? step.loc.children?.get(owner.key)?.span ?? step.keySpan,
      `${owner.path} needs ${missing.map((i) => `\`${i.name}\``).join(", ")}: give ${missing.length > 1 ? "them" : "it"} in \`with:\` (an input without a default is required)`,
    );
  }
}
