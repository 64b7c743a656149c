// How a finished run is judged and summed up: its findings, its status and error, its outputs,
// and one summary line per step. Pure functions of the steps' final states.
import type { StepGraph } from "../graph/graph";
import type { Workflow } from "../model/schema";
import type { RunRecord, RunStatus } from "../record/records";
import type { Recorder } from "./recorder";
import { viewOf, type RunContext } from "./scope";
import type { RunStore } from "../store/run-store";
import { evaluateBare, toJson } from "../expr/evaluate";
import {
  driftFindings,
  skippedOutputFindings,
  staleContextFindings,
  type NewFinding,
} from "./findings";
import type { StepState, StepSummary } from "./types";

/** Stale context across the run's snapshots; drift of its live model calls against earlier runs. */
export async function findingsOf(
  states: ReadonlyMap<string, StepState>,
  store: RunStore,
  workflowPath: string,
  runId: string,
): Promise<NewFinding[]> {
  const snapshots: { step: string; source: string; version: unknown }[] = [];
  const calls: { step: string; meta: Record<string, unknown> }[] = [];
  for (const [step, st] of states) {
    if (st.snapshot) snapshots.push({ step, ...st.snapshot });
    if (st.meta && st.origin === "live") calls.push({ step, meta: st.meta });
  }
  return [
    ...staleContextFindings(snapshots),
    ...(await driftFindings(store, workflowPath, runId, calls)),
  ];
}

/** The run's status and the one sentence that explains it. */
export function verdict(
  states: ReadonlyMap<string, StepState>,
  findings: readonly NewFinding[],
  workflow: Workflow,
  cancelled: boolean,
): { status: RunStatus; error: string | null } {
  if (cancelled) return { status: "cancelled", error: "the run was cancelled" };
  const failed = [...states.entries()].find(([, s]) => s.status === "failed" && !s.continued);
  if (failed)
    return { status: "failed", error: `step '${failed[0]}' failed: ${failed[1].error?.message}` };
  const stale = findings.find((f) => f.kind === "stale_context");
  if (workflow.consistency === "strict" && stale) {
    return { status: "failed", error: `stale context (consistency: strict): ${stale.message}` };
  }
  return { status: "succeeded", error: null };
}

/** The workflow's `outputs`, evaluated over every step's final state. */
export async function evaluateOutputs(
  workflow: Workflow,
  states: ReadonlyMap<string, StepState>,
  base: { inputs: unknown; run: unknown; env: unknown },
  signal?: AbortSignal,
): Promise<Record<string, unknown>> {
  const steps: Record<string, unknown> = {};
  for (const [id, s] of states) steps[id] = viewOf(s);
  const scope = { context: { ...base, steps } as Record<string, unknown>, signal };
  const out: Record<string, unknown> = {};
  for (const [name, expr] of Object.entries(workflow.outputs ?? {})) {
    out[name] = toJson(await evaluateBare(expr, scope));
  }
  return out;
}

export function summaries(graph: StepGraph, states: ReadonlyMap<string, StepState>): StepSummary[] {
  return graph.ids.map((id) => {
    const s = states.get(id)!;
    return {
      id,
      status: s.status === "running" ? "pending" : s.status,
      origin: s.origin,
      continued: s.continued,
      attempts: s.attempts,
      durationMs: s.endedMs && s.startedMs ? s.endedMs - s.startedMs : 0,
      error: s.error,
    };
  });
}

export interface RunEnd {
  readonly recorder: Recorder;
  readonly states: ReadonlyMap<string, StepState>;
  readonly store: RunStore;
  readonly workflow: Workflow;
  readonly workflowPath: string;
  readonly runId: string;
  readonly cancelled: boolean;
  /** Aborts the evaluation of the run's `outputs` (the run's cancel); the run is then cancelled. */
  readonly signal?: AbortSignal;
  readonly context: RunContext;
  now(): string;
  /** The run's record once it has ended so. */
  runRecord(
    status: RunStatus,
    end: { endedAt: string; outputsHash: string | null; error: string | null },
  ): RunRecord;
}

/**
 * Records how a run ended once its steps have: its findings, its verdict, its outputs, the
 * `run_finished` event and its record. It says what it recorded; the caller makes it durable.
 */
export async function recordEnd(o: RunEnd): Promise<{
  status: RunStatus;
  error: string | null;
  outputs: Record<string, unknown> | null;
  findings: { kind: string; message: string }[];
}> {
  const findings = await findingsOf(o.states, o.store, o.workflowPath, o.runId);
  let { status, error } = verdict(o.states, findings, o.workflow, o.cancelled);
  let outputs: Record<string, unknown> | null = null;
  if (status === "succeeded") {
    try {
      outputs = await evaluateOutputs(
        o.workflow,
        o.states,
        {
          inputs: o.context.inputs,
          run: o.context.run,
          env: o.context.env,
        },
        o.signal,
      );
      findings.push(...skippedOutputFindings(o.workflow.outputs ?? {}, outputs, o.states));
    } catch (e) {
      if (o.signal?.aborted) {
        status = "cancelled";
        error = "the run was cancelled while its outputs were evaluated";
      } else {
        status = "failed";
        error = `outputs: ${(e as Error).message}`;
      }
    }
  }
  for (const f of findings) {
    o.recorder.finding(f);
    const step = (f.data.step as string | undefined) ?? null;
    o.recorder.event("finding", step, null, o.now(), { kind: f.kind, message: f.message });
  }
  const endedAt = o.now();
  const outputsHash = outputs ? o.recorder.blob(outputs) : null;
  o.recorder.event("run_finished", null, null, endedAt, { status, error });
  o.recorder.run(o.runRecord(status, { endedAt, outputsHash, error }));
  return {
    status,
    error,
    outputs,
    findings: findings.map((f) => ({ kind: f.kind, message: f.message })),
  };
}
