// Reference checks: every context path an expression reads, and every `needs` entry, must name
// something that exists. Produces the graph's edges as it goes.
import type { DiagnosticSink } from "../model/diagnostic";
import type { Edge } from "../graph/graph";
import type { ContextRef, ExprInfo, Segment } from "../expr/analyze";
import {
  IMPURE_FUNCTIONS,
  JSONATA_FUNCTIONS,
  KEEL_FUNCTIONS,
  STATUS_FUNCTIONS,
} from "../expr/analyze";
import { closest, didYouMean } from "../model/suggest";
import { STEP_TYPES } from "../model/schema";
import { siteSpan, type ExprSite, type SiteOwner, type SiteRole } from "./sites";
import type { StepEntry, WorkflowParts } from "./parts";
import { checkFieldPath, checkOutputField } from "./output-fields";
import { checkChildOutput, type ChildOutputs } from "./child-workflow";
import { isObj, type Obj } from "../model/untyped";
import { checkTrajectoryCall } from "./trajectory";

export interface AnalyzedSite {
  readonly site: ExprSite;
  readonly info: ExprInfo;
}

const STEP_FIELDS = ["output", "status"];
/** An agent step's own fields: `turns` (each model call and its tool calls) and `stop_reason`. */
export const AGENT_FIELDS = ["turns", "stop_reason"];
/** Each of `steps.<agent>.turns`, and each of a turn's `tool_calls`. */
export const TURN_FIELDS = ["turn", "tool_calls", "usage"];
export const TOOL_CALL_FIELDS = ["name", "args", "status", "output"];
/** Each of `steps.<id>.items` of a map step. */
const ITEM_FIELDS = ["key", "index", "status", "output"];

/** What an item of a step's `for_each` list is, by the upstream schema (map-checks.ts). */
export interface ItemScope {
  readonly schema: Obj;
  /** The list it is an item of, as written: `steps.split.output.docs`. */
  readonly of: string;
  /** Where the schema comes from, for messages: `output schema of step 'split'`. */
  readonly source: string;
}

/** What the reference checks know besides the workflow's parts. */
export interface RefContext {
  /** The item of the step whose expressions these are, when its `for_each` list has a schema. */
  readonly item?: ItemScope;
  /** The outputs of workflow steps' children; absent without a host. */
  readonly children?: ChildOutputs;
  /**
   * The parameters of a tool of the agent step whose expressions these are (agent-tools.ts,
   * toolParameters), for `args.<name>`; undefined when they are not known.
   */
  readonly toolParameters?: (tool: string) => Obj | undefined;
}

/** The fix for KEEL212. */
const NAME_THE_STEP = "name the step (`steps.<name>.output`), and this step will wait for it";
const RUN_FIELDS = ["id", "started_at"];

export function checkExpressionRefs(
  parts: WorkflowParts,
  analyzed: readonly AnalyzedSite[],
  sink: DiagnosticSink,
  edges: Edge[],
  more: RefContext = {},
): void {
  for (const { site, info } of analyzed) {
    const span = (s: number, e: number) => siteSpan(parts.text, site, s, e);
    const roots = allowedRoots(parts, site);
    for (const ref of info.refs) checkRef(parts, site, ref, roots, span, sink, edges, more);
    if (roots.includes("steps")) {
      for (const whole of info.wholeContext) {
        sink.add(
          "KEEL212",
          span(whole.start, whole.end),
          `\`${whole.name}\` reads the whole context, steps included, without naming a step: ${NAME_THE_STEP}`,
        );
      }
    }
    for (const call of info.calls) {
      const where = span(call.start, call.end);
      if (info.bound.has(call.name)) continue;
      if (call.name === "eval" && roots.includes("steps")) {
        sink.add(
          "KEEL212",
          where,
          `$eval() runs an expression made at run time, which can read steps Keel cannot see: ${NAME_THE_STEP}`,
        );
        continue;
      }
      if (IMPURE_FUNCTIONS.has(call.name)) {
        const instead = call.name === "random" ? "an input" : "`run.started_at`";
        sink.add(
          "KEEL302",
          where,
          `$${call.name}() gives a different value on every run, so replay could not reproduce it: use ${instead} instead`,
        );
      } else if (STATUS_FUNCTIONS.has(call.name)) {
        if (site.role !== "if") {
          sink.add("KEEL307", where, `$${call.name}() only has a meaning in a step's \`if\``);
        }
      } else if (KEEL_FUNCTIONS.has(call.name)) {
        if (call.name === "trajectory") checkTrajectoryCall(parts, call, span, sink);
      } else if (!JSONATA_FUNCTIONS.has(call.name)) {
        const known = [
          ...JSONATA_FUNCTIONS,
          ...KEEL_FUNCTIONS,
          ...(site.role === "if" ? STATUS_FUNCTIONS : []),
        ];
        const match = closest(call.name, known);
        sink.add(
          "KEEL306",
          where,
          `unknown function $${call.name}${match ? `: did you mean '$${match}'?` : ""}`,
        );
      }
    }
  }
}

