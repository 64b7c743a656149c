// Provider checks: `provider`, `defaults.provider` and `fallback` name declared providers; every
// `llm`, `embed` and `agent` step can find a provider that can serve it (embeddings, tool calls);
// fallbacks do not go round in a circle.
import type { DiagnosticSink, Span } from "../model/diagnostic";
import { closest } from "../model/suggest";
import { isObj, str } from "../model/untyped";
import type { StepEntry, WorkflowParts } from "./parts";
import { PROVIDER_TYPES } from "../model/schema";

type ProviderType = (typeof PROVIDER_TYPES)[number];

/** The checks outside the steps: `defaults.provider` and the providers' fallbacks. */
export function checkProviders(parts: WorkflowParts, sink: DiagnosticSink): void {
  const defaultProvider = defaultProviderOf(parts);
  const defaultLoc = parts.root.children?.get("defaults")?.children?.get("provider");
  if (defaultProvider !== undefined && defaultLoc && !parts.providers.has(defaultProvider)) {
    unknownProvider(parts, defaultProvider, defaultLoc.span, "in defaults.provider", sink);
  }

  const fallback = new Map<string, string>();
  for (const p of parts.providers.values()) {
    const target = isObj(p.value) ? str(p.value.fallback) : undefined;
    const loc = p.loc.children?.get("fallback");
    if (target === undefined || !loc) continue;
    if (!parts.providers.has(target)) {
      unknownProvider(parts, target, loc.span, `in the fallback of '${p.id}'`, sink);
    } else fallback.set(p.id, target);
  }
  for (const p of parts.providers.values()) {
    const chain = [p.id];
    let at = fallback.get(p.id);
    while (at !== undefined && !chain.includes(at)) {
      chain.push(at);
      at = fallback.get(at);
    }
    if (at === p.id) {
      const span = p.loc.children?.get("fallback")?.span ?? p.keySpan;
      sink.add("KEEL205", span, `providers fall back in a circle: ${[...chain, p.id].join(" → ")}`);
    }
  }
}

/**
 * The provider types that call tools (an agent's model calls): all of them today. An agent whose
 * provider's type is not here is KEEL113; the checks read only this set.
 */
export const TOOL_CALLING_PROVIDERS: ReadonlySet<string> = new Set<ProviderType>([
  "openai",
  "azure_openai",
  "anthropic",
  "scripted",
]);

/** An `llm`, `embed` or `agent` step names a declared provider, or can find one, that can serve it. */
export function checkStepProvider(
  parts: WorkflowParts,
  step: StepEntry,
  sink: DiagnosticSink,
  toolCalling: ReadonlySet<string> = TOOL_CALLING_PROVIDERS,
): void {
  if (step.type !== "llm" && step.type !== "embed" && step.type !== "agent") return;
  const name = str(step.value.provider);
  const loc = step.loc.children?.get("provider");
  if (name !== undefined && loc) {
    if (!parts.providers.has(name))
      unknownProvider(parts, name, loc.span, `in step '${step.id}'`, sink);
  }
  const used = name ?? defaultProviderOf(parts) ?? onlyProvider(parts);
  const type = used === undefined ? undefined : providerType(parts, used);
  if (step.type === "embed" && type === "anthropic") {
    sink.add(
      "KEEL112",
      loc?.span ?? step.keySpan,
      `embed step '${step.id}' uses provider '${used}', an anthropic provider, which has no embeddings API: use an openai, azure_openai or scripted provider`,
    );
  }
  // A type that is not one Keel knows has its own diagnostic.
  const known = (PROVIDER_TYPES as readonly (string | undefined)[]).includes(type);
  if (step.type === "agent" && known && !toolCalling.has(type!)) {
    sink.add(
      "KEEL113",
      loc?.span ?? step.keySpan,
      `agent step '${step.id}' uses provider '${used}' (of type ${type}), which cannot call tools: use a provider of type ${[...toolCalling].join(", ")}`,
    );
  }
  if (name === undefined && defaultProviderOf(parts) === undefined && parts.providers.size !== 1) {
    sink.add(
      "KEEL109",
      step.keySpan,
      `${step.type} step '${step.id}' has no provider: set \`provider:\`${
        parts.providers.size === 0
          ? " and declare it under `providers:`"
          : " or `defaults.provider`"
      }`,
    );
  }
}

function onlyProvider(parts: WorkflowParts): string | undefined {
  return parts.providers.size === 1 ? [...parts.providers.keys()][0] : undefined;
}

function providerType(parts: WorkflowParts, id: string): string | undefined {
  const p = isObj(parts.top.providers) ? parts.top.providers[id] : undefined;
  return isObj(p) ? str(p.type) : undefined;
}

function defaultProviderOf(parts: WorkflowParts): string | undefined {
  return str(isObj(parts.top.defaults) ? parts.top.defaults.provider : undefined);
}

function unknownProvider(
  parts: WorkflowParts,
  name: string,
  span: Span,
  where: string,
  sink: DiagnosticSink,
): void {
  const ids = [...parts.providers.keys()];
  const match = closest(name, ids);
  const hint = match
    ? `: did you mean '${match}'?`
    : ids.length === 0
      ? ": the workflow declares no providers"
      : `: declared providers are ${ids.join(", ")}`;
  sink.add(
    "KEEL203",
    span,
    `unknown provider '${name}' ${where}${hint}`,
    match ? { fixes: [{ title: `Change to '${match}'`, span, newText: match }] } : undefined,
  );
}
