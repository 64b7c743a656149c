// Workspace trust (docs/editor.md, "Running"): in an untrusted workspace no step with an effect
// outside the process runs. These are the steps that would: http, tool, shell, workflow (a child
// run may do anything its file does), and llm steps whose provider or one of its fallbacks is not
// `scripted` (a scripted reply does nothing outside).
import { isObj, str } from "../model/untyped";
import type { WorkflowModel } from "../check/validate";

export function effectfulSteps(model: WorkflowModel, only?: ReadonlySet<string>): string[] {
  const top = isObj(model.yaml.value) ? model.yaml.value : {};
  const steps = isObj(top.steps) ? top.steps : {};
  const providers = isObj(top.providers) ? top.providers : {};
  const defaults = isObj(top.defaults) ? top.defaults : {};
  const providerIds = Object.keys(providers);
  const out: string[] = [];
  for (const [id, step] of Object.entries(steps)) {
    if (only && !only.has(id)) continue;
    if (!isObj(step)) continue;
    const type = str(step.type);
    if (type === "http" || type === "tool" || type === "shell" || type === "workflow") out.push(id);
    else if (type === "llm") {
      const provider =
        str(step.provider) ??
        str(defaults.provider) ??
        (providerIds.length === 1 ? providerIds[0] : undefined);
      if (!scriptedChain(providers, provider)) out.push(id);
    }
  }
  return out;
}

/** True when the provider and every fallback after it are scripted. */
function scriptedChain(providers: Record<string, unknown>, first: string | undefined): boolean {
  const seen = new Set<string>();
  for (let id = first; id !== undefined;) {
    if (seen.has(id)) return true;
    seen.add(id);
    const spec = providers[id];
    if (!isObj(spec) || str(spec.type) !== "scripted") return false;
    id = str(spec.fallback);
  }
  return first !== undefined;
}
