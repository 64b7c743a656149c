// The document outline: inputs, providers, steps (with their types) and outputs.
import type { Span } from "../model/diagnostic";
import type { Loc } from "../model/parse";
import { isObj, str } from "../model/untyped";
import type { WorkflowModel } from "../check/validate";

export type OutlineKind = "section" | "input" | "provider" | "step" | "output";

export interface OutlineItem {
  readonly name: string;
  readonly detail?: string;
  readonly kind: OutlineKind;
  /** The whole entry, key and value. */
  readonly span: Span;
  /** The key: what the editor selects. */
  readonly selection: Span;
  readonly children: readonly OutlineItem[];
}

const SECTIONS = ["inputs", "providers", "steps", "outputs"] as const;
const KIND: Record<(typeof SECTIONS)[number], OutlineKind> = {
  inputs: "input",
  providers: "provider",
  steps: "step",
  outputs: "output",
};

export function outline(model: WorkflowModel): OutlineItem[] {
  const root = model.yaml.root;
  const top = model.yaml.value;
  if (!root?.children || !isObj(top)) return [];
  const out: OutlineItem[] = [];
  for (const section of SECTIONS) {
    const loc = root.children.get(section);
    if (!loc?.keySpan) continue;
    const children: OutlineItem[] = [];
    const value = top[section];
    for (const [key, child] of loc.children ?? []) {
      if (typeof key !== "string" || !isObj(value)) continue;
      const entry = value[key];
      children.push({
        name: key,
        detail: section === "outputs" ? undefined : isObj(entry) ? str(entry.type) : undefined,
        kind: KIND[section],
        span: whole(child),
        selection: child.keySpan ?? child.span,
        children: [],
      });
    }
    out.push({
      name: section,
      kind: "section",
      span: whole(loc),
      selection: loc.keySpan,
      children,
    });
  }
  return out;
}

function whole(loc: Loc): Span {
  const start = Math.min(loc.keySpan?.start ?? loc.span.start, loc.span.start);
  return { start, end: Math.max(loc.span.end, loc.keySpan?.end ?? start) };
}
