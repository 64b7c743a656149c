// Workflow steps (`type: workflow`, docs/format.md "Maps, child workflows and loops"): `uses:`
// names a `.keel.yaml` file relative to this one. With a host, the child file is read: it must
// exist, not lead back to this file, nest at most MAX_CHILD_DEPTH deep, be valid itself, take the
// `with:` given, and have the outputs read as `steps.<id>.output.<name>`. File access goes through
// the host (tools.ts), so this stays browser-safe; without a host only the form of `uses` is checked.
import { DiagnosticSink, type Diagnostic, type Span } from "../model/diagnostic";
import { parseYaml } from "../model/parse";
import { LineIndex } from "../model/line-index";
import { didYouMean } from "../model/suggest";
import { isObj, str, type Obj } from "../model/untyped";
import { inputProblem } from "../model/json-values";
import type { Segment } from "../expr/analyze";
import type { StepEntry } from "./parts";
import type { ValidationHost } from "./tools";

/** Child workflows nest at most this deep below the file being validated. */
export const MAX_CHILD_DEPTH = 8;

/** A child workflow file as `uses:` (or an agent tool's `workflow:`) names it. */
export const CHILD_WORKFLOW_FILE = /^\.\.?\/.*\.keel\.ya?ml$/;

/** What the checks of workflow steps may use: the file validated, its host, and how to validate a child. */
export interface ChildContext {
  readonly file: string;
  readonly host: ValidationHost;
  /** The diagnostics of a whole child workflow file (validate.ts: validation of `text` as `file`). */
  readonly validate: (text: string, file: string) => readonly Diagnostic[];
}

/** A child workflow as the parent's checks read it. */
interface Child {
  readonly path: string;
  readonly text: string;
  readonly top: Obj;
}

const parsed = new Map<string, Obj>();

/** The top-level mapping of a workflow's text (empty when it is not one). Cached by content. */
export function topOf(text: string): Obj {
  let hit = parsed.get(text);
  if (!hit) {
    const value = parseYaml(text, new DiagnosticSink()).value;
    hit = isObj(value) ? value : {};
    if (parsed.size > 200) parsed.clear();
    parsed.set(text, hit);
  }
  return hit;
}

/** The child a `uses:` names, `{ missing }` with its path when there is no such file. */
function readChild(
  ctx: ChildContext,
  from: string,
  uses: unknown,
): Child | { readonly missing: string } | undefined {
  if (typeof uses !== "string" || !CHILD_WORKFLOW_FILE.test(uses)) return undefined;
  const path = ctx.host.resolve(from, uses);
  const text = ctx.host.readFile(path);
  if (text === undefined) return { missing: path };
  return { path, text, top: topOf(text) };
}

/** The `uses:` of a workflow step: its form always; with a child context, the child file. */
export function checkWorkflowStep(
  step: StepEntry,
  ctx: ChildContext | undefined,
  sink: DiagnosticSink,
): void {
  if (step.type === "workflow") checkChildFile(step, "uses", ctx, sink);
}

/**
 * The child file that `key` of `step` names (a workflow step's `uses:`, or an agent tool's
 * `workflow:` read as an entry of its own) and the `with:` given to it. `withOptional`: without
 * `with:`, the child's inputs come from elsewhere (a model's arguments), so none is missing.
 */
