// Completion: keys valid at the cursor (documented from the schema's descriptions), values (step
// and provider types, enums, provider ids, step ids in `needs`), snippets for a new step of each
// type, and inside `${{ }}` or a bare expression: context names, upstream step ids, a step's
// output fields from its schema, inputs, secrets and env names used in the file, functions.
import type { Span } from "../model/diagnostic";
import { PROVIDER_TYPES, STEP_TYPES, Step, isBareExpressionPath } from "../model/schema";
import {
  branchFor,
  keysAt,
  schemaAt,
  valuesOf,
  WORKFLOW_SCHEMA,
  type ZodLike,
} from "../model/schema-walk";
import { isObj, str, valueAt } from "../model/untyped";
import { JSONATA_FUNCTIONS, IMPURE_FUNCTIONS, STATUS_FUNCTIONS } from "../expr/analyze";
import { TRAJECTORY_MODE_DOCS, TRAJECTORY_MODES, TRAJECTORY_USAGE } from "../expr/trajectory";
import { outputFieldsAt } from "../check/output-fields";
import { rootNames } from "../check/references";
import { stepRoleAt } from "../check/sites";
import type { WorkflowModel } from "../check/validate";
import { cursorContext, type CursorContext } from "./cursor";
import type { ChildReader, ChildWorkflow } from "./children";
import { inputFact } from "./hover";

export type CompletionKind =
  "key" | "value" | "step" | "input" | "provider" | "field" | "function" | "namespace" | "snippet";

export interface CompletionItem {
  readonly label: string;
  readonly kind: CompletionKind;
  readonly detail?: string;
  /** Markdown. */
  readonly documentation?: string;
  /** Defaults to the label. */
  readonly insertText?: string;
  /** `insertText` is an LSP snippet (`${1:placeholder}`), already indented for its line. */
  readonly snippet?: boolean;
  /** The text the item replaces (the word being typed). */
  readonly span: Span;
}

const STEP_SCHEMA = Step as unknown as ZodLike;
const EXPR_TAIL = /((?:[A-Za-z_][\w]*\.)*)(\$?[A-Za-z_]?\w*)$/;

/** `children` reads the child workflow of a `workflow` step (its inputs in `with:`, its outputs). */
export function complete(
  model: WorkflowModel,
  text: string,
  offset: number,
  children?: ChildReader,
): CompletionItem[] {
  const ctx = cursorContext(text, offset);
  const root = model.yaml.value;
  const expr = expressionPrefix(ctx);
  if (expr !== undefined) return completeExpression(model, ctx, expr, offset, children);
  if (ctx.inBlock) return [];
  if (ctx.at === "value")
    return completeValue(model, ctx.path, ctx.key!, listTail(ctx.valuePrefix), offset);
  const last = ctx.path[ctx.path.length - 1];
  if (typeof last === "number") {
    // A list item: a value when the list holds text (needs, retry.on), keys when it holds mappings.
    const items = schemaAt(WORKFLOW_SCHEMA, ctx.path, root);
    if (items && items.schema._zod.def.type !== "object") {
      return completeValue(
        model,
        ctx.path.slice(0, -2),
        String(ctx.path[ctx.path.length - 2]),
        ctx.valuePrefix,
        offset,
      );
    }
  }
  const inputs = children && childInputs(model, text, ctx, offset, children);
  return inputs ?? completeKeys(model, ctx, offset);
}

