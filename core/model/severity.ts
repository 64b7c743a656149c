// Applies per-code severity overrides (from `.keel/settings.json` or editor settings).
import type { Code, Severity } from "./codes";
import type { Diagnostic } from "./diagnostic";

export function applySeverities(
  diagnostics: readonly Diagnostic[],
  overrides: ReadonlyMap<Code, Severity | "off">,
): Diagnostic[] {
  if (overrides.size === 0) return [...diagnostics];
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    const level = overrides.get(d.code);
    if (level === "off") continue;
    out.push(level ? { ...d, severity: level } : d);
  }
  return out;
}
