// Agent steps for the editor (docs/editor.md, "Agents"): completion of `args.` in a tool's `with:`
// and `http:` from the tool's parameters, hover on a tool's name (what runs, its description and
// parameters), and the tools read as entries of their own, so that go to definition from their
// `uses:` and `workflow:` and the Python features (python.ts) serve them as they serve tool and
// workflow steps. Parameters are check/agent-tools.ts's toolParameters (written, or derived from a
// Python function or a child workflow's inputs), read through the host: browser-safe.
import type { Span } from "../model/diagnostic";
import type { JsonSchema } from "../model/python-schema";
import { isObj, str, type Obj } from "../model/untyped";
import { derivedFrom, toolParameters } from "../check/agent-tools";
import type { StepEntry } from "../check/parts";
import { forEachEntry } from "../check/sites";
import type { ValidationHost } from "../check/tools";
import type { WorkflowModel } from "../check/validate";
import { cursorContext } from "./cursor";
import { span, type CompletionItem } from "./completion";
import type { HoverInfo } from "./hover";

/** The parameters of an agent's tool (its value under `tools:`), when they are known. */
export type ToolReader = (tool: unknown) => JsonSchema | undefined;

/** Reads tools' parameters for the workflow at `file`; without a file or host, written ones only. */
export function toolReader(file: string | undefined, host: ValidationHost | undefined): ToolReader {
  return (tool) => toolParameters(file, tool, host);
}

/** A tool of an agent step, as an entry of its own: `value` is the tool, `loc` its mapping's. */
export interface ToolEntry {
  readonly step: StepEntry;
  readonly name: string;
  readonly entry: StepEntry;
}

/** Every tool of every agent step of `model`, in file order. */
export function toolEntries(model: WorkflowModel): ToolEntry[] {
  const out: ToolEntry[] = [];
  for (const step of model.parts?.steps.values() ?? []) {
    if (step.type !== "agent") continue;
    forEachEntry(step.value.tools, step.loc.children?.get("tools"), (name, tool, loc) => {
      if (!isObj(tool)) return;
      const type = "uses" in tool ? "tool" : "workflow" in tool ? "workflow" : undefined;
      const keySpan = loc.keySpan ?? loc.span;
      out.push({ step, name, entry: { id: step.id, value: tool, type, loc, keySpan } });
    });
  }
  return out;
}

const within = (s: Span, offset: number) => offset >= s.start && offset <= s.end;

/** Hover on a tool's name under `tools:`: how it runs, its description and its parameters. */
export function agentHoverAt(
  model: WorkflowModel,
  offset: number,
  read: ToolReader,
): HoverInfo | undefined {
  const found = toolEntries(model).find((t) => within(t.entry.keySpan, offset));
  if (!found) return undefined;
  const tool = found.entry.value;
  const schema = read(tool);
  const lines = [`**tool \`${found.name}\`** of agent \`${found.step.id}\` · ${runs(tool)}`];
  const description = str(tool.description) ?? str(schema?.description);
  if (description) lines.push("", description);
  lines.push("", ...parameterLines(tool, schema));
  return { span: found.entry.keySpan, markdown: lines.join("\n") };
}

function runs(tool: Obj): string {
  if (typeof tool.uses === "string") return `\`${tool.uses}\``;
  if (typeof tool.workflow === "string") return `workflow \`${tool.workflow}\``;
  if (isObj(tool.http)) return `\`${str(tool.http.method) ?? "GET"} ${str(tool.http.url) ?? ""}\``;
  return "runs nothing yet (`uses:`, `http:` or `workflow:`)";
}

function parameterLines(tool: Obj, schema: JsonSchema | undefined): string[] {
  if (!schema) return ["Parameters: unknown (add `parameters:`)"];
  const from =
    "parameters" in tool
      ? ""
      : derivedFrom(tool) === "python"
        ? " (from the function's type hints and docstring)"
        : " (from the child workflow's inputs)";
  const properties = isObj(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required : [];
  const items = Object.entries(properties).map(([name, p]) => {
    const v = isObj(p) ? p : {};
    const type = typeText(v.type);
    const facts = [
      type && `\`${type}\``,
      required.includes(name)
        ? "required"
        : "default" in v
          ? `default \`${JSON.stringify(v.default)}\``
          : "optional",
    ].filter(Boolean);
    const about = str(v.description);
    return `- \`${name}\` · ${facts.join(" · ")}${about ? `: ${about}` : ""}`;
  });
  return items.length > 0 ? [`Parameters${from}:`, ...items] : [`Parameters${from}: none`];
}

function typeText(type: unknown): string | undefined {
  if (typeof type === "string") return type;
  if (Array.isArray(type)) return type.join(" | ");
  return undefined;
}

/**
 * Completion after `args.` inside `${{ }}` in a tool's `with:` or `http:`: the tool's parameters,
 * required ones first. Undefined elsewhere.
 */
export function completeAgent(
  model: WorkflowModel,
  text: string,
  offset: number,
  read: ToolReader,
): CompletionItem[] | undefined {
  const ctx = cursorContext(text, offset);
  const [section, id, tools, name] = ctx.path;
  const where = ctx.path.length > 4 ? ctx.path[4] : ctx.key;
  if (section !== "steps" || typeof id !== "string" || tools !== "tools") return undefined;
  if (typeof name !== "string" || (where !== "with" && where !== "http")) return undefined;
  const open = ctx.before.lastIndexOf("${{");
  if (open < 0 || ctx.before.lastIndexOf("}}") > open) return undefined;
  const m = /(?:^|[^\w.$])args\.(\w*)$/.exec(ctx.before.slice(open + 3));
  if (!m) return undefined;
  const step = model.parts?.steps.get(id);
  const tool = step && isObj(step.value.tools) ? step.value.tools[name] : undefined;
  const schema = read(tool);
  if (!schema) return [];
  const properties = isObj(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required : [];
  return Object.entries(properties)
    .sort(([a], [b]) => Number(!required.includes(a)) - Number(!required.includes(b)))
    .map(([param, p]) => {
      const v = isObj(p) ? p : {};
      return {
        label: param,
        kind: "field" as const,
        detail: [typeText(v.type), required.includes(param) ? "required" : undefined]
          .filter(Boolean)
          .join(" · "),
        documentation: str(v.description),
        span: span(offset, m[1]!),
      };
    });
}
