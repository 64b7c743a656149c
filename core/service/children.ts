// Child workflows for the editor (docs/editor.md, "Child workflows"): completion, hover and go to
// definition reach into the file a `workflow` step's `uses:` names (its inputs, outputs and where
// they are declared), and references of a child file list its callers: the `uses:` of each
// workflow step that runs it, the `with:` keys that pass its inputs and the expressions that read
// its outputs. Files are read through a host (check/tools.ts), so this stays browser-safe.
import { DiagnosticSink, type Span } from "../model/diagnostic";
import { LineIndex } from "../model/line-index";
import { parseYaml, type Loc } from "../model/parse";
import { isObj, str } from "../model/untyped";
import { parsePromptFile } from "../model/prompt-file";
import type { StepEntry } from "../check/parts";
import { siteSpan } from "../check/sites";
import type { ValidationHost } from "../check/tools";
import type { WorkflowModel } from "../check/validate";
import type { Segment } from "../expr/analyze";
import { occurrenceAt } from "./symbols";

/** A workflow step's `uses:` that names a child workflow file, as check/child-workflow.ts reads it. */
export const WORKFLOW_USES = /^\.\.?\/.*\.keel\.ya?ml$/;

/** An input or output declared by a child workflow. */
export interface ChildEntry {
  readonly name: string;
  readonly value: unknown;
  /** The name's key. */
  readonly keySpan: Span;
  /** The value's text. */
  readonly span: Span;
}

/** A child workflow file, parsed. */
export interface ChildWorkflow {
  /** Absolute path. */
  readonly path: string;
  readonly text: string;
  readonly index: LineIndex;
  readonly name?: string;
  readonly description?: string;
  /** In file order. */
  readonly inputs: ReadonlyMap<string, ChildEntry>;
  readonly outputs: ReadonlyMap<string, ChildEntry>;
}

/** The child a workflow step names, when it is one and its file exists. */
export type ChildReader = (step: StepEntry) => ChildWorkflow | undefined;

const parsed = new Map<string, ChildWorkflow>();

/** Parses a workflow file's text as a child; cached by path and text. */
export function readChildText(path: string, text: string): ChildWorkflow {
  const hit = parsed.get(path);
  if (hit && hit.text === text) return hit;
  const yaml = parseYaml(text, new DiagnosticSink());
  const top = isObj(yaml.value) ? yaml.value : {};
  const root = yaml.root;
  const child: ChildWorkflow = {
    path,
    text,
    index: new LineIndex(text),
    name: str(top.name),
    description: str(top.description),
    inputs: entries(top.inputs, root?.children?.get("inputs")),
    outputs: entries(top.outputs, root?.children?.get("outputs")),
  };
  if (parsed.size > 100) parsed.clear();
  parsed.set(path, child);
  return child;
}

function entries(value: unknown, loc: Loc | undefined): Map<string, ChildEntry> {
  const out = new Map<string, ChildEntry>();
  if (!isObj(value) || !loc?.children) return out;
  for (const [name, child] of loc.children) {
    if (typeof name !== "string" || !(name in value)) continue;
    out.set(name, {
      name,
      value: value[name],
      keySpan: child.keySpan ?? child.span,
      span: child.span,
    });
  }
  return out;
}

/** Reads the children of the workflow at `file` through `host`; none without either. */
export function childReader(
  file: string | undefined,
  host: ValidationHost | undefined,
): ChildReader | undefined {
  if (!file || !host) return undefined;
  return (step) => {
    if (step.type === "llm") return promptFileInputs(file, host, step);
    const uses = step.value.uses;
    if (step.type !== "workflow" || typeof uses !== "string" || !WORKFLOW_USES.test(uses))
      return undefined;
    const path = host.resolve(file, uses);
    const text = host.readFile(path);
    return text === undefined ? undefined : readChildText(path, text);
  };
}

/**
 * The inputs an llm step's prompt files declare (`prompt_file`, then `system_file`), read as a
 * child's, so that completion under its `with:` offers them (docs/editor.md "Prompt files").
 */
function promptFileInputs(
  file: string,
  host: ValidationHost,
  step: StepEntry,
): ChildWorkflow | undefined {
  const inputs = new Map<string, ChildEntry>();
  let first: { path: string; text: string } | undefined;
  for (const key of ["prompt_file", "system_file"]) {
    const rel = step.value[key];
    if (typeof rel !== "string") continue;
    const path = host.resolve(file, rel);
    const text = host.readFile(path);
    if (text === undefined) continue;
    first ??= { path, text };
    for (const i of parsePromptFile(text, rel).inputs.values()) {
      if (inputs.has(i.name)) continue;
      const value = {
        type: i.type,
        ...("default" in i ? { default: i.default } : {}),
        ...(i.description !== undefined ? { description: i.description } : {}),
      };
      inputs.set(i.name, { name: i.name, value, keySpan: i.span, span: i.span });
    }
  }
  return (
    first && {
      ...first,
      index: new LineIndex(first.text),
      inputs,
      outputs: new Map(),
    }
  );
}

/** A mention of a child's output in its caller: `steps.X.output.<name>`, `previous.output.<name>`, `output.<name>` in `repeat.until`. */
export interface OutputRef {
  readonly step: StepEntry;
  readonly name: string;
  readonly span: Span;
}

const refsMemo = new WeakMap<WorkflowModel, readonly OutputRef[]>();

/** Every mention of a workflow step's child's outputs in `model`, in the order of the sites. */
export function childOutputRefs(model: WorkflowModel): readonly OutputRef[] {
  let hit = refsMemo.get(model);
  if (!hit) {
    hit = collectOutputRefs(model);
    refsMemo.set(model, hit);
  }
  return hit;
}

