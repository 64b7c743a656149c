// The local executor: runs a validated workflow's DAG and records everything it does.
// Invariants:
// - A step starts when everything it depends on has ended; it sees only those steps' outputs.
// - Before an effect starts, every result it depends on is durably committed (docs/runner.md,
//   "What is recorded"); pure steps are group-committed and never wait.
// - Every run ends in a recorded state: succeeded, failed or cancelled, with its reason.
// This file is the scheduler (which step starts when, the run's start and end); what it works on
// is run-core.ts, and a step's parts each have a file: quick.ts (steps run on the spot),
// attempts.ts (attempts, retries, fallbacks), units.ts (map items, loop iterations), child-run.ts
// (child workflows), limits.ts (time limits, provider concurrency, cancel).
import type { RunOptions, RunResult } from "./types";
import type { RunStatus } from "../record/records";
import { splitUnit } from "../record/records";
import { recordEnd, summaries } from "./result";
import { scopeFor, shouldRun } from "./scope";
import { asStepError } from "./errors";
import { cancelledError } from "./limits";
import { notRun, runQuick } from "./quick";
import { RunCore } from "./run-core";
import { runMap, runUnit } from "./units";

export type { RunOptions, RunResult, StepSummary } from "./types";

/** The longest a run of quick steps holds the event loop before it lets other work go on. */
const SLICE_MS = 10;

/** How often a running run's owner updates its heartbeat. */
export const HEARTBEAT_MS = 5_000;

export async function runWorkflow(options: RunOptions): Promise<RunResult> {
  return new LocalRun(options).run();
}

/** The scheduler: starts each step once its dependencies ended, and records the run's end. */
class LocalRun {
  private readonly r: RunCore;

  constructor(private readonly o: RunOptions) {
    this.r = new RunCore(o, runWorkflow);
  }

  async run(): Promise<RunResult> {
    const o = this.o;
    // The source is stored as text, not JSON, so that its hash is the hash of the file.
    const sourceHash = this.r.recorder.textBlob(o.source);
    const inputsHash = this.r.recorder.blob(o.inputs);
    this.r.recorder.run(this.runRecord("running", sourceHash, inputsHash));
    if (o.resume) {
      this.r.recorder.event("run_resumed", null, null, o.effects.now(), {
        pid: process.pid,
        rerunning: o.resume.inFlight,
      });
    } else {
      this.r.recorder.event("run_started", null, null, this.r.startedAt, {
        inputs: o.inputs,
        env: o.env ?? {},
      });
      // Reused items are taken when their map runs (runMap).
      for (const [id, reused] of o.reuse ?? [])
        if (splitUnit(id).scope === null)
          this.r.outcomes.reuse(id, reused.output, reused.sourceRunId);
    }
    // The owner says it is alive, so other processes can tell a running run from an interrupted one.
    const heartbeat = setInterval(() => {
      this.r.recorder.run({
        ...this.runRecord("running", sourceHash, inputsHash),
        heartbeatAt: o.effects.now(),
      });
    }, HEARTBEAT_MS);
    heartbeat.unref();
    // A cancel reaches the steps and, after them, the evaluation of the run's outputs.
    const abort = () => this.r.internal.abort(cancelledError());
    o.signal?.addEventListener("abort", abort);
    try {
      try {
        await this.schedule();
      } finally {
        clearInterval(heartbeat);
      }
      return await this.finish(sourceHash, inputsHash);
    } finally {
      o.signal?.removeEventListener("abort", abort);
      // Python tools' workers end with the run (docs/dev/authoring.md, "Python tools").
      await o.effects.close?.();
    }
  }

  private runRecord(
    status: RunStatus,
    sourceHash: string,
    inputsHash: string,
    end?: { endedAt: string; outputsHash: string | null; error: string | null },
  ) {
    return {
      id: this.r.runId,
      workflowPath: this.o.workflowPath,
      workflowName: this.o.workflow.name,
      sourceHash,
      inputsHash,
      status,
      mode: this.o.mode ?? "run",
      parentId: this.o.parentId ?? null,
      parentScope: this.o.parentScope ?? null,
      startedAt: this.r.startedAt,
      endedAt: end?.endedAt ?? null,
      outputsHash: end?.outputsHash ?? null,
      error: end?.error ?? null,
      ownerPid: end ? null : process.pid,
      heartbeatAt: end ? null : this.r.startedAt,
    } as const;
  }

