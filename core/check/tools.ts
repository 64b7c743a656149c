// Tool checks: `uses: ./module.js#export` names a module that exists and an export it has.
// File access goes through the host, so the core stays free of `node:` imports.
import type { DiagnosticSink, Span } from "../model/diagnostic";
import { scalarSourceMap } from "../model/scalar-map";
import { didYouMean } from "../model/suggest";
import type { StepEntry, WorkflowParts } from "./parts";
import { readExports } from "./tool-exports";
import { checkPythonTool } from "./python-tool";

/** What validation may ask of its surroundings. Without a host, checks that read files are skipped. */
export interface ValidationHost {
  /** Absolute path of `relative`, resolved against the folder of the workflow file `from`. */
  resolve(from: string, relative: string): string;
  /** A file's text, or undefined when it does not exist or cannot be read. */
  readFile(path: string): string | undefined;
}

/** `uses: ./module.js#export` (or `./module.py#function`): the module and the name. */
export const TOOL_USES = /^(\.{1,2}\/[^#]+)#([A-Za-z_$][\w$]*)$/;

/**
 * A `tool` step's `uses:` names a module that exists and an export it has. `withOptional`: an
 * agent's tool without `with:` is called with the model's arguments, so no parameter is missing.
 */
export function checkStepTool(
  parts: WorkflowParts,
  step: StepEntry,
  file: string | undefined,
  host: ValidationHost | undefined,
  sink: DiagnosticSink,
  withOptional = false,
): void {
  if (step.type !== "tool" || typeof step.value.uses !== "string") return;
  const loc = step.loc.children?.get("uses");
  if (!loc) return;
  const uses = step.value.uses;
  const m = TOOL_USES.exec(uses);
  if (!m) {
    sink.add(
      "KEEL503",
      loc.span,
      `'${uses}' is not a tool reference: write \`./path/to/module.js#exportName\` (relative to the workflow file)`,
    );
    return;
  }
  if (!host || !file) return;
  const [, modulePath, exportName] = m as unknown as [string, string, string];
  const part = (start: number, end: number): Span => {
    if (!loc.scalar || loc.viaAlias) return loc.span;
    const map = scalarSourceMap(parts.text, loc.scalar);
    return { start: map[start]!, end: map[end - 1]! + 1 };
  };
  const absolute = host.resolve(file, modulePath);
  const source = host.readFile(absolute);
  if (source === undefined) {
    sink.add(
      "KEEL501",
      part(0, modulePath.length),
      `tool module '${modulePath}' does not exist: \`uses:\` paths are relative to the workflow file's folder`,
    );
    return;
  }
  const exportSpan = part(modulePath.length + 1, uses.length);
  // A Python module is read by its own reader, never the JavaScript parser (python-tool.ts).
  if (modulePath.endsWith(".py")) {
    const spans = { uses: loc.span, fn: exportSpan };
    const args = !withOptional || "with" in step.value;
    checkPythonTool(step, modulePath, exportName, source, spans, sink, args);
    return;
  }
  const exports = readExports(source);
  if (exports instanceof Error) {
    sink.add(
      "KEEL504",
      loc.span,
      `could not read the exports of '${modulePath}': ${exports.message}`,
    );
  } else if (!exports.names.has(exportName) && !exports.open) {
    const known = [...exports.names];
    sink.add(
      "KEEL502",
      exportSpan,
      `'${modulePath}' has no export '${exportName}'${didYouMean(exportName, known) || (known.length ? `: it exports ${known.join(", ")}` : ": it exports nothing")}`,
    );
  }
}
