// The tools of agent steps (docs/format.md "Agents"), checked statically: each runs one way
// (`uses:`, `http:` or `workflow:`), has the JSON Schema of its arguments (written, or derived from
// a Python function or a child workflow's inputs: toolParameters, which the runner reads too),
// names a module and function or a child file that exist, as `tool` and `workflow` steps do, and
// no two names differ only in case. `args.<p>` in the tools' templates is checked in references.ts.
// File access goes through the host (tools.ts), so this stays browser-safe.
import type { DiagnosticSink } from "../model/diagnostic";
import type { Loc } from "../model/parse";
import { validatorFor } from "../model/json-values";
import { parametersSchema, type JsonSchema } from "../model/python-schema";
import { readPythonModule } from "../model/python-signatures";
import { isObj, str, type Obj } from "../model/untyped";
import type { StepEntry, WorkflowParts } from "./parts";
import { forEachEntry } from "./sites";
import { checkStepTool, TOOL_USES, type ValidationHost } from "./tools";
import { CHILD_WORKFLOW_FILE, checkChildFile, topOf, type ChildContext } from "./child-workflow";

/** How a tool runs: exactly one of these keys. */
export const TOOL_KINDS = ["uses", "http", "workflow"] as const;

/** The keys of `TOOL_KINDS` that `tool` has. */
export function toolKinds(tool: Obj): (typeof TOOL_KINDS)[number][] {
  return TOOL_KINDS.filter((k) => k in tool);
}

/** Where a tool's parameters come from when it has no `parameters:`. */
export function derivedFrom(tool: Obj): "python" | "workflow" | undefined {
  if (typeof tool.uses === "string" && TOOL_USES.exec(tool.uses)?.[1]?.endsWith(".py"))
    return "python";
  if (typeof tool.workflow === "string") return "workflow";
  return undefined;
}

/**
 * The JSON Schema of the arguments a model sends to `tool` (an entry of an agent step's `tools:`):
 * its `parameters:`; else, for `uses: ./x.py#fn`, the schema of `fn`'s keyword parameters (type
 * hints and docstring, model/python-schema.ts); else, for `workflow: ./child.keel.yaml`, an object
 * of the child's inputs (their type, schema, description and default; required when without a
 * default; no other property), described by the child's `description`. Undefined when there is none or the file cannot be read: a JS or
 * http tool without `parameters:`, a missing file, a module that does not parse, no such function.
 * `file` is the workflow's path; files are read through `host`, synchronously.
 */
export function toolParameters(
  file: string | undefined,
  tool: unknown,
  host: ValidationHost | undefined,
): JsonSchema | undefined {
  if (!isObj(tool)) return undefined;
  if ("parameters" in tool) return isObj(tool.parameters) ? tool.parameters : undefined;
  if (!file || !host) return undefined;
  const from = derivedFrom(tool);
  if (from === "python") {
    const [, module, name] = TOOL_USES.exec(String(tool.uses))!;
    const source = host.readFile(host.resolve(file, module!));
    const read = source === undefined ? undefined : readPythonModule(source);
    const fn = read instanceof Error ? undefined : read?.functions.get(name!);
    return fn && parametersSchema(fn);
  }
  if (from === "workflow" && CHILD_WORKFLOW_FILE.test(String(tool.workflow))) {
    const text = host.readFile(host.resolve(file, String(tool.workflow)));
    if (text === undefined) return undefined;
    // The child's description, as a Python function's docstring summary is its schema's.
    const top = topOf(text);
    const description = str(top.description);
    return { ...inputsSchema(top.inputs), ...(description ? { description } : {}) };
  }
  return undefined;
}

/** A workflow's `inputs:` as the JSON Schema of an object holding them. */
export function inputsSchema(inputs: unknown): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, input] of Object.entries(isObj(inputs) ? inputs : {})) {
    if (!isObj(input)) continue;
    const type = str(input.type);
    const description = str(input.description);
    properties[name] = {
      ...(isObj(input.schema) ? input.schema : {}),
      ...(type ? { type } : {}),
      ...(description ? { description } : {}),
      ...("default" in input ? { default: input.default } : {}),
    };
    if (!("default" in input)) required.push(name);
  }
  return {
    type: "object",
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
}