/** Under a workflow step's `with:` (or `repeat.with:`): the child's inputs not given yet. */
function childInputs(
  model: WorkflowModel,
  text: string,
  ctx: CursorContext,
  offset: number,
  children: ChildReader,
): CompletionItem[] | undefined {
  const [section, id, ...rest] = ctx.path;
  const inWith =
    rest.length === 1 ? rest[0] === "with" : rest[0] === "repeat" && rest[1] === "with";
  if (section !== "steps" || typeof id !== "string" || !inWith || rest.length > 2) return undefined;
  const step = model.parts?.steps.get(id);
  const child = step && children(step);
  if (!child) return undefined;
  const word = /[\w-]*$/.exec(ctx.before)![0];
  // From the text: the model may be older than the keys just typed (analysis.ts, semanticModel).
  const present = siblingKeys(text, offset, ctx.indent);
  const declared = (v: unknown) => (isObj(v) ? v : {});
  // Required inputs (no default) first.
  return [...child.inputs.values()]
    .filter((i) => !present.has(i.name) || i.name === word)
    .sort((a, b) => Number("default" in declared(a.value)) - Number("default" in declared(b.value)))
    .map((i) => {
      const v = declared(i.value);
      return {
        label: i.name,
        kind: "input" as const,
        detail: [str(v.type), inputFact(v)].filter(Boolean).join(" · "),
        documentation: str(v.description),
        insertText: `${i.name}: `,
        span: span(offset, word),
      };
    });
}

/** The keys written at column `indent` in the block around the line of `offset`. */
export function siblingKeys(text: string, offset: number, indent: number): Set<string> {
  const start = text.lastIndexOf("\n", offset - 1) + 1;
  const end = text.indexOf("\n", offset);
  const above = text.slice(0, start).split(/\r?\n/).reverse();
  const below = end < 0 ? [] : text.slice(end + 1).split(/\r?\n/);
  const keys = new Set<string>();
  for (const lines of [above, below]) {
    for (const line of lines) {
      const m = /^( *)(?:([\w-]+)\s*:(?:\s|$))?/.exec(line)!;
      if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
      if (m[1]!.length < indent) break;
      if (m[1]!.length === indent && m[2]) keys.add(m[2]);
    }
  }
  return keys;
}

/** The child's outputs as completion items. */
function childOutputItems(child: ChildWorkflow, where: Span): CompletionItem[] {
  return [...child.outputs.values()].map((o) => ({
    label: o.name,
    kind: "field",
    detail: typeof o.value === "string" ? o.value : undefined,
    documentation: `output of the child workflow \`${child.name ?? child.path}\``,
    span: where,
  }));
}

