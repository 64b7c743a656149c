// Python tools for the editor (docs/editor.md, "Python tools"): completion of a tool step's (or
// an agent's tool's) `with:` keys from its function's parameters and of the function after
// `uses: ./x.py#`, hover on `uses:` (the signature and docstring) and on a `with:` key (the
// parameter), and go to definition to the `def` line or the parameter. The module is read by model/python-signatures.ts,
// never imported, through the host (check/tools.ts), so this stays browser-safe.
import type { Span } from "../model/diagnostic";
import { LineIndex } from "../model/line-index";
import {
  byKeyword,
  isRequired,
  readPythonModule,
  signatureText,
  type PythonFunction,
  type PythonModule,
  type PythonParameter,
} from "../model/python-signatures";
import { docArgs } from "../model/python-schema";
import type { StepEntry } from "../check/parts";
import type { ValidationHost } from "../check/tools";
import type { WorkflowModel } from "../check/validate";
import { isObj } from "../model/untyped";
import { cursorContext } from "./cursor";
import { toolEntries } from "./agents";
import { siblingKeys, span, type CompletionItem } from "./completion";
import type { HoverInfo } from "./hover";

/** `./path/x.py#fn` (the function may still be empty while it is typed). */
const PYTHON_USES = /^(\.{1,2}\/[^#]*\.py)(?:#([A-Za-z_]\w*)?)?$/;

/** A Python tool's module as the editor reads it. */
export interface PythonTool {
  /** As `uses:` writes it. */
  readonly module: string;
  /** Absolute path. */
  readonly path: string;
  readonly index: LineIndex;
  /** The module read, or what the reader could not read. */
  readonly read: PythonModule | Error;
  /** The function `uses:` names, when the module defines it. */
  readonly fn?: PythonFunction;
}

/** The Python module a tool's `uses:` names, when its file exists. */
export type PythonReader = (uses: string) => PythonTool | undefined;

const indexes = new Map<string, LineIndex>();

/** Reads the Python tools of the workflow at `file` through `host`; none without either. */
export function pythonReader(
  file: string | undefined,
  host: ValidationHost | undefined,
): PythonReader | undefined {
  if (!file || !host) return undefined;
  return (uses) => {
    const m = PYTHON_USES.exec(uses);
    if (!m) return undefined;
    const path = host.resolve(file, m[1]!);
    const text = host.readFile(path);
    if (text === undefined) return undefined;
    let index = indexes.get(text);
    if (!index) {
      if (indexes.size > 100) indexes.clear();
      indexes.set(text, (index = new LineIndex(text)));
    }
    const read = readPythonModule(text);
    const fn = read instanceof Error || !m[2] ? undefined : read.functions.get(m[2]);
    return { module: m[1]!, path, index, read, fn };
  };
}

const within = (s: Span, offset: number) => offset >= s.start && offset <= s.end;

/** What names a Python tool's part at `offset`: its `uses:` or a `with:` key. */
type Mention =
  | { readonly kind: "uses"; readonly step: StepEntry; readonly span: Span }
  | {
      readonly kind: "parameter";
      readonly step: StepEntry;
      readonly name: string;
      readonly span: Span;
    };

function mentionAt(model: WorkflowModel, offset: number): Mention | undefined {
  // An agent's tool is read as a tool step of its own (agents.ts).
  const tools = toolEntries(model).map((t) => t.entry);
  for (const step of [...(model.parts?.steps.values() ?? []), ...tools]) {
    if (step.type !== "tool" || typeof step.value.uses !== "string") continue;
    if (!within(step.loc.span, offset) || !PYTHON_USES.test(step.value.uses)) continue;
    const uses = step.loc.children?.get("uses");
    if (uses && within(uses.span, offset)) return { kind: "uses", step, span: uses.span };
    for (const [name, loc] of step.loc.children?.get("with")?.children ?? []) {
      if (typeof name === "string" && loc.keySpan && within(loc.keySpan, offset))
        return { kind: "parameter", step, name, span: loc.keySpan };
    }
  }
  return undefined;
}

/** The Python tool part at `offset` and its module, when it exists. */
function toolAt(
  model: WorkflowModel,
  offset: number,
  reader: PythonReader,
): { mention: Mention; tool: PythonTool } | undefined {
  const mention = mentionAt(model, offset);
  const tool = mention && reader(String(mention.step.value.uses));
  return mention && tool && { mention, tool };
}

/** Where a Python tool's part is declared: the `def` (at its name) or the parameter. */
export interface PythonDefinition {
  readonly path: string;
  readonly index: LineIndex;
  readonly offset: number;
}

export function pythonDefinitionAt(
  model: WorkflowModel,
  offset: number,
  reader: PythonReader,
): PythonDefinition | undefined {
  const { mention, tool } = toolAt(model, offset, reader) ?? {};
  if (!mention || !tool) return undefined;
  const at =
    mention.kind === "uses"
      ? (tool.fn?.nameAt ?? 0)
      : tool.fn?.parameters.find((p) => p.name === mention.name)?.at;
  return at === undefined ? undefined : { path: tool.path, index: tool.index, offset: at };
}

/** Markdown for a hover on a Python tool's `uses:` or one of its `with:` keys. */
export function pythonHoverAt(
  model: WorkflowModel,
  offset: number,
  reader: PythonReader,
): HoverInfo | undefined {
  const { mention, tool } = toolAt(model, offset, reader) ?? {};
  if (!mention || !tool) return undefined;
  const fn = tool.fn;
  const where = (at: number) => `\`${tool.module}:${tool.index.position(at).line + 1}\``;
  if (!fn) {
    const why =
      tool.read instanceof Error
        ? `could not read \`${tool.module}\`: ${tool.read.message}`
        : `\`${tool.module}\` defines no top-level function by this name`;
    return { span: mention.span, markdown: why };
  }
  if (mention.kind === "uses") {
    const lines = [`**Python function \`${fn.name}\`** · ${where(fn.nameAt)}`, "", code(fn)];
    if (fn.decorators.length)
      lines.push(
        "",
        `decorated (${fn.decorators.map((d) => `\`@${d}\``).join(", ")}): its parameters are not checked`,
      );
    if (fn.docstring) lines.push("", fn.docstring);
    return { span: mention.span, markdown: lines.join("\n") };
  }
  const p = fn.parameters.find((x) => x.name === mention.name);
  if (!p) return undefined;
  const lines = [
    `**parameter \`${p.name}\`** of \`${fn.name}\` · ${where(p.at)}`,
    "",
    "```python\n" + paramText(p) + "\n```",
    "",
    fact(p),
  ];
  const doc = docArgs(fn.docstring).get(p.name);
  if (doc) lines.push("", doc);
  return { span: mention.span, markdown: lines.join("\n") };
}

