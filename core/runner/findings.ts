// Findings computed from a finished run (docs/runner.md, "Findings"): stale context, provider
// drift, and declared outputs left null because the steps they read were skipped.
import type { Finding } from "../record/records";
import type { RunStore } from "../store/run-store";
import { analyzeBare } from "../expr/analyze";

export type NewFinding = Omit<Finding, "runId">;

/** Two steps of one run that read different versions of the same source. */
export function staleContextFindings(
  snapshots: readonly { step: string; source: string; version: unknown }[],
): NewFinding[] {
  const bySource = new Map<string, { step: string; version: unknown }[]>();
  for (const snap of snapshots) {
    const list = bySource.get(snap.source) ?? [];
    list.push({ step: snap.step, version: snap.version });
    bySource.set(snap.source, list);
  }
  const out: NewFinding[] = [];
  for (const [source, reads] of bySource) {
    const first = reads[0]!;
    const other = reads.find((r) => JSON.stringify(r.version) !== JSON.stringify(first.version));
    if (!other) continue;
    out.push({
      kind: "stale_context",
      message: `steps '${first.step}' and '${other.step}' read different versions of '${source}': ${JSON.stringify(first.version)} and ${JSON.stringify(other.version)}`,
      data: { source, step: other.step, reads },
    });
  }
  return out;
}

/**
 * A live model call whose served model or fingerprint differs from the previous live one of the
 * step; a Python tool call whose interpreter version or lockfile hash does.
 */
export async function driftFindings(
  store: RunStore,
  workflowPath: string,
  runId: string,
  calls: readonly { step: string; meta: Readonly<Record<string, unknown>> }[],
): Promise<NewFinding[]> {
  const out: NewFinding[] = [];
  for (const { step, meta } of calls) {
    const prev = await store.previousModelCall(workflowPath, step, runId);
    if (!prev?.meta) continue;
    for (const field of ["model", "fingerprint"] as const) {
      const before = prev.meta[field] ?? null;
      const now = meta[field] ?? null;
      if (before !== null && now !== null && before !== now) {
        out.push({
          kind: "provider_drift",
          message: `step '${step}': the provider's ${field === "model" ? "served model" : "system fingerprint"} changed from ${String(before)} (run ${prev.runId}) to ${String(now)}`,
          data: { step, field, before, now, previousRun: prev.runId },
        });
      }
    }
    // A Python tool's interpreter version or lockfile changed (docs/runner.md, "Findings").
    for (const field of ["python", "lockfile"] as const) {
      if (!(field in meta) || !(field in prev.meta)) continue;
      const before = prev.meta[field] ?? null;
      const now = meta[field] ?? null;
      if (before === now) continue;
      const what =
        field === "python"
          ? `Python changed from ${String(before)} to ${String(now)}`
          : `the lockfile (defaults.python.lockfile) ${before === null ? "was declared" : now === null ? "is no longer declared" : "changed"}`;
      out.push({
        kind: "tool_env_drift",
        message: `step '${step}': ${what} since run ${prev.runId}`,
        data: { step, field, before, now, previousRun: prev.runId },
      });
    }
  }
  return out;
}

/** The steps an expression (bare, or one whole `${{ }}`) reads as `steps.<id>`. */
function stepsRead(expr: unknown): string[] {
  const ids = new Set<string>();
  for (const ref of analyzeBare(expr)?.refs ?? [])
    if (ref.segments[0]?.name === "steps" && ref.segments[1]) ids.add(ref.segments[1].name);
  return [...ids];
}

/**
 * A declared output that is null while a step it reads was skipped: the run ended without an
 * error, yet did not produce what it declares (no branch ran, or a condition was false).
 */
export function skippedOutputFindings(
  declared: Readonly<Record<string, unknown>>,
  outputs: Readonly<Record<string, unknown>>,
  states: ReadonlyMap<string, { readonly status: string }>,
): NewFinding[] {
  const out: NewFinding[] = [];
  for (const [name, expr] of Object.entries(declared)) {
    if (outputs[name] !== null && outputs[name] !== undefined) continue;
    const skipped = stepsRead(expr).filter((id) => states.get(id)?.status === "skipped");
    if (skipped.length === 0) continue;
    const list = skipped.map((id) => `'${id}'`).join(", ");
    out.push({
      kind: "skipped_output",
      message: `output '${name}' is null because ${skipped.length > 1 ? "steps" : "step"} ${list} ${skipped.length > 1 ? "were" : "was"} skipped: a condition (\`if:\`) was false, or no step ${skipped.length > 1 ? "they depend" : "it depends"} on ran; check the conditions and the inputs`,
      data: { output: name, steps: skipped },
    });
  }
  return out;
}
