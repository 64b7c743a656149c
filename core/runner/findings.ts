// Findings computed from a finished run (SPEC §5): stale context and provider drift.
import type { Finding } from "../store/records";
import type { RunStore } from "../store/run-store";

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

/** A live model call whose served model or fingerprint differs from the previous live one of the step. */
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
  }
  return out;
}
