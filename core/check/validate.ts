// The single entry point for validating a workflow, used by the CLI and the language server.
// Invariant: never throws; parses once, walks the parsed tree once per concern, and parses all of
// a file's expressions in one batch. Each entry of `steps` is checked on its own (step-checks.ts),
// so that the language server can re-check one step after an edit (incremental.ts).
import { DiagnosticSink, sortDiagnostics, type Diagnostic } from "../model/diagnostic";
import { parseYaml, type Loc, type ParsedYaml } from "../model/parse";
import { inSetAside } from "../model/recover";
import { buildGraph, type StepGraph } from "../graph/graph";
import { parseExpressions } from "../expr/parse";
import { checkHeaderSchema } from "./schema";
import { collectHeaderSites, forEachEntry } from "./sites";
import { readParts, type WorkflowParts } from "./parts";
import { checkExpressionRefs, type AnalyzedSite } from "./references";
import { checkCycles } from "./cycles";
import { checkProviders } from "./providers";
import { checkSecrets } from "./secrets";
import type { ValidationHost } from "./tools";
import { checkInputDefaults } from "./steps";
import { childOutputs, MAX_CHILD_DEPTH } from "./child-workflow";
import {
  analyzeSites,
  childContext,
  collectStep,
  finishStep,
  recordingHost,
  type CollectedStep,
  type StepContext,
  type StepResult,
} from "./step-checks";

export type { ValidationHost };

export interface ValidateOptions {
  /** Absolute path of the workflow file; tool modules are resolved against its folder. */
  readonly file?: string;
  readonly host?: ValidationHost;
  /** How deep below the file the user validates this one is, when it is a child workflow. */
  readonly childDepth?: number;
}

/** Validation of a child workflow file, one level deeper; none past the nesting limit. */
export function childValidator(options: ValidateOptions): StepContext["validateChild"] {
  const depth = options.childDepth ?? 0;
  if (depth >= MAX_CHILD_DEPTH) return undefined;
  return (text, file, host) => validate(text, { file, host, childDepth: depth + 1 }).diagnostics;
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

/** A validation with its diagnostics kept by origin, for incremental re-validation. */
export interface ValidationDetail {
  readonly result: ValidationResult;
  /** YAML syntax and structure (anchors, duplicate keys, tags). */
  readonly parse: readonly Diagnostic[];
  /** Present when the document is a mapping. */
  readonly split?: {
    /** Everything outside the entries of `steps`. */
    readonly header: readonly Diagnostic[];
    /** One result per entry of `steps`, in file order (none when `steps` is not a mapping). */
    readonly steps: readonly StepResult[];
    /** Dependency cycles. */
    readonly cycles: readonly Diagnostic[];
    readonly stepsLoc?: Loc;
    /** The expressions outside `steps` (`outputs`, ...), analysed. */
    readonly headerSites: readonly AnalyzedSite[];
    /** Files the checks outside `steps` asked the host for (child workflows' outputs). */
    readonly headerReads: readonly string[];
  };
}

export function validate(text: string, options: ValidateOptions = {}): ValidationResult {
  return validateInDetail(text, options).result;
}

export function validateInDetail(text: string, options: ValidateOptions = {}): ValidationDetail {
  const parseSink = new DiagnosticSink();
  const yaml = parseYaml(text, parseSink);
  const parse = parseSink.items;
  const empty: WorkflowModel = { yaml, sites: [], graph: buildGraph([], []) };
  if (!yaml.root) {
    if (parse.length === 0) {
      parseSink.add(
        "KEEL007",
        { start: 0, end: text.length },
        "the file is empty: a workflow needs `keel: 1`, `name` and `steps`",
      );
    }
    return { result: { diagnostics: sortDiagnostics([...parse]), model: empty }, parse };
  }
  const header = new DiagnosticSink();
  checkHeaderSchema(yaml.value, yaml.root, header);
  const parts = readParts(text, yaml.value, yaml.root);
  if (!parts) {
    const diagnostics = sortDiagnostics([...parse, ...withoutSetAside(yaml, header.items)]);
    return { result: { diagnostics, model: empty }, parse };
  }

  const ctx: StepContext = {
    ...options,
    text,
    rootValue: yaml.value,
    root: yaml.root,
    parts,
    validateChild: childValidator(options),
  };
  const stepsLoc = yaml.root.children?.get("steps");
  const collected: CollectedStep[] = [];
  forEachEntry(parts.top.steps, stepsLoc, (id, value, loc) => {
    collected.push(collectStep(ctx, id, value, loc));
  });
  const headerSites = collectHeaderSites(text, yaml.value, yaml.root, header);
  const parsed = parseExpressions([
    ...collected.flatMap((c) => c.sites.map((s) => s.text)),
    ...headerSites.map((s) => s.text),
  ]);
  let at = 0;
  const steps = collected.map((c) => finishStep(ctx, c, parsed.slice(at, (at += c.sites.length))));
  const headerAnalyzed = analyzeSites(text, headerSites, parsed.slice(at), header);
  const headerReads: string[] = [];
  const headerChildren = childContext(ctx, recordingHost(options.host, headerReads));
  // Only steps' expressions make edges.
  checkExpressionRefs(parts, headerAnalyzed, header, [], {
    children: childOutputs(headerChildren),
  });
  checkProviders(parts, header);
  checkInputDefaults(parts, header);
  checkSecrets(parts, headerAnalyzed, header);

  const graph = buildGraph(
    [...parts.steps.keys()],
    [...steps.flatMap((s) => s.needsEdges), ...steps.flatMap((s) => s.exprEdges)],
  );
  const cycles = new DiagnosticSink();
  checkCycles(parts, graph, cycles);
  const diagnostics = sortDiagnostics([
    ...parse,
    ...withoutSetAside(yaml, [
      ...header.items,
      ...steps.flatMap((s) => s.diagnostics),
      ...cycles.items,
    ]),
  ]);
  const sites = [...steps.flatMap((s) => s.sites), ...headerAnalyzed];
  return {
    result: { diagnostics, model: { yaml, parts, sites, graph } },
    parse,
    split: {
      header: header.items,
      steps,
      cycles: cycles.items,
      stepsLoc,
      headerSites: headerAnalyzed,
      headerReads,
    },
  };
}

/**
 * After a YAML syntax error, what was read around the bad values (model/recover.ts) is checked as
 * usual, but nothing is said of a value that was set aside: its syntax error says it all.
 */
function withoutSetAside(yaml: ParsedYaml, diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const aside = yaml.setAside;
  if (!aside) return [...diagnostics];
  return diagnostics.filter((d) => !inSetAside(d, aside));
}