export function checkChildFile(
  step: StepEntry,
  key: "uses" | "workflow",
  ctx: ChildContext | undefined,
  sink: DiagnosticSink,
  withOptional = false,
): void {
  const usesLoc = step.loc.children?.get(key);
  const uses = step.value[key];
  if (!usesLoc || typeof uses !== "string") return;
  if (!CHILD_WORKFLOW_FILE.test(uses)) {
    sink.add(
      "KEEL601",
      usesLoc.span,
      `'${uses}' is not a workflow file: write a path relative to this file, starting with ./ or ../ and ending in .keel.yaml (or .keel.yml), such as \`./child.keel.yaml\``,
    );
    return;
  }
  if (!ctx) return;
  const child = readChild(ctx, ctx.file, uses);
  if (child === undefined) return;
  if ("missing" in child) {
    sink.add(
      "KEEL602",
      usesLoc.span,
      `child workflow '${uses}' does not exist (looked for ${shortName(ctx.file, child.missing)}): \`${key}:\` is relative to this file's folder`,
    );
    return;
  }
  const chain = nesting(ctx, child.path);
  if (chain.cycle) {
    sink.add(
      "KEEL608",
      usesLoc.span,
      `workflow files use each other in a cycle: ${chain.cycle.map((f) => shortName(ctx.file, f)).join(" → ")}: a workflow cannot run itself, directly or through its children`,
    );
  } else if (chain.deepest.length > MAX_CHILD_DEPTH) {
    const names = [ctx.file, ...chain.deepest].map((f) => shortName(ctx.file, f));
    sink.add(
      "KEEL608",
      usesLoc.span,
      `child workflows nest ${chain.deepest.length} levels deep here (${names.join(" → ")}), more than the limit of ${MAX_CHILD_DEPTH}`,
    );
  } else {
    const errors = ctx.validate(child.text, child.path).filter((d) => d.severity === "error");
    if (errors.length > 0) {
      const first = errors[0]!;
      const line = new LineIndex(child.text).position(first.start).line + 1;
      sink.add(
        "KEEL603",
        usesLoc.span,
        `the child workflow '${uses}' has ${errors.length} error${errors.length === 1 ? "" : "s"} (first: ${shortName(ctx.file, child.path)}:${line}: ${first.message})`,
      );
    }
  }
  if (!withOptional || "with" in step.value) checkWith(step, uses, usesLoc.span, child, sink);
}

/**
 * The files below `start` (the child of the file validated): a cycle back to the validated file,
 * else the longest chain of nested children from `start` (cut one past the limit).
 */
function nesting(
  ctx: ChildContext,
  start: string,
): { cycle?: readonly string[]; deepest: readonly string[] } {
  const longest = new Map<string, readonly string[]>();
  const onStack = new Set<string>();
  let cycle: string[] | undefined;
  const visit = (path: string, text: string, stack: string[]): readonly string[] => {
    if (path === ctx.file) {
      cycle ??= [ctx.file, ...stack, path];
      return [];
    }
    const known = longest.get(path);
    if (known) return known;
    if (onStack.has(path) || stack.length > MAX_CHILD_DEPTH) return [path];
    onStack.add(path);
    let best: readonly string[] = [];
    const steps = topOf(text).steps;
    for (const uses of childFiles(steps)) {
      const child = readChild(ctx, path, uses);
      if (child === undefined || "missing" in child) continue;
      const below = visit(child.path, child.text, [...stack, path]);
      if (below.length > best.length) best = below;
      if (cycle) break;
    }
    onStack.delete(path);
    const chain = [path, ...best];
    longest.set(path, chain);
    return chain;
  };
  const text = ctx.host.readFile(start);
  const deepest = text === undefined ? [] : visit(start, text, []);
  return { cycle, deepest };
}

/** The child files a workflow's `steps` run: workflow steps' `uses:`, agent tools' `workflow:`. */
function childFiles(steps: unknown): unknown[] {
  const out: unknown[] = [];
  for (const step of isObj(steps) ? Object.values(steps) : []) {
    if (!isObj(step)) continue;
    if (step.type === "workflow") out.push(step.uses);
    if (step.type === "agent" && isObj(step.tools)) {
      for (const tool of Object.values(step.tools)) if (isObj(tool)) out.push(tool.workflow);
    }
  }
  return out;
}