/**
 * The names an expression may start with. A step with `for_each` adds `item` and `index` to all
 * its expressions but `for_each` itself (evaluated before any item); `repeat.until` sees the
 * iteration's `output` and `iteration`, `repeat.with` `previous` and `iteration`.
 */
function allowedRoots(parts: WorkflowParts, site: ExprSite): string[] {
  const step = site.owner.kind === "step" ? parts.steps.get(site.owner.id)?.value : undefined;
  return rootNames(site.owner.kind, site.role, step);
}

/** The names an expression of `role` in a step (its value `step`), a provider or `outputs` sees. */
export function rootNames(
  owner: SiteOwner["kind"],
  role: SiteRole,
  step: Readonly<Obj> | undefined,
): string[] {
  if (owner === "provider" || owner === "defaults") return ["inputs", "env", "secrets"];
  const roots = ["inputs", "steps", "run", "env", "secrets"];
  if (owner !== "step") return roots;
  // `for_each` and `if` are evaluated once for the step, before any item.
  if (step && "for_each" in step && role !== "for_each" && role !== "if") {
    roots.push("item", "index");
  }
  if (role === "snapshot" || role === "until") roots.push("output");
  if (role === "until" || role === "repeat_with") roots.push("iteration");
  if (role === "repeat_with") roots.push("previous");
  if (role === "tool") roots.push("args");
  return roots;
}

/** KEEL213's message for a name that exists only in a scope this site is not in. */
function outsideScope(site: ExprSite, name: string, maps: boolean): string | undefined {
  const step = site.owner.kind === "step" ? `step '${site.owner.id}'` : undefined;
  if (name === "item" || name === "index") {
    if (site.role === "for_each") {
      return `\`${name}\` is not defined in \`for_each\` of ${step}: the list is evaluated once, before any item; \`${name}\` is defined in the step's other expressions`;
    }
    if (site.role === "if" && maps) {
      return `\`${name}\` is not defined in \`if\` of ${step}: \`if\` is evaluated once for the whole step, before its list; to leave items out, filter the list (\`for_each: list[condition]\`)`;
    }
    return step
      ? `\`${name}\` is defined only in a step with \`for_each\`, and ${step} has none: add \`for_each:\` with the list to map over`
      : `\`${name}\` is defined only in a step with \`for_each\`: read a map step's results as \`steps.<id>.output\``;
  }
  if (name === "iteration") {
    return `\`iteration\` is defined only in \`repeat.until\` and \`repeat.with\` of a workflow step${step ? `, not here in ${step}` : ""}`;
  }
  if (name === "args") {
    return `\`args\` (a tool call's arguments) is defined only in the \`with:\` and \`http:\` of an agent step's tool${step ? `, not here in ${step}` : ""}`;
  }
  if (name === "previous") {
    return `\`previous\` is defined only in \`repeat.with\` of a workflow step (the iteration before, as \`previous.output\`)${step ? `, not here in ${step}` : ""}`;
  }
  return undefined;
}

/** The fields of `steps.<id>.`: `items` on a map step, `iterations` on a repeated one. */
function stepFields(step: StepEntry): string[] {
  const fields = [...STEP_FIELDS];
  if (step.type === "agent") fields.push(...AGENT_FIELDS);
  if ("for_each" in step.value) fields.push("items");
  if ("repeat" in step.value) fields.push("iterations");
  return fields;
}

