// Reference checks: every context path an expression reads, and every `needs` entry, must name
// something that exists. Produces the graph's edges as it goes.
import type { DiagnosticSink } from "../model/diagnostic";
import type { Edge } from "../graph/graph";
import type { ContextRef, ExprInfo } from "../expr/analyze";
import { IMPURE_FUNCTIONS, JSONATA_FUNCTIONS, STATUS_FUNCTIONS } from "../expr/analyze";
import { closest, didYouMean } from "../model/suggest";
import { siteSpan, type ExprSite } from "./sites";
import type { StepEntry, WorkflowParts } from "./parts";
import { checkOutputField } from "./output-fields";

export interface AnalyzedSite {
  readonly site: ExprSite;
  readonly info: ExprInfo;
}

const STEP_FIELDS = ["output", "status"];

/** The fix for KEEL212. */
const NAME_THE_STEP = "name the step (`steps.<name>.output`), and this step will wait for it";
const RUN_FIELDS = ["id", "started_at"];

export function checkExpressionRefs(
  parts: WorkflowParts,
  analyzed: readonly AnalyzedSite[],
  sink: DiagnosticSink,
  edges: Edge[],
): void {
  for (const { site, info } of analyzed) {
    const span = (s: number, e: number) => siteSpan(parts.text, site, s, e);
    const roots = allowedRoots(site);
    for (const ref of info.refs) checkRef(parts, site, ref, roots, span, sink, edges);
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
      } else if (!JSONATA_FUNCTIONS.has(call.name)) {
        const known = [...JSONATA_FUNCTIONS, ...(site.role === "if" ? STATUS_FUNCTIONS : [])];
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

function allowedRoots(site: ExprSite): string[] {
  if (site.owner.kind === "provider") return ["inputs", "env", "secrets"];
  const roots = ["inputs", "steps", "run", "env", "secrets"];
  if (site.role === "snapshot") roots.push("output");
  return roots;
}

function checkRef(
  parts: WorkflowParts,
  site: ExprSite,
  ref: ContextRef,
  roots: readonly string[],
  span: (s: number, e: number) => { start: number; end: number },
  sink: DiagnosticSink,
  edges: Edge[],
): void {
  const [root, second, third] = ref.segments;
  if (!root) return;
  if (!roots.includes(root.name)) {
    if (root.name === "steps" && site.owner.kind === "provider") {
      sink.add(
        "KEEL210",
        span(root.start, root.end),
        `provider '${site.owner.id}' cannot read step outputs: providers may use inputs, env and secrets only`,
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
  if (root.name === "inputs" && !parts.inputs.has(second.name)) {
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
    if (!STEP_FIELDS.includes(third.name)) {
      sink.add(
        "KEEL209",
        span(third.start, third.end),
        `steps.${second.name} has no field '${third.name}': use .output or .status${didYouMean(third.name, STEP_FIELDS)}`,
      );
      return;
    }
    if (third.name === "output" && ref.segments.length > 3) {
      checkOutputField(target, ref.segments.slice(3), (s, e) => span(s, e), sink);
    }
  }
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