/** The expression text before the cursor, when the cursor is inside one. */
function expressionPrefix(ctx: CursorContext): string | undefined {
  const open = ctx.before.lastIndexOf("${{");
  if (open >= 0 && ctx.before.lastIndexOf("}}") < open) return ctx.before.slice(open + 3);
  // A value, or a plain list item (`that:` holds a list of expressions).
  const path = ctx.at === "value" ? [...ctx.path, ctx.key ?? ""] : ctx.path;
  if (ctx.at !== "value" && typeof path[path.length - 1] !== "number") return undefined;
  if (!isBareExpressionPath(path)) return undefined;
  const prefix = ctx.valuePrefix;
  return ctx.inBlock ? prefix : prefix.replace(/^["']/, "");
}

export function span(offset: number, word: string): Span {
  return { start: offset - word.length, end: offset };
}

function listTail(valuePrefix: string): string {
  const m = /[\w-]*$/.exec(valuePrefix);
  return m ? m[0] : "";
}

function completeKeys(model: WorkflowModel, ctx: CursorContext, offset: number): CompletionItem[] {
  const root = model.yaml.value;
  const word = /[\w-]*$/.exec(ctx.before)![0];
  const where = span(offset, word);
  if (ctx.path.length === 1 && ctx.path[0] === "steps") return stepSnippets(ctx.indent, where);
  let keys = keysAt(WORKFLOW_SCHEMA, ctx.path, root);
  let schemaRoot: { schema: ZodLike; path: readonly PropertyKey[] } = {
    schema: WORKFLOW_SCHEMA,
    path: ctx.path,
  };
  if (keys.length === 0 && ctx.path.length === 2 && ctx.path[0] === "steps") {
    // A step without a (known) type yet: every step key, starting with `type`.
    keys = [...new Set(STEP_TYPES.flatMap((t) => keysAt(STEP_SCHEMA, [], { type: t })))];
    schemaRoot = { schema: branchFor(STEP_SCHEMA, "llm")!, path: [] };
  }
  const present = valueAt(root, ctx.path);
  return keys
    .filter((k) => !(isObj(present) && k in present && k !== word))
    .map((k) => {
      const found = schemaAt(schemaRoot.schema, [...schemaRoot.path, k], root);
      return {
        label: k,
        kind: "key" as const,
        documentation: found?.description,
        insertText: `${k}: `,
        span: where,
      };
    });
}

function completeValue(
  model: WorkflowModel,
  path: readonly (string | number)[],
  key: string,
  word: string,
  offset: number,
): CompletionItem[] {
  const root = model.yaml.value;
  const where = span(offset, word);
  const top = isObj(root) ? root : {};
  const stepId = path[0] === "steps" && typeof path[1] === "string" ? path[1] : undefined;
  if (key === "type" && path.length === 2 && stepId) {
    return STEP_TYPES.map((t) => ({
      label: t,
      kind: "value",
      documentation: branchFor(STEP_SCHEMA, t)?.description,
      span: where,
    }));
  }
  if (key === "type" && path.length === 2 && path[0] === "providers") {
    return PROVIDER_TYPES.map((t) => ({ label: t, kind: "value", span: where }));
  }
  if (key === "provider" || key === "fallback") {
    const self = path[0] === "providers" ? path[1] : undefined;
    return Object.keys(isObj(top.providers) ? top.providers : {})
      .filter((id) => id !== self)
      .map((id) => ({ label: id, kind: "provider", detail: providerType(top, id), span: where }));
  }
  if (key === "needs" && stepId) {
    const listed = new Set(needsOf(top, stepId));
    return upstreamCandidates(model, stepId)
      .filter((id) => !listed.has(id) || id === word)
      .map((id) => stepItem(top, id, where));
  }
  const found = schemaAt(WORKFLOW_SCHEMA, [...path, key], root);
  if (!found) return [];
  return valuesOf(found.schema)
    .filter((v) => typeof v === "string" || typeof v === "boolean" || typeof v === "number")
    .map((v) => ({ label: String(v), kind: "value", span: where }));
}

function completeExpression(
  model: WorkflowModel,
  ctx: CursorContext,
  prefix: string,
  offset: number,
  children: ChildReader | undefined,
): CompletionItem[] {
  const m = EXPR_TAIL.exec(prefix);
  const segments = m?.[1] ? m[1].split(".").slice(0, -1) : [];
  const word = m?.[2] ?? "";
  const where = span(offset, word);
  const top = isObj(model.yaml.value) ? model.yaml.value : {};
  const owner =
    ctx.path[0] === "steps" && typeof ctx.path[1] === "string" ? ctx.path[1] : undefined;
  const inProvider = ctx.path[0] === "providers";
  if (word.startsWith("$")) return functions(ctx.key === "if", where);
  const [first, second, third, ...fields] = segments;
  if (first === undefined) {
    const inStep = [...ctx.path.slice(2), ...(ctx.at === "value" ? [ctx.key ?? ""] : [])];
    const stepValue = owner && isObj(top.steps) ? top.steps[owner] : undefined;
    const roots = rootNames(
      inProvider ? "provider" : owner ? "step" : "outputs",
      owner ? stepRoleAt(inStep) : "value",
      isObj(stepValue) ? stepValue : undefined,
    );
    return [
      ...roots.map((r): CompletionItem => ({
        label: r,
        kind: "namespace",
        detail: ROOT_DOCS[r],
        span: where,
      })),
      ...functions(ctx.key === "if", span(offset, word)),
    ];
  }
  if (first === "steps" && !inProvider) {
    if (second === undefined) {
      const ids = owner
        ? upstreamCandidates(model, owner)
        : Object.keys(isObj(top.steps) ? top.steps : {});
      return ids.map((id) => stepItem(top, id, where));
    }
    if (third === undefined) {
      const target = isObj(top.steps) ? top.steps[second] : undefined;
      const items: CompletionItem[] = [
        { label: "output", kind: "field", detail: `the output of step '${second}'`, span: where },
        {
          label: "status",
          kind: "field",
          detail: "succeeded, failed, skipped or cancelled",
          span: where,
        },
      ];
      if (isObj(target) && "for_each" in target) {
        items.push({ label: "items", kind: "field", detail: STEP_ITEMS_DOC, span: where });
      }
      if (isObj(target) && "repeat" in target) {
        items.push({ label: "iterations", kind: "field", detail: ITERATIONS_DOC, span: where });
      }
      return items;
    }
    const step = model.parts?.steps.get(second);
    if (third !== "output" || !step) return [];
    if (step.type === "workflow") {
      // A map of a child reads each item's outputs by the same names (JSONata maps the path).
      const child = fields.length === 0 ? children?.(step) : undefined;
      return child ? childOutputItems(child, where) : [];
    }
    return outputFieldsAt(step, fields).map((f) => ({ label: f, kind: "field", span: where }));
  }
  const ownStep = owner ? model.parts?.steps.get(owner) : undefined;
  const ownChild = ownStep?.type === "workflow" ? children?.(ownStep) : undefined;
  if (ownChild && third === undefined) {
    // A loop of a child: `previous.output.` and, in `repeat.until`, `output.`.
    const until = stepRoleAt([...ctx.path.slice(2), ctx.key ?? ""]) === "until";
    if (first === "previous" && second === "output") return childOutputItems(ownChild, where);
    if (first === "output" && second === undefined && until)
      return childOutputItems(ownChild, where);
  }
  if (second !== undefined) return [];
  if (first === "inputs") {
    const inputs = isObj(top.inputs) ? top.inputs : {};
    return Object.entries(inputs).map(([name, v]) => ({
      label: name,
      kind: "input",
      detail: isObj(v) ? str(v.type) : undefined,
      documentation: isObj(v) ? str(v.description) : undefined,
      span: where,
    }));
  }
  if (first === "run") {
    return ["id", "started_at"].map((f) => ({ label: f, kind: "field", span: where }));
  }
  if (first === "secrets" || first === "env") {
    return namesUsed(model, first).map((n) => ({ label: n, kind: "field", span: where }));
  }
  return [];
}

const ROOT_DOCS: Record<string, string> = {
  inputs: "the workflow's inputs",
  steps: "outputs and statuses of the steps this one depends on",
  run: "run.id and run.started_at (the recorded clock)",
  env: "environment variables (recorded for replay)",
  secrets: "secrets, never written to the record",
  output: "this step's own output (in repeat.until: the iteration's output)",
  item: "the item of the for_each list this run of the step is for",
  index: "the item's position in the for_each list, from 0",
  iteration: "the iteration's number, from 1",
  previous: "the iteration before: previous.output",
  args: "the arguments the model sent to this tool call (its parameters)",
};
const STEP_ITEMS_DOC = "the items of the map: [{ key, index, status, output }]";
const ITERATIONS_DOC = "the output of every iteration of the repeat";

function functions(inIf: boolean, where: Span): CompletionItem[] {
  const names = [...JSONATA_FUNCTIONS].filter((f) => !IMPURE_FUNCTIONS.has(f));
  const items: CompletionItem[] = names.map((f) => ({
    label: `$${f}`,
    kind: "function",
    detail: "JSONata function",
    span: where,
  }));
  items.push({
    label: "$trajectory",
    kind: "function",
    detail: "Keel: whether an agent step's tool calls match a list",
    documentation: `${TRAJECTORY_USAGE}: the tools the agent called, in order over all turns, against the expected names. Modes: ${TRAJECTORY_MODES.map((m) => `\`${m}\` (${TRAJECTORY_MODE_DOCS[m]})`).join(", ")}; \`strict\` when left out.`,
    span: where,
  });
  if (inIf) {
    for (const f of STATUS_FUNCTIONS)
      items.push({
        label: `$${f}()`,
        kind: "function",
        detail: "Keel status function (in `if` only)",
        span: where,
      });
  }
  return items;
}

