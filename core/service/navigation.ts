// Go to definition, find references and document highlights, from the symbol table.
import type { Span } from "../model/diagnostic";
import type { WorkflowModel } from "../check/validate";
import { definitionOf, occurrenceAt, occurrencesOf } from "./symbols";
import { childMentionAt, WORKFLOW_USES, type ChildReader, type ChildWorkflow } from "./children";
import { toolEntries } from "./agents";
import type { Loc } from "../model/parse";

/** Where a definition is: a span of this document, an export of a tool module, a child workflow. */
export type DefinitionTarget =
  | { readonly kind: "span"; readonly span: Span }
  | { readonly kind: "module"; readonly module: string; readonly exportName: string }
  | { readonly kind: "workflow"; readonly file: string }
  /** A place in a child workflow: the declaration of one of its inputs or outputs. */
  | { readonly kind: "child"; readonly child: ChildWorkflow; readonly span: Span };

/** `uses: ./module.js#export`, as the runner and the tool check read it. */
const USES = /^(\.{1,2}\/[^#]+)#([A-Za-z_$][\w$]*)$/;
/** `children` reads a workflow step's child: from a `with:` key or an output read, to its declaration. */
export function definitionAt(
  model: WorkflowModel,
  offset: number,
  children?: ChildReader,
): DefinitionTarget | undefined {
  const o = occurrenceAt(model, offset);
  if (o) {
    const def = definitionOf(model, o.kind, o.name);
    return def && { kind: "span", span: def.span };
  }
  const mention = children && childMentionAt(model, offset);
  if (mention && mention.kind !== "uses") {
    const child = children(mention.step);
    const entry = (mention.kind === "input" ? child?.inputs : child?.outputs)?.get(mention.name);
    return child && entry && { kind: "child", child, span: entry.keySpan };
  }
  // An agent's tool reads as a tool step (`uses:`) or a workflow step (`workflow:`) of its own.
  const tools = toolEntries(model).map(({ entry }) =>
    entry.type === "workflow"
      ? {
          ...entry,
          value: { uses: entry.value.workflow },
          loc: { ...entry.loc, children: workflowKey(entry.loc) },
        }
      : entry,
  );
  for (const step of [...(model.parts?.steps.values() ?? []), ...tools]) {
    const loc = step.loc.children?.get("uses");
    if (!loc || offset < loc.span.start || offset > loc.span.end) continue;
    const uses = step.value.uses;
    if (step.type === "workflow") {
      return typeof uses === "string" && WORKFLOW_USES.test(uses)
        ? { kind: "workflow", file: uses }
        : undefined;
    }
    const m = typeof uses === "string" ? USES.exec(uses) : null;
    return m ? { kind: "module", module: m[1]!, exportName: m[2]! } : undefined;
  }
  return undefined;
}

/** A tool's `workflow:` location under the key `uses`, as a workflow step's. */
function workflowKey(loc: Loc): Loc["children"] {
  const at = loc.children?.get("workflow");
  return at && new Map([["uses", at]]);
}

/** Every occurrence of the symbol at `offset`; the definition only when asked for. */
export function referencesAt(
  model: WorkflowModel,
  offset: number,
  withDefinition: boolean,
): Span[] {
  const o = occurrenceAt(model, offset);
  if (!o) return [];
  return occurrencesOf(model, o.kind, o.name)
    .filter((x) => withDefinition || !x.definition)
    .map((x) => x.span);
}

export interface Highlight {
  readonly span: Span;
  /** The definition is written as a "write", references as a "read". */
  readonly write: boolean;
}

export function highlightsAt(model: WorkflowModel, offset: number): Highlight[] {
  const o = occurrenceAt(model, offset);
  if (!o) return [];
  return occurrencesOf(model, o.kind, o.name).map((x) => ({ span: x.span, write: x.definition }));
}