/** `with:` (and `repeat.with:`) against the child's `inputs`: known names, required ones, literal types. */
function checkWith(
  step: StepEntry,
  uses: string,
  usesSpan: Span,
  child: Child,
  sink: DiagnosticSink,
): void {
  const inputs = isObj(child.top.inputs) ? child.top.inputs : {};
  const names = Object.keys(inputs);
  /** `where` is the key as messages name it; `value` replaces the child's inputs whole. */
  const given = (value: unknown, loc: StepEntry["loc"] | undefined, where: string) => {
    const map = isObj(value) ? value : {};
    for (const [name, v] of Object.entries(map)) {
      const vLoc = loc?.children?.get(name);
      if (!vLoc) continue;
      const input = inputs[name];
      if (!isObj(input)) {
        sink.add(
          "KEEL604",
          vLoc.keySpan ?? vLoc.span,
          `child workflow '${uses}' has no input '${name}'${didYouMean(name, names) || (names.length ? `: its inputs are ${names.join(", ")}` : ": it declares no inputs")}`,
        );
        continue;
      }
      const type = str(input.type);
      if (!type || !INPUT_TYPES.some((t) => t === type) || hasTemplate(v)) continue;
      const schema = isObj(input.schema) ? input.schema : undefined;
      const problem = inputProblem(name, { type: type as InputType, schema }, v);
      if (problem) sink.add("KEEL606", vLoc.span, `the child's ${problem}`);
    }
    for (const name of names) {
      const input = inputs[name];
      if (!isObj(input) || "default" in input || name in map) continue;
      const replaces =
        where === "repeat.with" ? " (it replaces `with:` from the second iteration on)" : "";
      sink.add(
        "KEEL605",
        loc?.keySpan ?? usesSpan,
        `child workflow '${uses}' needs input '${name}' (it has no default): add \`${name}:\` to \`${where}:\`${replaces}`,
      );
    }
  };
  given(step.value.with, step.loc.children?.get("with"), "with");
  const repeat = step.value.repeat;
  if (isObj(repeat) && "with" in repeat) {
    given(repeat.with, step.loc.children?.get("repeat")?.children?.get("with"), "repeat.with");
  }
}

const INPUT_TYPES = ["string", "number", "boolean", "object", "array"] as const;
type InputType = (typeof INPUT_TYPES)[number];

function hasTemplate(v: unknown): boolean {
  if (typeof v === "string") return v.includes("${{");
  if (Array.isArray(v)) return v.some(hasTemplate);
  if (isObj(v)) return Object.values(v).some(hasTemplate);
  return false;
}

/** Reads the `outputs` names of workflow steps' children, for `steps.<id>.output.<name>`. */
export interface ChildOutputs {
  /** The child's output names and how `uses` wrote it, or undefined when unknown. */
  of(step: StepEntry): { readonly uses: string; readonly names: readonly string[] } | undefined;
}

export function childOutputs(ctx: ChildContext | undefined): ChildOutputs | undefined {
  if (!ctx) return undefined;
  return {
    of(step) {
      if (step.type !== "workflow") return undefined;
      const child = readChild(ctx, ctx.file, step.value.uses);
      if (child === undefined || "missing" in child) return undefined;
      const outputs = isObj(child.top.outputs) ? Object.keys(child.top.outputs) : [];
      return { uses: String(step.value.uses), names: outputs };
    },
  };
}

/** `name` of a workflow step's output: one of the child's `outputs` (KEEL607). */
export function checkChildOutput(
  outputs: ChildOutputs | undefined,
  step: StepEntry,
  path: string,
  name: Segment,
  span: (start: number, end: number) => Span,
  sink: DiagnosticSink,
): void {
  const child = outputs?.of(step);
  if (!child || child.names.includes(name.name)) return;
  const known = child.names;
  sink.add(
    "KEEL607",
    span(name.start, name.end),
    `${path} has no '${name.name}': the output of workflow step '${step.id}' is the outputs of '${child.uses}'${didYouMean(name.name, known) || (known.length ? `, which are ${known.join(", ")}` : ", which declares none")}`,
  );
}

/** `file` as written from the folder of `from`: relative when below it, else as it is. */
function shortName(from: string, file: string): string {
  const cut = Math.max(from.lastIndexOf("/"), from.lastIndexOf("\\"));
  const dir = from.slice(0, cut + 1);
  return dir && file.startsWith(dir) ? file.slice(dir.length) : file;
}