function stepItem(top: Record<string, unknown>, id: string, where: Span): CompletionItem {
  const step = isObj(top.steps) ? top.steps[id] : undefined;
  return {
    label: id,
    kind: "step",
    detail: isObj(step) ? str(step.type) : undefined,
    documentation: isObj(step) ? str(step.description) : undefined,
    span: where,
  };
}

function providerType(top: Record<string, unknown>, id: string): string | undefined {
  const p = isObj(top.providers) ? top.providers[id] : undefined;
  return isObj(p) ? str(p.type) : undefined;
}

function needsOf(top: Record<string, unknown>, id: string): string[] {
  const step = isObj(top.steps) ? top.steps[id] : undefined;
  const needs = isObj(step) ? step.needs : undefined;
  return typeof needs === "string"
    ? [needs]
    : Array.isArray(needs)
      ? needs.filter((n) => typeof n === "string")
      : [];
}

/** Steps `id` may depend on without a cycle: all but itself and the steps that depend on it. */
export function upstreamCandidates(model: WorkflowModel, id: string): string[] {
  const top = isObj(model.yaml.value) ? model.yaml.value : {};
  const all = Object.keys(isObj(top.steps) ? top.steps : {});
  const downstream = new Set<string>([id]);
  const stack = [id];
  while (stack.length > 0) {
    for (const d of model.graph.dependents.get(stack.pop()!) ?? []) {
      if (!downstream.has(d)) {
        downstream.add(d);
        stack.push(d);
      }
    }
  }
  const deps = new Set(model.graph.deps.get(id) ?? []);
  // Steps it already depends on first, then the others in file order.
  return all
    .filter((s) => !downstream.has(s))
    .sort((a, b) => Number(deps.has(b)) - Number(deps.has(a)));
}

