// Resuming a run (SPEC §5, DECISIONS §2): the recorded run's id, source, inputs and env, and a
// fold of its log into the steps that had ended. Steps in flight at the crash run again
// (at-least-once); pure steps whose record was lost are simply recomputed.
import type { RunRecord } from "../store/records";
import type { RunStore } from "../store/run-store";
import type { EndedStep, ResumePoint } from "./types";

export interface RecordedRun {
  readonly run: RunRecord;
  readonly source: string;
  readonly inputs: Record<string, unknown>;
  readonly env: Record<string, string | undefined>;
  readonly point: ResumePoint;
}

export async function loadResumePoint(
  store: RunStore,
  runId: string,
): Promise<RecordedRun | undefined> {
  const run = await store.getRun(runId);
  if (!run) return undefined;
  const [events, attempts] = await Promise.all([store.events(runId), store.attempts(runId)]);
  const source = (await store.blob(run.sourceHash)) ?? "";
  const inputs = JSON.parse((await store.blob(run.inputsHash)) ?? "{}") as Record<string, unknown>;
  const started = events.find((e) => e.type === "run_started");
  const env = ((started?.data?.env as Record<string, string> | undefined) ?? {}) as Record<
    string,
    string | undefined
  >;

  const counts = new Map<string, number>();
  const metas = new Map<string, Record<string, unknown> | null>();
  for (const a of attempts) {
    counts.set(a.stepId, Math.max(counts.get(a.stepId) ?? 0, a.attempt));
    if (a.status === "succeeded") metas.set(a.stepId, a.meta as Record<string, unknown> | null);
  }
  const ended = new Map<string, EndedStep>();
  const startedSteps = new Set<string>();
  for (const e of events) {
    if (!e.stepId) continue;
    const base = {
      attempts: counts.get(e.stepId) ?? 0,
      continued: false,
      snapshot: undefined,
      meta: null,
    };
    switch (e.type) {
      case "step_started":
        startedSteps.add(e.stepId);
        break;
      case "step_succeeded":
      case "step_cached":
      case "step_reused": {
        const text = await store.blob(String(e.data?.output));
        ended.set(e.stepId, {
          ...base,
          status: "succeeded",
          output: text === undefined ? null : (JSON.parse(text) as unknown),
          origin:
            e.type === "step_succeeded" ? "live" : e.type === "step_cached" ? "cached" : "reused",
          snapshot: e.data?.snapshot as EndedStep["snapshot"],
          meta: metas.get(e.stepId) ?? null,
        });
        break;
      }
      case "step_failed":
        ended.set(e.stepId, {
          ...base,
          status: "failed",
          output: null,
          origin: null,
          continued: e.data?.continued === true,
        });
        break;
      case "step_skipped":
        ended.set(e.stepId, { ...base, status: "skipped", output: null, origin: null });
        break;
    }
  }
  const inFlight = [...startedSteps].filter((id) => !ended.has(id));
  const lastSeq = events.length > 0 ? events[events.length - 1]!.seq : 0;
  return {
    run,
    source,
    inputs,
    env,
    point: { runId: run.id, startedAt: run.startedAt, lastSeq, ended, inFlight, attempts: counts },
  };
}