function collectOutputRefs(model: WorkflowModel): OutputRef[] {
  const parts = model.parts;
  if (!parts || ![...parts.steps.values()].some((s) => s.type === "workflow")) return [];
  const out: OutputRef[] = [];
  for (const { site, info } of model.sites) {
    const owner = site.owner.kind === "step" ? parts.steps.get(site.owner.id) : undefined;
    for (const ref of info.refs) {
      const [root, second, third, fourth] = ref.segments;
      let step: StepEntry | undefined;
      let field: Segment | undefined;
      if (root?.name === "steps" && second && third?.name === "output" && fourth) {
        step = parts.steps.get(second.name);
        field = fourth;
      } else if (root?.name === "previous" && second?.name === "output" && third) {
        step = owner;
        field = third;
      } else if (root?.name === "output" && site.role === "until" && second) {
        step = owner;
        field = second;
      }
      if (!step || step.type !== "workflow" || !field) continue;
      const span = siteSpan(parts.text, site, field.start, field.end);
      out.push({ step, name: field.name, span });
    }
  }
  return out;
}

/** A key of a workflow step's `with:` (or `repeat.with:`): an input of its child. */
export interface WithKey {
  readonly step: StepEntry;
  readonly name: string;
  readonly span: Span;
}

export function withKeys(step: StepEntry): WithKey[] {
  if (step.type !== "workflow") return [];
  const out: WithKey[] = [];
  const maps = [
    step.loc.children?.get("with"),
    step.loc.children?.get("repeat")?.children?.get("with"),
  ];
  for (const map of maps) {
    for (const [name, loc] of map?.children ?? []) {
      if (typeof name === "string" && loc.keySpan) out.push({ step, name, span: loc.keySpan });
    }
  }
  return out;
}

const within = (span: Span, offset: number) => offset >= span.start && offset <= span.end;

/** What names the child at `offset` in a caller: its `uses:`, a `with:` key, an output's mention. */
export type ChildMention =
  | { readonly kind: "uses"; readonly step: StepEntry; readonly span: Span }
  | { readonly kind: "input"; readonly step: StepEntry; readonly name: string; readonly span: Span }
  | {
      readonly kind: "output";
      readonly step: StepEntry;
      readonly name: string;
      readonly span: Span;
    };

export function childMentionAt(model: WorkflowModel, offset: number): ChildMention | undefined {
  for (const step of model.parts?.steps.values() ?? []) {
    if (step.type !== "workflow" || !within(step.loc.span, offset)) continue;
    const uses = step.loc.children?.get("uses");
    if (uses && within(uses.span, offset)) return { kind: "uses", step, span: uses.span };
    const key = withKeys(step).find((k) => within(k.span, offset));
    if (key) return { kind: "input", ...key };
  }
  const ref = childOutputRefs(model).find((r) => within(r.span, offset));
  return ref && { kind: "output", ...ref };
}

/** A caller's workflow step that runs a given child file, with the places naming its parts. */
export interface ChildCall {
  readonly step: string;
  /** The `uses:` value. */
  readonly uses: Span;
  readonly inputs: readonly WithKey[];
  readonly outputs: readonly OutputRef[];
}

/** The workflow steps of `model` whose `uses:` resolves (by `resolve`) to the file `child`. */
export function callsOf(
  model: WorkflowModel,
  resolve: (uses: string) => string,
  child: string,
): ChildCall[] {
  const calls = new Map<string, ChildCall>();
  for (const step of model.parts?.steps.values() ?? []) {
    const uses = step.value.uses;
    const loc = step.loc.children?.get("uses");
    if (step.type !== "workflow" || typeof uses !== "string" || !loc) continue;
    if (!WORKFLOW_USES.test(uses) || resolve(uses) !== child) continue;
    calls.set(step.id, { step: step.id, uses: loc.span, inputs: withKeys(step), outputs: [] });
  }
  if (calls.size === 0) return [];
  const outputs = new Map<string, OutputRef[]>();
  for (const ref of childOutputRefs(model)) {
    if (!calls.has(ref.step.id)) continue;
    outputs.set(ref.step.id, [...(outputs.get(ref.step.id) ?? []), ref]);
  }
  return [...calls.values()].map((c) => ({ ...c, outputs: outputs.get(c.step) ?? [] }));
}

/** What a cursor in a (child) workflow file names that its callers mention. */
export type ChildPart =
  | { readonly kind: "workflow" }
  | { readonly kind: "input"; readonly name: string }
  | { readonly kind: "output"; readonly name: string };

/**
 * At `offset` in a workflow file: the workflow itself (its `keel:` or `name:` line), one of its
 * inputs (declared or read) or one of its outputs (its key under `outputs:`).
 */
export function childPartAt(model: WorkflowModel, offset: number): ChildPart | undefined {
  const root = model.yaml.root;
  for (const key of ["keel", "name"]) {
    const loc = root?.children?.get(key);
    if (loc && (within(loc.span, offset) || (loc.keySpan && within(loc.keySpan, offset))))
      return { kind: "workflow" };
  }
  const o = occurrenceAt(model, offset);
  if (o?.kind === "input") return { kind: "input", name: o.name };
  for (const [name, loc] of root?.children?.get("outputs")?.children ?? []) {
    if (typeof name === "string" && loc.keySpan && within(loc.keySpan, offset))
      return { kind: "output", name };
  }
  return undefined;
}

/** The spans of `calls` that mention `part`. */
export function callSpans(calls: readonly ChildCall[], part: ChildPart): Span[] {
  return calls.flatMap((c) =>
    part.kind === "workflow"
      ? [c.uses]
      : (part.kind === "input" ? c.inputs : c.outputs)
          .filter((x) => x.name === part.name)
          .map((x) => x.span),
  );
}
