// The checks of one entry of `steps`, in two phases around the file-wide batch parse of
// expressions: collectStep (schema, expression sites), then finishStep (expressions, references,
// needs, provider, rules, secrets, tools, agents' tools).
// Invariant: what a step's checks report depends only on that entry, on the step ids, on what
// `linkedShape` keeps of the steps its expressions read, on everything outside `steps`, and on
// the files it asked the host for (`reads`); so a step whose text is unchanged keeps its result as
// long as those are unchanged.
import { DiagnosticSink, type Diagnostic } from "../model/diagnostic";
import type { Loc } from "../model/parse";
import { isObj, str } from "../model/untyped";
import type { Edge } from "../graph/graph";
import type { ParsedExpression } from "../expr/parse";
import { analyzeExpression } from "../expr/analyze";
import { checkStepSchema } from "./schema";
import { collectStepSites, siteSpan, type ExprSite } from "./sites";
import type { StepEntry, WorkflowParts } from "./parts";
import { checkExpressionRefs, checkStepNeeds, type AnalyzedSite } from "./references";
import { checkStepProvider } from "./providers";
import { checkStepSecrets } from "./secrets";
import { checkStepTool, type ValidationHost } from "./tools";
import { checkStepRules } from "./steps";
import { checkStepPromptFiles } from "./prompt-file";
import { checkStepMap } from "./map-checks";
import { checkWorkflowStep, childOutputs, type ChildContext } from "./child-workflow";
import { checkAgentTools, toolParameters } from "./agent-tools";

/** What the step checks read besides the step itself. */
export interface StepContext {
  readonly text: string;
  /** The document value and location tree, or a stand-in holding this step and the first key. */
  readonly rootValue: unknown;
  readonly root: Loc;
  /** The workflow's parts: the other steps' entries are read for their id, type and output only. */
  readonly parts: WorkflowParts;
  readonly file?: string;
  readonly host?: ValidationHost;
  /** Validates a child workflow file (validate.ts); absent where children are not checked. */
  readonly validateChild?: (
    text: string,
    file: string,
    host: ValidationHost,
  ) => readonly Diagnostic[];
}

/**
 * What other steps' checks read of a step: its type and output (field checks), whether it maps
 * (`for_each`: its output is a list, it has `items`) or repeats (`iterations`), the child
 * workflow it uses (its outputs), and an agent's tool names (`$trajectory`'s expected names).
 */
export function linkedShape(step: Record<string, unknown>): string {
  return JSON.stringify([
    step.type,
    step.output,
    "for_each" in step,
    "repeat" in step,
    step.type === "workflow" ? step.uses : undefined,
    step.type === "agent" && isObj(step.tools) ? Object.keys(step.tools) : undefined,
  ]);
}

/** A step after its first phase: its schema diagnostics and its expression sites. */
export interface CollectedStep {
  readonly id: string;
  readonly value: unknown;
  readonly loc: Loc;
  readonly sink: DiagnosticSink;
  readonly sites: readonly ExprSite[];
}

/** Everything validation learned from one entry of `steps`. */
export interface StepResult {
  readonly id: string;
  readonly value: unknown;
  readonly loc: Loc;
  readonly diagnostics: readonly Diagnostic[];
  readonly sites: readonly AnalyzedSite[];
  /** Edges from `needs`, then from expressions (the graph takes all `needs` edges first). */
  readonly needsEdges: readonly Edge[];
  readonly exprEdges: readonly Edge[];
  /** Files the tool check asked the host for. */
  readonly reads: readonly string[];
}

export function collectStep(ctx: StepContext, id: string, value: unknown, loc: Loc): CollectedStep {
  const sink = new DiagnosticSink();
  checkStepSchema(id, value, ctx.rootValue, ctx.root, sink);
  const sites = isObj(value) ? collectStepSites(ctx.text, id, value, loc, sink) : [];
  return { id, value, loc, sink, sites };
}

/** `parsed[i]` is the parse of `step.sites[i]`. */
export function finishStep(
  ctx: StepContext,
  step: CollectedStep,
  parsed: readonly ParsedExpression[],
): StepResult {
  const { sink } = step;
  const sites = analyzeSites(ctx.text, step.sites, parsed, sink);
  const needsEdges: Edge[] = [];
  const exprEdges: Edge[] = [];
  const reads: string[] = [];
  if (isObj(step.value)) {
    const entry: StepEntry = {
      id: step.id,
      value: step.value,
      type: str(step.value.type),
      loc: step.loc,
      keySpan: step.loc.keySpan ?? step.loc.span,
    };
    const host = recordingHost(ctx.host, reads);
    const children = childContext(ctx, host);
    checkStepNeeds(ctx.parts, entry, sink, needsEdges);
    const item = checkStepMap(ctx.parts, entry, sites, sink);
    const tools = entry.type === "agent" && isObj(entry.value.tools) ? entry.value.tools : {};
    checkExpressionRefs(ctx.parts, sites, sink, exprEdges, {
      item,
      children: childOutputs(children),
      toolParameters: (name) => toolParameters(ctx.file, tools[name], host),
    });
    checkStepProvider(ctx.parts, entry, sink);
    checkStepRules(entry, sink);
    checkStepTool(ctx.parts, entry, ctx.file, host, sink);
    checkStepPromptFiles(entry, ctx.file, host, sink);
    checkWorkflowStep(entry, children, sink);
    checkAgentTools(ctx.parts, entry, ctx.file, host, children, sink);
  }
  checkStepSecrets(ctx.text, step.value, step.loc, sites, sink);
  return {
    id: step.id,
    value: step.value,
    loc: step.loc,
    diagnostics: sink.items,
    sites,
    needsEdges,
    exprEdges,
    reads,
  };
}

/** `host`, noting in `reads` each file asked for. */
export function recordingHost(
  host: ValidationHost | undefined,
  reads: string[],
): ValidationHost | undefined {
  return (
    host && {
      resolve: (from, relative) => host.resolve(from, relative),
      readFile: (path) => {
        reads.push(path);
        return host.readFile(path);
      },
    }
  );
}

/** What the checks of workflow steps need, with `host` (which records what is read). */
export function childContext(
  ctx: StepContext,
  host: ValidationHost | undefined,
): ChildContext | undefined {
  const { file, validateChild } = ctx;
  if (!host || !file || !validateChild) return undefined;
  return { file, host, validate: (text, path) => validateChild(text, path, host) };
}

/** Reports the sites whose expression does not parse; returns the others, analysed. */
export function analyzeSites(
  text: string,
  sites: readonly ExprSite[],
  parsed: readonly ParsedExpression[],
  sink: DiagnosticSink,
): AnalyzedSite[] {
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
