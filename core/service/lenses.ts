// Code lenses: run the workflow (over `steps:`), and over each step: run it, run up to it, and
// the last run's status when the client reported one. Commands are the extension's
// (core/protocol/lsp.ts); arguments start with the document's URI.
import type { Span } from "../model/diagnostic";
import type { WorkflowModel } from "../check/validate";
import { COMMANDS, type LastRun } from "../protocol/lsp";
import { formatDuration } from "./hover";

export interface Lens {
  readonly span: Span;
  readonly title: string;
  readonly command: string;
  readonly args: readonly unknown[];
}

const STATUS_MARK: Record<string, string> = {
  succeeded: "✓",
  failed: "✗",
  skipped: "↷",
  cancelled: "■",
  running: "…",
  pending: "…",
};

/**
 * Over a child workflow's `name:`: how many workflow steps in the workspace run it. It carries no
 * command (an editor shows it as text); references on the same line list them.
 */
export function callersLens(model: WorkflowModel, callers: number): Lens | undefined {
  const root = model.yaml.root?.children;
  const span = root?.get("name")?.keySpan ?? root?.get("keel")?.keySpan;
  if (callers === 0 || !span) return undefined;
  return { span, title: `${callers} caller${callers === 1 ? "" : "s"}`, command: "", args: [] };
}

export function codeLenses(model: WorkflowModel, uri: string, run: LastRun | null): Lens[] {
  const parts = model.parts;
  const stepsKey = model.yaml.root?.children?.get("steps")?.keySpan;
  if (!parts || !stepsKey) return [];
  const lenses: Lens[] = [
    { span: stepsKey, title: "▶ Run workflow", command: COMMANDS.runWorkflow, args: [uri] },
  ];
  for (const step of parts.steps.values()) {
    const span = step.keySpan;
    lenses.push(
      { span, title: "▶ Run step", command: COMMANDS.runStep, args: [uri, step.id] },
      { span, title: "Run up to here", command: COMMANDS.runToStep, args: [uri, step.id] },
    );
    const last = run?.steps[step.id];
    if (run && last) {
      const facts = [`${STATUS_MARK[last.status] ?? ""} ${last.status}`.trim()];
      if (last.origin && last.origin !== "live") facts.push(last.origin);
      if (last.durationMs !== undefined) facts.push(formatDuration(last.durationMs));
      lenses.push({
        span,
        title: `Last run: ${facts.join(" · ")}`,
        command: COMMANDS.showStepRun,
        args: [uri, step.id, run.runId],
      });
    }
  }
  return lenses;
}
