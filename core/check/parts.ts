// The named parts of a workflow (steps, inputs, providers) with their locations, read from the
// untyped document value so that checks can run even where the schema check failed.
import type { Span } from "../model/diagnostic";
import type { Loc } from "../model/parse";
import { isObj, str, type Obj } from "../model/untyped";
import { forEachEntry } from "./sites";

export interface StepEntry {
  readonly id: string;
  readonly value: Obj;
  readonly type: string | undefined;
  readonly loc: Loc;
  readonly keySpan: Span;
}

export interface NamedEntry {
  readonly id: string;
  readonly value: unknown;
  readonly loc: Loc;
  readonly keySpan: Span;
}

export interface WorkflowParts {
  readonly text: string;
  readonly top: Obj;
  readonly root: Loc;
  /** In file order. */
  readonly steps: ReadonlyMap<string, StepEntry>;
  readonly inputs: ReadonlyMap<string, NamedEntry>;
  readonly providers: ReadonlyMap<string, NamedEntry>;
}

export function readParts(text: string, value: unknown, root: Loc): WorkflowParts | undefined {
  if (!isObj(value) || !root.children) return undefined;
  const steps = new Map<string, StepEntry>();
  forEachEntry(value.steps, root.children.get("steps"), (id, v, loc) => {
    if (!isObj(v)) return;
    steps.set(id, { id, value: v, type: str(v.type), loc, keySpan: loc.keySpan ?? loc.span });
  });
  return {
    text,
    top: value,
    root,
    steps,
    inputs: named(value.inputs, root.children.get("inputs")),
    providers: named(value.providers, root.children.get("providers")),
  };
}

function named(value: unknown, loc: Loc | undefined): Map<string, NamedEntry> {
  const out = new Map<string, NamedEntry>();
  forEachEntry(value, loc, (id, v, child) => {
    out.set(id, { id, value: v, loc: child, keySpan: child.keySpan ?? child.span });
  });
  return out;
}
