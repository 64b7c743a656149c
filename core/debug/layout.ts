// Where a workflow's steps are in its text and what each depends on: what the replay debugger
// needs of a file to place breakpoints and frames and to draw the upstream chain. Computed with the
// validator's own pieces (parse, outline, a step's needs and expression references), but only as
// far as the debugger asks: the file is parsed once, a step's dependencies are worked out the first
// time its frame is shown. The debugger never reports diagnostics: the language server does.
import { DiagnosticSink } from "../model/diagnostic";
import { LineIndex } from "../model/line-index";
import { parseYaml } from "../model/parse";
import { buildGraph } from "../graph/graph";
import { parseExpressions } from "../expr/parse";
import { readParts } from "../check/parts";
import { collectStep, finishStep, type StepContext } from "../check/step-checks";
import { outline } from "../service/outline";

/** A step's place in the text; lines are zero-based. */
export interface StepPlace {
  readonly id: string;
  /** The line of the step's key (`summarize:`). */
  readonly keyLine: number;
  /** First and last line of the step's entry, key and value. */
  readonly firstLine: number;
  readonly lastLine: number;
}

export interface WorkflowLayout {
  readonly steps: ReadonlyMap<string, StepPlace>;
  /** Steps in file order. */
  readonly order: readonly StepPlace[];
  /** Direct dependencies of a step (`needs` and expression references), in first-mention order. */
  depsOf(id: string): readonly string[];
  /** The step whose entry holds the zero-based line, if any. */
  stepAtLine(line: number): StepPlace | undefined;
  /** The `uses` of its `type: workflow` steps (child workflow files, relative to this one). */
  readonly uses: readonly string[];
  /** Its `type: agent` steps, each with the names of its `tools`. */
  readonly agents: ReadonlyMap<string, readonly string[]>;
}

export function layoutOf(text: string): WorkflowLayout {
  const yaml = parseYaml(text, new DiagnosticSink());
  const index = new LineIndex(text);
  const model = { yaml, sites: [], graph: buildGraph([], []) };
  const section = outline(model).find((s) => s.kind === "section" && s.name === "steps");
  const order: StepPlace[] = [];
  for (const item of section?.children ?? []) {
    const first = index.position(item.span.start).line;
    const end = index.position(item.span.end);
    // A span that ends at the start of a line does not hold that line.
    const last = end.character === 0 && end.line > first ? end.line - 1 : end.line;
    order.push({
      id: item.name,
      keyLine: index.position(item.selection.start).line,
      firstLine: first,
      lastLine: Math.max(first, last),
    });
  }
  const steps = new Map(order.map((s) => [s.id, s]));
  const parts = yaml.root ? readParts(text, yaml.value, yaml.root) : undefined;
  const deps = new Map<string, readonly string[]>();
  const entries = (yaml.value as { steps?: unknown } | undefined)?.steps;
  const uses = Object.values(entries && typeof entries === "object" ? entries : {}).flatMap(
    (s: { type?: unknown; uses?: unknown } | null) =>
      s?.type === "workflow" && typeof s.uses === "string" ? [s.uses] : [],
  );
  const agents = new Map<string, string[]>();
  for (const [id, s] of Object.entries(entries && typeof entries === "object" ? entries : {})) {
    const step = s as { type?: unknown; tools?: unknown } | null;
    if (step?.type !== "agent") continue;
    const tools = step.tools && typeof step.tools === "object" ? Object.keys(step.tools) : [];
    agents.set(id, tools);
  }
  return {
    steps,
    order,
    uses,
    agents,
    depsOf(id) {
      let found = deps.get(id);
      if (found) return found;
      const entry = parts?.steps.get(id);
      if (!parts || !entry || !yaml.root) return [];
      const ctx: StepContext = { text, rootValue: yaml.value, root: yaml.root, parts };
      const collected = collectStep(ctx, id, entry.value, entry.loc);
      const parsed = parseExpressions(collected.sites.map((s) => s.text));
      const r = finishStep(ctx, collected, parsed);
      found = [...new Set([...r.needsEdges, ...r.exprEdges].map((e) => e.to))].filter(
        (d) => d !== id && parts.steps.has(d),
      );
      deps.set(id, found);
      return found;
    },
    stepAtLine(line) {
      // Entries are in file order and do not overlap: a binary search on the first line.
      let lo = 0;
      let hi = order.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const s = order[mid]!;
        if (line < s.firstLine) hi = mid - 1;
        else if (line > s.lastLine) lo = mid + 1;
        else return s;
      }
      return undefined;
    },
  };
}
