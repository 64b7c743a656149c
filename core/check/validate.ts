// The single entry point for validating a workflow, used by the CLI and the language server.
// Invariant: never throws; parses once, walks the parsed tree once per concern, and parses all of
// a file's expressions in one batch.
import { DiagnosticSink, sortDiagnostics, type Diagnostic } from "../model/diagnostic";
import { parseYaml, type ParsedYaml } from "../model/parse";
import { buildGraph, type Edge, type StepGraph } from "../graph/graph";
import { parseExpressions } from "../expr/parse";
import { analyzeExpression } from "../expr/analyze";
import { checkSchema } from "./schema";
import { collectSites, siteSpan, type ExprSite } from "./sites";
import { readParts, type WorkflowParts } from "./parts";
import { checkExpressionRefs, checkNeeds, type AnalyzedSite } from "./references";
import { checkCycles } from "./cycles";
import { checkProviders } from "./providers";
import { checkSecrets } from "./secrets";
import { checkTools, type ValidationHost } from "./tools";
import { checkInputDefaults, checkStepRules } from "./steps";

export type { ValidationHost };

export interface ValidateOptions {
  /** Absolute path of the workflow file; tool modules are resolved against its folder. */
  readonly file?: string;
  readonly host?: ValidationHost;
}

/** Everything validation learned, for the language server, the graph and the runner. */
export interface WorkflowModel {
  readonly yaml: ParsedYaml;
  readonly parts?: WorkflowParts;
  readonly sites: readonly AnalyzedSite[];
  readonly graph: StepGraph;
}

export interface ValidationResult {
  readonly diagnostics: Diagnostic[];
  readonly model: WorkflowModel;
}

export function validate(text: string, options: ValidateOptions = {}): ValidationResult {
  const sink = new DiagnosticSink();
  const yaml = parseYaml(text, sink);
  const empty: WorkflowModel = { yaml, sites: [], graph: buildGraph([], []) };
  if (!yaml.root) {
    if (sink.items.length === 0) {
      sink.add(
        "KEEL007",
        { start: 0, end: text.length },
        "the file is empty: a workflow needs `keel: 1`, `name` and `steps`",
      );
    }
    return { diagnostics: sortDiagnostics(sink.items), model: empty };
  }
  checkSchema(yaml.value, yaml.root, sink);
  const parts = readParts(text, yaml.value, yaml.root);
  if (!parts) return { diagnostics: sortDiagnostics(sink.items), model: empty };

  const sites = collectSites(text, yaml.value, yaml.root, sink);
  const analyzed = analyzeSites(text, sites, sink);
  const edges: Edge[] = [];
  checkNeeds(parts, sink, edges);
  checkExpressionRefs(parts, analyzed, sink, edges);
  const graph = buildGraph([...parts.steps.keys()], edges);
  checkCycles(parts, graph, sink);
  checkProviders(parts, sink);
  checkStepRules(parts, sink);
  checkInputDefaults(parts, sink);
  checkSecrets(parts, analyzed, sink);
  checkTools(parts, options.file, options.host, sink);
  return {
    diagnostics: sortDiagnostics(sink.items),
    model: { yaml, parts, sites: analyzed, graph },
  };
}

function analyzeSites(
  text: string,
  sites: readonly ExprSite[],
  sink: DiagnosticSink,
): AnalyzedSite[] {
  const parsed = parseExpressions(sites.map((s) => s.text));
  const analyzed: AnalyzedSite[] = [];
  sites.forEach((site, i) => {
    const p = parsed[i]!;
    if (p.error) {
      const comment =
        site.bare &&
        site.loc.scalar?.type === "PLAIN" &&
        /^[ \t]+#/.test(text.slice(site.loc.span.end));
      sink.add(
        "KEEL301",
        siteSpan(text, site, p.error.start, p.error.end),
        `invalid expression: ${p.error.message}${comment ? " (a ` #` started a YAML comment and cut the expression: put it in quotes)" : ""}`,
      );
      return;
    }
    if (p.ast) analyzed.push({ site, info: analyzeExpression(p.ast, site.text, p.offset) });
  });
  return analyzed;
}
