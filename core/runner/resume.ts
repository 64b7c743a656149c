// Resuming a run (docs/cli.md, "keel resume"; docs/runner.md, "Crashes and resume"): the recorded
// run's id, source, inputs and env, and the steps that had ended, read from its log by the one
// reader of logs (core/record/fold.ts). Steps in flight at the crash run again (at-least-once);
// pure steps whose record was lost are simply recomputed.
import type { ProcessRecord, RunRecord } from "../record/records";
import type { RunStore } from "../store/run-store";
import type { EndedStep, ResumePoint } from "./types";
import { foldToEnd, type StepAt } from "../record/fold";
import { unitKey } from "../record/records";

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

  // Attempts per unit (a step, an item, an iteration), so that new ones continue its numbering.
  const counts = new Map<string, number>();
  for (const a of attempts) {
    const unit = unitKey(a.stepId, a.scope);
    counts.set(unit, Math.max(counts.get(unit) ?? 0, a.attempt));
  }
  const fold = foldToEnd(events, attempts);
  const ended = new Map<string, EndedStep>();
  const inFlight: string[] = [];
  const endOf = async (s: StepAt): Promise<EndedStep | undefined> => {
    const base = {
      attempts: counts.get(s.id) ?? 0,
      continued: false,
      snapshot: undefined,
      meta: null,
      ...(await agentEnd(store, s)),
    };
    if (s.status === "succeeded") {
      const text = s.output === null ? undefined : await store.blob(s.output);
      return {
        ...base,
        status: "succeeded",
        output: text === undefined ? null : (JSON.parse(text) as unknown),
        origin: s.origin,
        snapshot: s.ended?.data?.snapshot as EndedStep["snapshot"],
        meta: s.attempt?.status === "succeeded" ? s.attempt.meta : null,
      };
    }
    if (s.status === "failed")
      return { ...base, status: "failed", output: null, origin: null, continued: s.continued };
    if (s.status === "skipped") return { ...base, status: "skipped", output: null, origin: null };
    return undefined;
  };
  for (const s of fold.steps()) {
    const end = await endOf(s);
    if (end) ended.set(s.id, end);
    else if (s.startedAt !== null) {
      // Started and not ended (running, or cancelled while it ran): it runs again, keeping the
      // items and iterations that had ended (docs/dev/scopes.md).
      inFlight.push(s.id);
      for (const u of fold.units(s.id)) {
        const unitEnd = await endOf(u);
        if (unitEnd && unitEnd.status !== "skipped") ended.set(u.id, unitEnd);
      }
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

/** An ended agent's turns and stop reason, which its dependents read as `steps.<id>.turns`. */
async function agentEnd(
  store: RunStore,
  s: StepAt,
): Promise<Pick<EndedStep, "turns" | "stopReason">> {
  const data = s.ended?.data;
  if (typeof data?.transcript !== "string" || typeof data.stopReason !== "string") return {};
  const text = await store.blob(data.transcript);
  return {
    turns: text === undefined ? [] : (JSON.parse(text) as unknown[]),
    stopReason: data.stopReason,
  };
}
