// Checks of a step's map keys (docs/format.md, "Maps, child workflows and loops"): settings that
// have no effect without `for_each`, a `key` the same for every item, and a `for_each` that reads
// something not a list by its schema. Returns what an item is, for the checks of `item.<field>`.
import type { DiagnosticSink } from "../model/diagnostic";
import { isObj } from "../model/untyped";
import { siteSpan } from "./sites";
import type { StepEntry, WorkflowParts } from "./parts";
import type { AnalyzedSite, ItemScope } from "./references";
import { outputShape, type ValueShape } from "./output-fields";

const MAP_SETTINGS = ["key", "concurrency", "max_items", "on_item_error", "max_failures"];

export function checkStepMap(
  parts: WorkflowParts,
  step: StepEntry,
  sites: readonly AnalyzedSite[],
  sink: DiagnosticSink,
): ItemScope | undefined {
  const keyLoc = (key: string) => step.loc.children?.get(key);
  if (!("for_each" in step.value)) {
    for (const key of MAP_SETTINGS) {
      const loc = keyLoc(key);
      if (!loc || !(key in step.value)) continue;
      sink.add(
        "KEEL216",
        loc.keySpan ?? loc.span,
        `\`${key}\` has no effect without \`for_each\` in step '${step.id}': add \`for_each:\` with the list to map over, or remove \`${key}\``,
      );
    }
    return undefined;
  }
  const onError = step.value.on_item_error;
  const failures = keyLoc("max_failures");
  if (failures && (onError === undefined || onError === "fail")) {
    sink.add(
      "KEEL216",
      failures.keySpan ?? failures.span,
      `\`max_failures\` has no effect with \`on_item_error: fail\`${onError === undefined ? " (the default)" : ""}: the first failed item fails step '${step.id}'; set \`on_item_error: continue\` or \`drop\``,
    );
  }
  const key = sites.find((s) => s.site.role === "key");
  if (key && !key.info.refs.some((r) => ["item", "index"].includes(r.segments[0]?.name ?? ""))) {
    sink.add(
      "KEEL215",
      key.site.loc.span,
      `the key of step '${step.id}' reads neither \`item\` nor \`index\`, so it would be the same for every item (keys must be unique): write \`key: item.id\` or similar`,
    );
  }
  const list = sites.find((s) => s.site.role === "for_each");
  return list && listItem(parts, list, sink);
}

/** When `for_each` is one path into an upstream output or an input: its items, or KEEL214. */
function listItem(
  parts: WorkflowParts,
  { site, info }: AnalyzedSite,
  sink: DiagnosticSink,
): ItemScope | undefined {
  const ref = info.refs.length === 1 ? info.refs[0]! : undefined;
  const segments = ref?.complete ? ref.segments : undefined;
  const first = segments?.[0];
  const last = segments?.[segments.length - 1];
  if (!segments || !first || !last) return undefined;
  const written = site.text.slice(first.start, last.end);
  if (written !== site.text.trim()) return undefined; // more than one path: a filter, a call, …
  const names = segments.map((s) => s.name);
  let shape: ValueShape = { kind: "unknown" };
  let source = "";
  if (names[0] === "steps" && names[2] === "output" && names[1] !== undefined) {
    const target = parts.steps.get(names[1]);
    if (!target) return undefined;
    shape = outputShape(target, names.slice(3));
    source = `by the output schema of step '${target.id}'`;
  } else if (names[0] === "inputs" && names.length === 2 && names[1] !== undefined) {
    const input = parts.inputs.get(names[1])?.value;
    if (!isObj(input)) return undefined;
    const schema = isObj(input.schema) ? input.schema : undefined;
    shape =
      input.type === "array"
        ? { kind: "list", items: schema && isObj(schema.items) ? schema.items : undefined }
        : typeof input.type === "string"
          ? { kind: "other", what: `${input.type === "object" ? "an" : "a"} ${input.type}` }
          : { kind: "unknown" };
    source = `by the type of input '${names[1]}'`;
  }
  if (shape.kind === "other") {
    sink.add(
      "KEEL214",
      siteSpan(parts.text, site, first.start, last.end),
      `for_each must be a list: ${written} is ${shape.what} ${shape.by ?? source}`,
    );
    return undefined;
  }
  if (shape.kind === "list" && shape.items) {
    return { schema: shape.items, of: written, source };
  }
  return undefined;
}