function checkRef(
  parts: WorkflowParts,
  site: ExprSite,
  ref: ContextRef,
  roots: readonly string[],
  span: (s: number, e: number) => { start: number; end: number },
  sink: DiagnosticSink,
  edges: Edge[],
  more: RefContext,
): void {
  const [root, second, third] = ref.segments;
  if (!root) return;
  if (!roots.includes(root.name)) {
    const step = site.owner.kind === "step" ? parts.steps.get(site.owner.id) : undefined;
    const outside = outsideScope(site, root.name, step !== undefined && "for_each" in step.value);
    if (outside) {
      sink.add("KEEL213", span(root.start, root.end), outside);
      return;
    }
    if (root.name === "steps" && site.owner.kind === "provider") {
      sink.add(
        "KEEL210",
        span(root.start, root.end),
        `provider '${site.owner.id}' cannot read step outputs: providers may use inputs, env and secrets only`,
      );
      return;
    }
    if (root.name === "steps" && site.owner.kind === "defaults") {
      sink.add(
        "KEEL210",
        span(root.start, root.end),
        `defaults.${site.owner.id} cannot read step outputs: it applies to every ${site.owner.id} step, so it may use inputs, env and secrets only`,
      );
      return;
    }
    const hint = didYouMean(root.name, roots);
    const textHint =
      !hint && site.bare && site.text.trim() === root.name
        ? ` (for the text "${root.name}", write a JSONata string: '"${root.name}"')`
        : "";
    sink.add(
      "KEEL208",
      span(root.start, root.end),
      `unknown name '${root.name}': an expression here can read ${roots.join(", ")}${hint}${textHint}`,
    );
    return;
  }
  if (!second) {
    // `steps` itself: `$lookup(steps, "x")`, `$keys(steps)`, `steps.*`, `steps.("x")`, `steps[0]`.
    if (root.name === "steps") {
      sink.add(
        "KEEL212",
        span(root.start, root.end),
        `\`steps\` is read without naming a step, so Keel cannot tell which one this reads: ${NAME_THE_STEP}`,
      );
    }
    return;
  }
  const owner = site.owner.kind === "step" ? parts.steps.get(site.owner.id) : undefined;
  if (root.name === "item" && more.item) {
    const { schema, of, source } = more.item;
    checkFieldPath(
      schema,
      ref.segments.slice(1),
      "item",
      `(an item of ${of}, ${source})`,
      span,
      sink,
    );
  } else if (root.name === "previous") {
    if (second.name !== "output") {
      sink.add(
        "KEEL209",
        span(second.start, second.end),
        `previous has no field '${second.name}': it has output (the output of the iteration before)`,
      );
    } else if (third && owner) {
      checkChildOutput(more.children, owner, "previous.output", third, span, sink);
    }
  } else if (root.name === "output" && site.role === "until" && owner) {
    checkChildOutput(more.children, owner, "output", second, span, sink);
  } else if (root.name === "args" && site.tool !== undefined) {
    const schema = more.toolParameters?.(site.tool);
    if (schema) checkArgs(schema, site.tool, ref.segments.slice(1), span, sink);
  } else if (root.name === "inputs" && !parts.inputs.has(second.name)) {
    sink.add(
      "KEEL202",
      span(second.start, second.end),
      `unknown input '${second.name}'${didYouMean(second.name, parts.inputs.keys()) || (parts.inputs.size === 0 ? ": the workflow declares no inputs" : "")}`,
    );
  } else if (root.name === "run" && !RUN_FIELDS.includes(second.name)) {
    sink.add(
      "KEEL209",
      span(second.start, second.end),
      `run has no field '${second.name}': it has ${RUN_FIELDS.join(", ")}${didYouMean(second.name, RUN_FIELDS)}`,
    );
  } else if (root.name === "steps") {
    const target = parts.steps.get(second.name);
    if (!target) {
      sink.add(
        "KEEL201",
        span(second.start, second.end),
        `unknown step '${second.name}'${didYouMean(second.name, parts.steps.keys())}`,
      );
      return;
    }
    if (site.owner.kind === "step") {
      edges.push({
        from: site.owner.id,
        to: second.name,
        via: "expression",
        span: span(second.start, second.end),
      });
    }
    if (!third) return;
    // A step whose type Keel does not know has fields of unknown names: its type's diagnostic says it.
    if (!(STEP_TYPES as readonly (string | undefined)[]).includes(target.type)) return;
    const fields = stepFields(target);
    if (!fields.includes(third.name)) {
      const only =
        third.name === "items"
          ? ": only a step with `for_each` has items"
          : third.name === "iterations"
            ? ": only a workflow step with `repeat` has iterations"
            : didYouMean(third.name, fields);
      sink.add(
        "KEEL209",
        span(third.start, third.end),
        `steps.${second.name} has no field '${third.name}': use ${orList(fields.map((f) => `.${f}`))}${only}`,
      );
      return;
    }
    const [fourth, ...rest] = ref.segments.slice(3);
    if (!fourth) return;
    if (third.name === "output") {
      if (target.type === "workflow" && more.children) {
        const path = `steps.${second.name}.output`;
        checkChildOutput(more.children, target, path, fourth, span, sink);
      } else checkOutputField(target, ref.segments.slice(3), (s, e) => span(s, e), sink);
    } else if (third.name === "turns") {
      checkTurnFields(second.name, ref.segments.slice(3), span, sink);
    } else if (third.name === "items") {
      if (!ITEM_FIELDS.includes(fourth.name)) {
        sink.add(
          "KEEL209",
          span(fourth.start, fourth.end),
          `an item of steps.${second.name}.items has ${ITEM_FIELDS.join(", ")}, not '${fourth.name}'${didYouMean(fourth.name, ITEM_FIELDS)}`,
        );
      } else if (fourth.name === "output" && rest.length > 0 && target.type !== "workflow") {
        checkOutputField(target, rest, (s, e) => span(s, e), sink);
      }
    }
  }
}

