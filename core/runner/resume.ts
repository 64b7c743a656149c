// Resuming a run (docs/cli.md, "keel resume"; docs/runner.md, "Crashes and resume"): the recorded
// run's id, source, inputs and env, and the steps that had ended, read from its log by the one
// reader of logs (core/record/fold.ts). Steps in flight at the crash run again (at-least-once);
// pure steps whose record was lost are simply recomputed.
import type { ProcessRecord, RunRecord } from "../record/records";
import type { RunStore } from "../store/run-store";
import type { EndedStep, ResumePoint } from "./types";
import { foldToEnd } from "../record/fold";

/** A run to resume: what it was started with and where its log stopped. */
export interface ResumableRun {
  readonly run: RunRecord;
  readonly source: string;
  readonly inputs: Record<string, unknown>;
  readonly env: Record<string, string | undefined>;
  readonly point: ResumePoint;
  /** The process groups the run's commands started: a resume ends those still running first. */
  readonly processes: readonly ProcessRecord[];
}

export async function loadResumePoint(
  store: RunStore,
  runId: string,
): Promise<ResumableRun | undefined> {
  const run = await store.getRun(runId);
  if (!run) return undefined;
  const [events, attempts, processes] = await Promise.all([
    store.events(runId),
    store.attempts(runId),
    store.processes(runId),
  ]);
  const source = (await store.blob(run.sourceHash)) ?? "";
  const inputs = JSON.parse((await store.blob(run.inputsHash)) ?? "{}") as Record<string, unknown>;
  const started = events.find((e) => e.type === "run_started");
  const env = ((started?.data?.env as Record<string, string> | undefined) ?? {}) as Record<
    string,
    string | undefined
  >;

  const counts = new Map<string, number>();
  for (const a of attempts) counts.set(a.stepId, Math.max(counts.get(a.stepId) ?? 0, a.attempt));
  const fold = foldToEnd(events, attempts);
  const ended = new Map<string, EndedStep>();
  const inFlight: string[] = [];
  for (const s of fold.steps()) {
    const base = {
      attempts: counts.get(s.id) ?? 0,
      continued: false,
      snapshot: undefined,
      meta: null,
    };
    if (s.status === "succeeded") {
      const text = s.output === null ? undefined : await store.blob(s.output);
      ended.set(s.id, {
        ...base,
        status: "succeeded",
        output: text === undefined ? null : (JSON.parse(text) as unknown),
        origin: s.origin,
        snapshot: s.ended?.data?.snapshot as EndedStep["snapshot"],
        meta: s.attempt?.status === "succeeded" ? s.attempt.meta : null,
      });
    } else if (s.status === "failed") {
      ended.set(s.id, {
        ...base,
        status: "failed",
        output: null,
        origin: null,
        continued: s.continued,
      });
    } else if (s.status === "skipped") {
      ended.set(s.id, { ...base, status: "skipped", output: null, origin: null });
    } else if (s.startedAt !== null) {
      // Started and not ended (running, or cancelled while it ran): it runs again.
      inFlight.push(s.id);
    }
  }
  const lastSeq = events.length > 0 ? events[events.length - 1]!.seq : 0;
  return {
    run,
    source,
    inputs,
    env,
    point: { runId: run.id, startedAt: run.startedAt, lastSeq, ended, inFlight, attempts: counts },
    processes,
  };
}
