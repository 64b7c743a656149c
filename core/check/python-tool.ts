// Python tools (`uses: ./tools/x.py#fn`, docs/format.md "Python tools"), checked statically: the
// module is read by model/python-signatures.ts, never imported. The function exists (or the
// module binds the name otherwise), `with:` keys are keyword parameters, required ones are given.
// A decorated function is checked for its existence only: a decorator may change the signature.
import type { DiagnosticSink, Span } from "../model/diagnostic";
import {
  byKeyword,
  isRequired,
  readPythonModule,
  type PythonFunction,
} from "../model/python-signatures";
import { didYouMean } from "../model/suggest";
import { isObj } from "../model/untyped";
import type { StepEntry } from "./parts";

/**
 * `source` is the module's text; `usesSpan` the whole value, `fnSpan` the part after `#`;
 * `args`: whether to check the `with:` keys against the parameters.
 */
export function checkPythonTool(
  step: StepEntry,
  modulePath: string,
  name: string,
  source: string,
  spans: { readonly uses: Span; readonly fn: Span },
  sink: DiagnosticSink,
  args = true,
): void {
  const module = readPythonModule(source);
  if (module instanceof Error) {
    sink.add(
      "KEEL508",
      spans.uses,
      `could not read the functions of '${modulePath}': ${module.message}; its function and parameters are checked when it runs`,
    );
    return;
  }
  const fn = module.functions.get(name);
  if (!fn) {
    if (module.others.has(name) || module.open) return;
    const known = [...module.functions.keys()].filter((n) => !n.startsWith("_"));
    sink.add(
      "KEEL505",
      spans.fn,
      `'${modulePath}' has no top-level function '${name}'${didYouMean(name, known) || (known.length ? `: it defines ${known.join(", ")}` : ": it defines no top-level function")}`,
    );
    return;
  }
  if (args && fn.decorators.length === 0) checkArguments(step, modulePath, fn, spans.uses, sink);
}

function checkArguments(
  step: StepEntry,
  modulePath: string,
  fn: PythonFunction,
  usesSpan: Span,
  sink: DiagnosticSink,
): void {
  const withLoc = step.loc.children?.get("with");
  const given = isObj(step.value.with) ? step.value.with : {};
  const open = fn.parameters.some((p) => p.kind === "var-keyword");
  const keywords = fn.parameters.filter(byKeyword).map((p) => p.name);
  const of = `function '${fn.name}' of '${modulePath}'`;
  for (const key of Object.keys(given)) {
    const loc = withLoc?.children?.get(key);
    if (!loc || keywords.includes(key) || open) continue;
    const param = fn.parameters.find((p) => p.name === key);
    const message =
      param?.kind === "positional-only"
        ? `parameter '${key}' of ${of} is positional-only (before \`/\`): \`with:\` passes keyword arguments, so it cannot give it`
        : param?.kind === "var-positional"
          ? `\`*${key}\` of ${of} takes positional arguments: \`with:\` passes keyword arguments, so it cannot give it`
          : `${of} has no parameter '${key}'${didYouMean(key, keywords) || (keywords.length ? `: its parameters are ${keywords.join(", ")}` : ": it takes no keyword arguments")}`;
    sink.add("KEEL506", loc.keySpan ?? loc.span, message);
  }
  for (const p of fn.parameters) {
    if (!isRequired(p)) continue;
    if (p.kind === "positional-only") {
      sink.add(
        "KEEL507",
        usesSpan,
        `${of} needs '${p.name}', which is positional-only (before \`/\`): \`with:\` passes keyword arguments only, so give it a default or move it after the \`/\``,
      );
    } else if (!(p.name in given)) {
      sink.add(
        "KEEL507",
        withLoc?.keySpan ?? usesSpan,
        `${of} needs '${p.name}' (it has no default): add \`${p.name}:\` to \`with:\``,
      );
    }
  }
}