  /**
   * Starts every step whose dependencies have ended, up to the concurrency limit. A quick step
   * (a transform or assert within the fast expression subset) runs to its end on the spot, and so
   * do the quick steps it makes ready: no promise, no turn of the event loop per step.
   */
  private async schedule(): Promise<void> {
    const { graph } = this.o;
    const limit = this.o.concurrency ?? 16;
    // Steps by their index in topological order, so the loop does no lookups by name.
    const ids = graph.order;
    const index = new Map(ids.map((id, i) => [id, i]));
    const remaining = Int32Array.from(ids, (id) => graph.deps.get(id)!.length);
    const dependents = ids.map((id) => graph.dependents.get(id)!.map((d) => index.get(d)!));
    const ready: number[] = [];
    for (let i = 0; i < ids.length; i++) if (remaining[i] === 0) ready.push(i);
    let head = 0;
    let running = 0;
    const ended: number[] = [];
    let failure: { error: unknown } | undefined;
    let wake: (() => void) | undefined;
    const end = (i: number) => {
      for (const next of dependents[i]!) if (--remaining[next]! === 0) ready.push(next);
    };
    let sliceStart = performance.now();
    let quickInSlice = 0;
    for (;;) {
      while (head < ready.length && running < limit && !failure) {
        const i = ready[head++]!;
        const id = ids[i]!;
        if (runQuick(this.r, id)) {
          end(i);
          // Give the event loop a turn now and then: commits, progress and a cancel go on.
          if (++quickInSlice % 256 === 0 && performance.now() - sliceStart > SLICE_MS) {
            await new Promise<void>((r) => setImmediate(r));
            sliceStart = performance.now();
          }
          continue;
        }
        running++;
        this.runStep(id).then(
          () => {
            running--;
            ended.push(i);
            wake?.();
          },
          (error: unknown) => {
            running--;
            failure ??= { error };
            wake?.();
          },
        );
      }
      if (failure && running === 0) throw failure.error;
      if (ended.length > 0) {
        for (const i of ended.splice(0)) end(i);
        continue;
      }
      if (running === 0 && head >= ready.length) return;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
      sliceStart = performance.now();
    }
  }

  private async runStep(id: string): Promise<void> {
    const step = this.r.steps[id]!;
    const state = this.r.states.get(id)!;
    if (state.status !== "pending") return; // ended before a resume
    // A cancel stops the step's expressions (its `if`, its templates) unless the run was
    // cancelled before it started: then it runs to its end, as below.
    const unbounded = scopeFor(this.r, id);
    const scope = this.r.internal.signal.aborted
      ? unbounded
      : { ...unbounded, signal: this.r.internal.signal };
    try {
      if (!(await shouldRun(this.r, id, step, scope))) {
        notRun(this.r, id);
        return;
      }
    } catch (e) {
      this.r.outcomes.fail(id, asStepError(e, "expression"), 0);
      return;
    }
    state.status = "running";
    state.startedMs = Date.now();
    this.r.recorder.event("step_started", id, null, this.o.effects.now());
    // A step that starts after a cancel (`$always()`, `$cancelled()`) runs to its end.
    const cancellable = !this.r.internal.signal.aborted;
    if (step.for_each !== undefined) await runMap(this.r, id, step, scope, cancellable);
    else await runUnit(this.r, id, step, scope, cancellable);
  }

  private async finish(sourceHash: string, inputsHash: string): Promise<RunResult> {
    const o = this.o;
    const end = await recordEnd({
      recorder: this.r.recorder,
      states: this.r.states,
      store: o.store,
      workflow: o.workflow,
      workflowPath: o.workflowPath,
      runId: this.r.runId,
      cancelled: this.r.internal.signal.aborted,
      signal: this.r.internal.signal,
      context: this.r.context,
      now: () => o.effects.now(),
      runRecord: (status, ended) => this.runRecord(status, sourceHash, inputsHash, ended),
    });
    await this.r.recorder.durable();
    // What the caller prints or returns is redacted like what is stored: its values and
    // messages, never its ids.
    const r = this.r.redactor;
    return {
      runId: this.r.runId,
      status: end.status,
      outputs: r.value(end.outputs),
      error: end.error && r.text(end.error),
      findings: r.value(end.findings),
      steps: summaries(o.graph, this.r.states).map((s) =>
        s.error ? { ...s, error: { ...s.error, message: r.text(s.error.message) } } : s,
      ),
    };
  }
}
