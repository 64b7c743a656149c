// Every place a step, input or provider is named: its definition (the key under `steps:`,
// `inputs:`, `providers:`) and its references (`needs`, expressions, `provider`, `fallback`,
// `defaults.provider`). Navigation, rename, highlights, hover and semantic tokens read this table.
import type { Span } from "../model/diagnostic";
import type { Loc } from "../model/parse";
import { isObj } from "../model/untyped";
import { siteSpan } from "../check/sites";
import type { WorkflowModel } from "../check/validate";

export type SymbolKind = "step" | "input" | "provider";

export interface Occurrence {
  readonly kind: SymbolKind;
  readonly name: string;
  /** Where the name is written. */
  readonly span: Span;
  readonly definition: boolean;
  /**
   * True when `span` covers exactly the name (without quotes); false for a value copied through
   * an alias, whose span is the alias. Only exact occurrences are renamed.
   */
  readonly exact: boolean;
  /** The step whose body holds the reference, if any. */
  readonly inStep?: string;
}

const memo = new WeakMap<WorkflowModel, readonly Occurrence[]>();

/** All occurrences, sorted by position. */
export function symbolsOf(model: WorkflowModel): readonly Occurrence[] {
  let hit = memo.get(model);
  if (!hit) {
    hit = collect(model);
    memo.set(model, hit);
  }
  return hit;
}

/** The occurrence whose span contains `offset` (its end included, as a cursor after a word). */
export function occurrenceAt(model: WorkflowModel, offset: number): Occurrence | undefined {
  let found: Occurrence | undefined;
  for (const o of symbolsOf(model)) {
    if (o.span.start > offset) break;
    if (
      offset <= o.span.end &&
      (!found || o.span.end - o.span.start < found.span.end - found.span.start)
    )
      found = o;
  }
  return found;
}

export function occurrencesOf(model: WorkflowModel, kind: SymbolKind, name: string): Occurrence[] {
  return symbolsOf(model).filter((o) => o.kind === kind && o.name === name);
}

export function definitionOf(
  model: WorkflowModel,
  kind: SymbolKind,
  name: string,
): Occurrence | undefined {
  return symbolsOf(model).find((o) => o.kind === kind && o.name === name && o.definition);
}

/** The span of `name` inside `span` (which may add quotes around it), or undefined. */
export function exactSpan(text: string, span: Span, name: string): Span | undefined {
  const written = text.slice(span.start, span.end);
  if (written === name) return span;
  const q = written[0];
  if ((q === '"' || q === "'") && written.endsWith(q) && written.slice(1, -1) === name)
    return { start: span.start + 1, end: span.end - 1 };
  if (written === `\`${name}\``) return { start: span.start + 1, end: span.end - 1 };
  return undefined;
}

function collect(model: WorkflowModel): Occurrence[] {
  const parts = model.parts;
  if (!parts) return [];
  const text = parts.text;
  const out: Occurrence[] = [];
  const add = (
    kind: SymbolKind,
    name: string,
    span: Span,
    definition: boolean,
    inStep?: string,
  ) => {
    const exact = exactSpan(text, span, name);
    out.push({ kind, name, span: exact ?? span, definition, exact: !!exact, inStep });
  };
  const scalar = (loc: Loc | undefined, value: unknown, kind: SymbolKind, inStep?: string) => {
    if (loc && typeof value === "string") add(kind, value, loc.span, false, inStep);
  };

  for (const step of parts.steps.values()) add("step", step.id, step.keySpan, true);
  for (const input of parts.inputs.values()) add("input", input.id, input.keySpan, true);
  for (const provider of parts.providers.values()) {
    add("provider", provider.id, provider.keySpan, true);
    if (isObj(provider.value))
      scalar(provider.loc.children?.get("fallback"), provider.value.fallback, "provider");
  }
  const defaults = isObj(parts.top.defaults) ? parts.top.defaults : undefined;
  scalar(
    parts.root.children?.get("defaults")?.children?.get("provider"),
    defaults?.provider,
    "provider",
  );
  for (const step of parts.steps.values()) {
    const needs = step.value.needs;
    const needsLoc = step.loc.children?.get("needs");
    if (typeof needs === "string") scalar(needsLoc, needs, "step", step.id);
    else if (Array.isArray(needs))
      needs.forEach((n, i) => scalar(needsLoc?.children?.get(i), n, "step", step.id));
    scalar(step.loc.children?.get("provider"), step.value.provider, "provider", step.id);
  }
  for (const { site, info } of model.sites) {
    const inStep = site.owner.kind === "step" ? site.owner.id : undefined;
    for (const ref of info.refs) {
      const [root, second] = ref.segments;
      if (!root || !second) continue;
      const kind = root.name === "steps" ? "step" : root.name === "inputs" ? "input" : undefined;
      if (!kind) continue;
      add(kind, second.name, siteSpan(text, site, second.start, second.end), false, inStep);
    }
  }
  return out.sort((a, b) => a.span.start - b.span.start || a.span.end - b.span.end);
}
