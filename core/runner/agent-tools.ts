// The tools an agent offers its model (docs/format.md, "Agents"): each tool's name, description
// and parameters. Parameters a tool does not write are derived as the editor derives them
// (core/check/agent-tools.ts): a Python function's from its type hints and docstring, a child
// workflow's from its inputs. Descriptions a tool does not write come from the docstring's first
// paragraph or the child's `description`. Files are read once per run and step.
import { parse } from "yaml";
import type { Step } from "../model/schema";
import { docSummary } from "../model/python-schema";
import { readPythonModule } from "../model/python-signatures";
import { derivedFrom, toolParameters } from "../check/agent-tools";
import { nodeHost } from "../node/host";
import { StepError } from "./errors";
import type { LlmToolSpec } from "./effects";

type AgentStep = Extract<Step, { type: "agent" }>;
type AgentTool = AgentStep["tools"][string];

const made = new WeakMap<AgentStep, Map<string, LlmToolSpec[]>>();

/**
 * The tools of `step` as offered to the model, in the order the file lists them; `workflowPath`
 * is the workflow file's, whose folder tool files are relative to.
 */
export function toolSpecs(step: AgentStep, workflowPath: string): LlmToolSpec[] {
  let byFile = made.get(step);
  if (!byFile) made.set(step, (byFile = new Map()));
  let specs = byFile.get(workflowPath);
  if (!specs) {
    specs = Object.entries(step.tools).map(([name, tool]) => specOf(name, tool, workflowPath));
    byFile.set(workflowPath, specs);
  }
  return specs;
}

function specOf(name: string, tool: AgentTool, workflowPath: string): LlmToolSpec {
  const parameters = toolParameters(workflowPath, tool, nodeHost);
  if (!parameters)
    throw new StepError(
      "config",
      tool.parameters === undefined && derivedFrom(tool) !== undefined
        ? `tool '${name}': its parameters cannot be derived (${tool.uses ?? tool.workflow} cannot be read, does not parse or lacks the function): write \`parameters:\``
        : `tool '${name}' has no \`parameters:\` (a JSON Schema of its arguments)`,
    );
  const description = tool.description ?? derivedDescription(tool, workflowPath);
  return { name, description: description ?? null, parameters };
}

/** A Python function's docstring summary, or a child workflow's `description`. */
function derivedDescription(tool: AgentTool, workflowPath: string): string | undefined {
  const from = derivedFrom(tool);
  if (from === "python") {
    const [path, fn] = tool.uses!.split("#") as [string, string];
    const source = nodeHost.readFile(nodeHost.resolve(workflowPath, path));
    const module = source === undefined ? undefined : readPythonModule(source);
    return module instanceof Error ? undefined : docSummary(module?.functions.get(fn)?.docstring);
  }
  if (from === "workflow") {
    const text = nodeHost.readFile(nodeHost.resolve(workflowPath, tool.workflow!));
    try {
      const description = (parse(text ?? "") as { description?: unknown } | null)?.description;
      return typeof description === "string" ? description : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
