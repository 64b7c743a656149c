// The tools an agent offers its model (docs/format.md, "Agents"): each tool's name, description
// and parameters. Parameters a tool does not write are derived: a Python function's from its type
// hints and docstring, a workflow's from its inputs. Files are read once per run and step.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "yaml";
import type { Step } from "../model/schema";
import { docSummary, parametersSchema, type JsonSchema } from "../model/python-schema";
import { readPythonModule, PythonSyntaxError } from "../model/python-signatures";
import { StepError } from "./errors";
import type { LlmToolSpec } from "./effects";
import { isPythonTool } from "./python/interpreter";

type AgentStep = Extract<Step, { type: "agent" }>;
type AgentTool = AgentStep["tools"][string];

const made = new WeakMap<AgentStep, Map<string, LlmToolSpec[]>>();

/** The tools of `step` as offered to the model, in the order the file lists them. */
export function toolSpecs(step: AgentStep, dir: string): LlmToolSpec[] {
  let byDir = made.get(step);
  if (!byDir) made.set(step, (byDir = new Map()));
  let specs = byDir.get(dir);
  if (!specs) {
    specs = Object.entries(step.tools).map(([name, tool]) => specOf(name, tool, dir));
    byDir.set(dir, specs);
  }
  return specs;
}

function specOf(name: string, tool: AgentTool, dir: string): LlmToolSpec {
  const derived = tool.parameters === undefined ? derive(name, tool, dir) : undefined;
  return {
    name,
    description: tool.description ?? derived?.description ?? null,
    parameters: tool.parameters ?? derived?.parameters ?? { type: "object", properties: {} },
  };
}

function derive(
  name: string,
  tool: AgentTool,
  dir: string,
): { parameters: JsonSchema; description?: string } | undefined {
  if (tool.uses !== undefined && isPythonTool(tool.uses)) {
    const [path, fn] = tool.uses.split("#") as [string, string];
    const module = readPythonModule(readTool(name, resolve(dir, path)));
    if (module instanceof PythonSyntaxError)
      throw new StepError("config", `tool '${name}': ${path} does not parse: ${module.message}`);
    const def = module.functions.get(fn);
    if (!def) throw new StepError("config", `tool '${name}': ${path} defines no function ${fn}`);
    const description = docSummary(def.docstring);
    return { parameters: parametersSchema(def), ...(description ? { description } : {}) };
  }
  if (tool.workflow !== undefined) {
    const child = parse(readTool(name, resolve(dir, tool.workflow))) as {
      description?: string;
      inputs?: Record<
        string,
        { type?: string; description?: string; default?: unknown; schema?: JsonSchema }
      >;
    } | null;
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const [input, spec] of Object.entries(child?.inputs ?? {})) {
      properties[input] = {
        ...(spec.schema ?? {}),
        ...(spec.type ? { type: spec.type } : {}),
        ...(spec.description ? { description: spec.description } : {}),
      };
      if (spec.default === undefined) required.push(input);
    }
    return {
      parameters: { type: "object", properties, required, additionalProperties: false },
      ...(child?.description ? { description: child.description } : {}),
    };
  }
  return undefined;
}

function readTool(name: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new StepError("config", `tool '${name}': cannot read ${file}: ${(e as Error).message}`);
  }
}
