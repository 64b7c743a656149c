// Hover: on a step id or reference, the step's type, description, what it depends on and what
// depends on it (the server adds the last run's figures); on an input or provider, its
// declaration; on a key, the key's documentation from the schema's descriptions.
import type { Span } from "../model/diagnostic";
import type { Loc } from "../model/parse";
import { schemaAt, WORKFLOW_SCHEMA } from "../model/schema-walk";
import { isObj, str, type Obj } from "../model/untyped";
import type { WorkflowModel } from "../check/validate";
import type { LastRun, StepRunSummary } from "../protocol/lsp";
import { occurrenceAt } from "./symbols";
import {
  childMentionAt,
  type ChildMention,
  type ChildReader,
  type ChildWorkflow,
} from "./children";

export interface HoverInfo {
  readonly span: Span;
  /** Markdown. */
  readonly markdown: string;
  /** Set when the hover is about a step, so the last run's figures can be added. */
  readonly stepId?: string;
}

/** `children` reads a workflow step's child, for hovers on `uses:`, `with:` keys and its outputs. */
export function hoverAt(
  model: WorkflowModel,
  offset: number,
  children?: ChildReader,
): HoverInfo | undefined {
  const o = occurrenceAt(model, offset);
  if (o) {
    const markdown =
      o.kind === "step"
        ? stepHover(model, o.name)
        : o.kind === "input"
          ? entryHover(model, "inputs", "input", o.name)
          : entryHover(model, "providers", "provider", o.name);
    return markdown === undefined
      ? undefined
      : { span: o.span, markdown, stepId: o.kind === "step" ? o.name : undefined };
  }
  const mention = children && childMentionAt(model, offset);
  const child = mention && children(mention.step);
  if (mention && child) {
    const markdown = childHover(mention, child);
    return markdown === undefined ? undefined : { span: mention.span, markdown };
  }
  const root = model.yaml.root;
  const key = root && keyAt(root, offset, []);
  if (!key) return undefined;
  const found = schemaAt(WORKFLOW_SCHEMA, key.path, model.yaml.value);
  if (!found?.description) return undefined;
  const name = key.path[key.path.length - 1];
  return { span: key.span, markdown: `**${String(name)}**\n\n${found.description}` };
}

function stepHover(model: WorkflowModel, id: string): string | undefined {
  const step = model.parts?.steps.get(id);
  if (!step) return undefined;
  const list = (ids: readonly string[] | undefined) =>
    ids && ids.length > 0 ? ids.map((d) => `\`${d}\``).join(", ") : "nothing";
  const lines = [`**step \`${id}\`**${step.type ? ` · \`${step.type}\`` : ""}`];
  const description = str(step.value.description);
  if (description) lines.push("", description);
  lines.push(
    "",
    `Depends on: ${list(model.graph.deps.get(id))}  `,
    `Depended on by: ${list(model.graph.dependents.get(id))}`,
  );
  return lines.join("\n");
}

function entryHover(
  model: WorkflowModel,
  section: "inputs" | "providers",
  what: string,
  name: string,
): string | undefined {
  const entry = (section === "inputs" ? model.parts?.inputs : model.parts?.providers)?.get(name);
  if (!entry) return undefined;
  const v = isObj(entry.value) ? entry.value : {};
  const type = str(v.type);
  const lines = [`**${what} \`${name}\`**${type ? ` · \`${type}\`` : ""}`];
  const description = str(v.description);
  if (description) lines.push("", description);
  const facts: string[] = [];
  if (section === "inputs") {
    facts.push(capital(inputFact(v)));
  } else {
    if (str(v.model)) facts.push(`Model: \`${str(v.model)}\``);
    if (str(v.fallback)) facts.push(`Falls back to: \`${str(v.fallback)}\``);
  }
  if (facts.length > 0) lines.push("", facts.join("  \n"));
  return lines.join("\n");
}

/** An input's default or that it is required: "default `3`", "required". */
export function inputFact(v: Obj): string {
  return "default" in v ? `default \`${short(JSON.stringify(v.default))}\`` : "required";
}

/** Hover on a child's `uses:`, one of its inputs under `with:` or one of its outputs read. */
function childHover(mention: ChildMention, child: ChildWorkflow): string | undefined {
  const uses = String(mention.step.value.uses);
  const at = (span: Span) => `\`${uses}:${child.index.position(span.start).line + 1}\``;
  if (mention.kind === "uses") {
    const lines = [`**workflow \`${child.name ?? uses}\`** · \`${uses}\``];
    if (child.description) lines.push("", child.description);
    const inputs = [...child.inputs.values()].map((i) => {
      const v = isObj(i.value) ? i.value : {};
      const about = str(v.description);
      const facts = [str(v.type) && `\`${str(v.type)}\``, inputFact(v)].filter(Boolean);
      return `- \`${i.name}\` · ${facts.join(" · ")}${about ? `: ${about}` : ""}`;
    });
    lines.push("", inputs.length > 0 ? "Inputs:" : "Inputs: none", ...inputs);
    const outputs = [...child.outputs.values()].map(
      (o) => `- \`${o.name}\`: \`${short(outputText(o.value))}\``,
    );
    lines.push("", outputs.length > 0 ? "Outputs:" : "Outputs: none", ...outputs);
    return lines.join("\n");
  }
  if (mention.kind === "input") {
    const input = child.inputs.get(mention.name);
    if (!input) return undefined;
    const v = isObj(input.value) ? input.value : {};
    const type = str(v.type);
    const lines = [`**input \`${mention.name}\`** of \`${uses}\`${type ? ` · \`${type}\`` : ""}`];
    const description = str(v.description);
    if (description) lines.push("", description);
    lines.push("", `${capital(inputFact(v))}  `, `Declared at ${at(input.keySpan)}`);
    return lines.join("\n");
  }
  const output = child.outputs.get(mention.name);
  if (!output) return undefined;
  return [
    `**output \`${mention.name}\`** of \`${uses}\``,
    "",
    "```",
    short(outputText(output.value), 500),
    "```",
    "",
    `Declared at ${at(output.keySpan)}`,
  ].join("\n");
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function outputText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The last run's figures for a step, as a hover section. */
export function lastRunMarkdown(run: LastRun, stepId: string): string | undefined {
  const step: StepRunSummary | undefined = run.steps[stepId];
  if (!step) return undefined;
  const facts = [`Last run: **${step.status}**`];
  if (step.origin && step.origin !== "live") facts.push(`(${step.origin})`);
  if (step.durationMs !== undefined) facts.push(`in ${formatDuration(step.durationMs)}`);
  const lines = [facts.join(" ")];
  if (step.error) lines.push("", `Error: ${step.error}`);
  if (step.outputPreview !== undefined)
    lines.push("", "```json", short(step.outputPreview, 500), "```");
  lines.push("", `Run \`${run.runId}\``);
  return lines.join("\n");
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function short(s: string, max = 80): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** The innermost key whose text contains `offset`, with its path. */
function keyAt(
  loc: Loc,
  offset: number,
  path: (string | number)[],
): { path: (string | number)[]; span: Span } | undefined {
  for (const [key, child] of loc.children ?? []) {
    const k = child.keySpan;
    if (k && offset >= k.start && offset <= k.end) return { path: [...path, key], span: k };
    if (offset >= child.span.start && offset <= child.span.end && child.children) {
      const inner = keyAt(child, offset, [...path, key]);
      if (inner) return inner;
    }
  }
  return undefined;
}
