// Rename a step id, input or provider across the file: the definition and every exact reference.
// Refused when the new name is not a valid id or is already taken by a symbol of the same kind.
import type { Span } from "../model/diagnostic";
import { ID_PATTERN, PROVIDER_ID_PATTERN } from "../model/schema";
import type { WorkflowModel } from "../check/validate";
import { definitionOf, occurrenceAt, occurrencesOf, type SymbolKind } from "./symbols";

export interface TextEdit {
  readonly span: Span;
  readonly newText: string;
}

export type Refusal = { readonly error: string };

const KIND_NAMES: Record<SymbolKind, string> = {
  step: "step",
  input: "input",
  provider: "provider",
};

/** The span to rename and its current name, or why nothing here can be renamed. */
export function prepareRename(
  model: WorkflowModel,
  offset: number,
): { span: Span; placeholder: string } | Refusal {
  const o = occurrenceAt(model, offset);
  if (!o) return { error: "Only a step id, an input or a provider can be renamed." };
  if (!o.exact)
    return { error: `This '${o.name}' is copied through an alias: rename it at its anchor.` };
  if (!definitionOf(model, o.kind, o.name))
    return { error: `There is no ${KIND_NAMES[o.kind]} '${o.name}' to rename.` };
  return { span: o.span, placeholder: o.name };
}

export function renameEdits(
  model: WorkflowModel,
  offset: number,
  newName: string,
): { edits: TextEdit[] } | Refusal {
  const prepared = prepareRename(model, offset);
  if ("error" in prepared) return prepared;
  const o = occurrenceAt(model, offset)!;
  const what = KIND_NAMES[o.kind];
  const pattern = o.kind === "provider" ? PROVIDER_ID_PATTERN : ID_PATTERN;
  if (!pattern.test(newName)) {
    return {
      error: `'${newName}' is not a valid ${what} name: use lowercase letters, digits and '_'${o.kind === "provider" ? " or '-'" : ""}, starting with a letter.`,
    };
  }
  if (newName !== o.name && definitionOf(model, o.kind, newName))
    return { error: `A ${what} named '${newName}' already exists.` };
  const edits = occurrencesOf(model, o.kind, o.name)
    .filter((x) => x.exact)
    .map((x) => ({ span: x.span, newText: newName }));
  return { edits };
}