function code(fn: PythonFunction): string {
  return "```python\n" + signatureText(fn) + "\n```";
}

function paramText(p: PythonParameter): string {
  const star = p.kind === "var-positional" ? "*" : p.kind === "var-keyword" ? "**" : "";
  return `${star}${p.name}${p.annotation ? `: ${p.annotation}` : ""}${p.default !== undefined ? ` = ${p.default}` : ""}`;
}

function fact(p: PythonParameter): string {
  if (p.kind === "positional-only") return "positional-only: `with:` cannot give it";
  if (p.kind === "var-keyword") return "takes any other keyword";
  return isRequired(p) ? "required" : `default \`${p.default}\``;
}

/**
 * Completion in a Python tool step: after `uses: ./x.py#` the module's functions; under `with:`
 * the function's keyword parameters not given yet, required ones first. Undefined elsewhere.
 */
export function completePython(
  model: WorkflowModel,
  text: string,
  offset: number,
  reader: PythonReader,
): CompletionItem[] | undefined {
  const ctx = cursorContext(text, offset);
  const [section, id, ...more] = ctx.path;
  if (section !== "steps" || typeof id !== "string") return undefined;
  // In an agent's tool, what follows `tools.<name>` is read as in a tool step.
  const inTool = more[0] === "tools" && typeof more[1] === "string";
  const rest = inTool ? more.slice(2) : more;
  if (ctx.at === "value" && ctx.key === "uses" && rest.length === 0) {
    const m = /^(\.{1,2}\/[^#\s]*\.py)#(\w*)$/.exec(ctx.valuePrefix.replace(/^["']/, ""));
    if (!m) return undefined;
    const tool = reader(m[1]!);
    if (!tool || tool.read instanceof Error) return undefined;
    return [...tool.read.functions.values()]
      .filter((fn) => !fn.name.startsWith("_"))
      .map((fn) => ({
        label: fn.name,
        kind: "function" as const,
        detail: signatureText(fn),
        documentation: fn.docstring,
        span: span(offset, m[2]!),
      }));
  }
  if (ctx.at !== "key" || rest.length !== 1 || rest[0] !== "with") return undefined;
  const step = model.parts?.steps.get(id)?.value;
  const tools = inTool && isObj(step?.tools) ? step.tools : undefined;
  const entry = tools ? tools[String(more[1])] : step;
  const uses = isObj(entry) ? entry.uses : undefined;
  const tool = typeof uses === "string" ? reader(uses) : undefined;
  const fn = tool?.fn;
  if (!fn) return undefined;
  const word = /[\w]*$/.exec(ctx.before)![0];
  // From the text: the model may be older than the keys just typed.
  const present = siblingKeys(text, offset, ctx.indent);
  const docs = docArgs(fn.docstring);
  return fn.parameters
    .filter((p) => byKeyword(p) && (!present.has(p.name) || p.name === word))
    .sort((a, b) => Number(!isRequired(a)) - Number(!isRequired(b)))
    .map((p) => ({
      label: p.name,
      kind: "input" as const,
      detail: [p.annotation, isRequired(p) ? "required" : `= ${p.default}`]
        .filter(Boolean)
        .join(" · "),
      documentation: docs.get(p.name),
      insertText: `${p.name}: `,
      span: span(offset, word),
    }));
}