/** The tools of an agent step; `children` is absent where child files are not read. */
export function checkAgentTools(
  parts: WorkflowParts,
  step: StepEntry,
  file: string | undefined,
  host: ValidationHost | undefined,
  children: ChildContext | undefined,
  sink: DiagnosticSink,
): void {
  if (step.type !== "agent") return;
  const byLowerCase = new Map<string, string>();
  forEachEntry(step.value.tools, step.loc.children?.get("tools"), (name, tool, loc) => {
    const keySpan = loc.keySpan ?? loc.span;
    const alike = byLowerCase.get(name.toLowerCase());
    if (alike !== undefined) {
      sink.add(
        "KEEL704",
        keySpan,
        `tools '${alike}' and '${name}' of step '${step.id}' differ only in case: the model may call one for the other; rename one`,
      );
    } else byLowerCase.set(name.toLowerCase(), name);
    if (!isObj(tool)) return;
    const what = `tool '${name}' of step '${step.id}'`;
    const kinds = toolKinds(tool);
    if (kinds.length === 0) {
      sink.add(
        "KEEL701",
        keySpan,
        `${what} has none of \`uses:\`, \`http:\` and \`workflow:\`: add the one that runs it (\`uses: ./tools/x.js#fn\`, \`http: { url: … }\` or \`workflow: ./child.keel.yaml\`)`,
      );
    } else if (kinds.length > 1) {
      const second = loc.children?.get(kinds[1]!);
      sink.add(
        "KEEL701",
        second?.keySpan ?? keySpan,
        `${what} has both \`${kinds[0]}:\` and \`${kinds[1]}:\`: a tool runs one way, keep one`,
      );
    }
    checkParameters(tool, loc, what, sink);
    if (kinds.length !== 1) return;
    // Read as an entry of its own, so that the checks of tool and workflow steps apply to it.
    const entry = { id: step.id, value: tool, loc, keySpan };
    if (kinds[0] === "uses")
      checkStepTool(parts, { ...entry, type: "tool" }, file, host, sink, true);
    if (kinds[0] === "workflow")
      checkChildFile({ ...entry, type: "workflow" }, "workflow", children, sink, true);
  });
}

/** `parameters:` is a JSON Schema of `type: object`; without it the tool must derive one. */
function checkParameters(tool: Obj, loc: Loc, what: string, sink: DiagnosticSink): void {
  const parameters = tool.parameters;
  const at = loc.children?.get("parameters");
  if (!("parameters" in tool)) {
    if (derivedFrom(tool) || toolKinds(tool).length !== 1) return;
    // A `uses:` that is not a module#function (a YAML error there, a typo reported on its own
    // line) may name a Python function: no word on its parameters.
    if ("uses" in tool && (typeof tool.uses !== "string" || !TOOL_USES.test(tool.uses))) return;
    sink.add(
      "KEEL702",
      loc.keySpan ?? loc.span,
      `${what} has no \`parameters:\`: add the JSON Schema of the arguments the model sends, such as \`parameters: { type: object, properties: { query: { type: string } }, required: [query] }\``,
    );
    return;
  }
  // Not a mapping: the schema check says so.
  if (!isObj(parameters) || !at) return;
  const span = at.children?.get("type")?.span ?? at.keySpan ?? at.span;
  if (parameters.type !== "object") {
    const given = "type" in parameters ? `, not ${JSON.stringify(parameters.type)}` : "";
    sink.add(
      "KEEL703",
      span,
      `the parameters of ${what} must be a JSON Schema with \`type: object\`${given}: the model sends its arguments as an object of named values`,
    );
    return;
  }
  try {
    validatorFor(parameters);
  } catch (e) {
    sink.add(
      "KEEL703",
      at.keySpan ?? at.span,
      `the parameters of ${what} are not a valid JSON Schema: ${firstProblem((e as Error).message)}`,
    );
  }
}

/** The first of the problems ajv lists: `schema is invalid: data/a/b must …, data/c …`. */
function firstProblem(message: string): string {
  const first = message.replace(/^schema is invalid: /, "").split(", data")[0]!;
  return first.replace(/^data(\/\S*)? /, (_, where?: string) => (where ? `at ${where}: ` : ""));
}