/**
 * `args.<name>…` in a tool's template: `name` is a property of the tool's parameters, unless they
 * say other properties may come (`additionalProperties` not false and given); deeper fields by the
 * property's schema (output-fields.ts).
 */
function checkArgs(
  schema: Obj,
  tool: string,
  fields: readonly Segment[],
  span: (s: number, e: number) => { start: number; end: number },
  sink: DiagnosticSink,
): void {
  const [first, ...rest] = fields;
  if (!first) return;
  const properties = isObj(schema.properties) ? schema.properties : {};
  const names = Object.keys(properties);
  const property = properties[first.name];
  if (property === undefined) {
    const extra = schema.additionalProperties;
    if (extra !== undefined && extra !== false) return;
    sink.add(
      "KEEL217",
      span(first.start, first.end),
      `tool '${tool}' has no parameter '${first.name}'${didYouMean(first.name, names) || (names.length ? `: its parameters are ${names.join(", ")}` : ": it declares no parameters")}`,
    );
    return;
  }
  if (isObj(property) && rest.length > 0) {
    const of = `(parameter '${first.name}' of tool '${tool}')`;
    checkFieldPath(property, rest, `args.${first.name}`, of, span, sink);
  }
}

/** `steps.<agent>.turns.<field>` and `….tool_calls.<field>`. */
function checkTurnFields(
  id: string,
  fields: readonly Segment[],
  span: (s: number, e: number) => { start: number; end: number },
  sink: DiagnosticSink,
): void {
  const [field, call] = fields;
  if (!field) return;
  if (!TURN_FIELDS.includes(field.name)) {
    sink.add(
      "KEEL209",
      span(field.start, field.end),
      `a turn of steps.${id}.turns has ${TURN_FIELDS.join(", ")}, not '${field.name}'${didYouMean(field.name, TURN_FIELDS)}`,
    );
  } else if (field.name === "tool_calls" && call && !TOOL_CALL_FIELDS.includes(call.name)) {
    sink.add(
      "KEEL209",
      span(call.start, call.end),
      `a tool call of steps.${id}.turns.tool_calls has ${TOOL_CALL_FIELDS.join(", ")}, not '${call.name}'${didYouMean(call.name, TOOL_CALL_FIELDS)}`,
    );
  }
}

/** `a, b or c`. */
function orList(items: readonly string[]): string {
  return items.length <= 1
    ? items.join("")
    : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

/** `needs` entries of one step: known steps, no duplicates; each is an edge. */
export function checkStepNeeds(
  parts: WorkflowParts,
  step: StepEntry,
  sink: DiagnosticSink,
  edges: Edge[],
): void {
  const needs = step.value.needs;
  const list = typeof needs === "string" ? [needs] : Array.isArray(needs) ? needs : [];
  const seen = new Set<string>();
  list.forEach((need, i) => {
    if (typeof need !== "string") return;
    const loc =
      typeof needs === "string"
        ? step.loc.children?.get("needs")
        : step.loc.children?.get("needs")?.children?.get(i);
    const span = loc?.span ?? step.keySpan;
    if (seen.has(need)) {
      sink.add("KEEL211", span, `'${need}' is already listed in needs`);
      return;
    }
    seen.add(need);
    if (!parts.steps.has(need)) {
      const match = closest(need, parts.steps.keys());
      sink.add(
        "KEEL201",
        span,
        `unknown step '${need}' in needs${match ? `: did you mean '${match}'?` : ""}`,
        match ? { fixes: [{ title: `Change to '${match}'`, span, newText: match }] } : undefined,
      );
      return;
    }
    edges.push({ from: step.id, to: need, via: "needs", span });
  });
}
