// What the graph panel draws of a workflow: its steps with their types and key lines, the
// dependencies between them, which steps are conditional, and whether the file has errors (then
// the panel shows what parses). Computed from the same model as every other feature.
import type { Diagnostic } from "../model/diagnostic";
import type { LineIndex } from "../model/line-index";
import { isObj, str } from "../model/untyped";
import type { WorkflowModel } from "../check/validate";
import type { GraphMessage } from "../protocol/webview";
import { StepType } from "../protocol/webview";
import { outline } from "./outline";

export function graphView(
  model: WorkflowModel,
  diagnostics: readonly Diagnostic[],
  index: LineIndex,
  uri: string,
): GraphMessage {
  const top = isObj(model.yaml.value) ? model.yaml.value : {};
  const stepValues = isObj(top.steps) ? top.steps : {};
  const section = outline(model).find((s) => s.kind === "section" && s.name === "steps");
  const steps = (section?.children ?? []).map((item) => {
    const value = stepValues[item.name];
    const type = StepType.safeParse(item.detail);
    const step = isObj(value) ? value : {};
    return {
      id: item.name,
      type: type.success ? type.data : ("unknown" as const),
      line: index.position(item.selection.start).line,
      conditional: step.if !== undefined,
      // Said only when true: most steps are neither.
      ...(step.for_each !== undefined ? { map: true } : {}),
      ...(step.type === "workflow" && step.repeat !== undefined ? { repeat: true } : {}),
    };
  });
  const seen = new Set<string>();
  const edges: GraphMessage["edges"] = [];
  for (const e of model.graph.edges) {
    const key = `${e.from}\u0000${e.to}`;
    if (seen.has(key)) continue;
    seen.add(key);
    edges.push({ from: e.from, to: e.to });
  }
  return {
    type: "graph",
    uri,
    name: str(top.name) ?? "workflow",
    steps,
    edges,
    errors: diagnostics.filter((d) => d.severity === "error").length,
  };
}

/** The step whose entry holds the line, if any: the editor's cursor selects its node. */
export function stepAtLine(model: WorkflowModel, index: LineIndex, line: number): string | null {
  const section = outline(model).find((s) => s.kind === "section" && s.name === "steps");
  for (const item of section?.children ?? []) {
    const first = index.position(item.span.start).line;
    const last = index.position(item.span.end).line;
    if (line >= first && line <= last) return item.name;
  }
  return null;
}