function namesUsed(model: WorkflowModel, root: string): string[] {
  const names = new Set<string>();
  for (const { info } of model.sites) {
    for (const ref of info.refs) {
      if (ref.segments[0]?.name === root && ref.segments[1]) names.add(ref.segments[1].name);
    }
  }
  return [...names].sort();
}

const STEP_BODIES: Record<(typeof STEP_TYPES)[number], string[]> = {
  llm: ["prompt: ${2:Ask the model something}"],
  http: ["url: ${2:https://}"],
  tool: ["uses: ./${2:tools/module.js}#${3:exportName}", "with: {}"],
  shell: ["command: [${2:echo}, ${3:hello}]"],
  transform: ["expr: ${2:inputs}"],
  assert: ["that: ${2:true}", "message: ${3:What went wrong}"],
  workflow: ["uses: ./${2:child.keel.yaml}", "with: {}"],
  embed: ['input: "${2:${{ inputs.text }}}"'],
  agent: [
    "prompt: ${2:Answer the question}",
    "max_turns: ${3:8}",
    "tools:",
    "  ${4:search}:",
    "    description: ${5:Search the knowledge base}",
    "    uses: ./${6:tools/search.js}#${7:search}",
    "    parameters: { type: object, required: [query], properties: { query: { type: string } } }",
  ],
};

function stepSnippets(indent: number, where: Span): CompletionItem[] {
  const pad = " ".repeat(indent + 2);
  return STEP_TYPES.map((type) => ({
    label: `${type} step`,
    kind: "snippet",
    detail: `a new ${type} step`,
    documentation: branchFor(STEP_SCHEMA, type)?.description,
    insertText: [`\${1:${type}_step}:`, `type: ${type}`, ...STEP_BODIES[type]].join(`\n${pad}`),
    snippet: true,
    span: where,
  }));
}
