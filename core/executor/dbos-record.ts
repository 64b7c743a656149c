// What the two DBOS workflows of a distributed run share: the worker they execute on, the
// workflows they load from the record, how they write the record, and how an evaluation in their
// bodies stops at a cancel.
// Invariant: every record a distributed run writes goes through `recordInStep`, which writes it
// in the same PostgreSQL transaction as DBOS's checkpoint of that step. A workflow re-executed
// after a crash finds the checkpoint and skips the write, so each record is written exactly once,
// however often the code that produced it ran.
import { DBOS, Error as DBOSErrors } from "@dbos-inc/dbos-sdk";
import { runTransactionalInternalStep } from "@dbos-inc/dbos-sdk/internal/dbos";
import { DBOSExecutor } from "@dbos-inc/dbos-sdk/internal/dbos-executor";
import type { CancellationWatch } from "@dbos-inc/dbos-sdk/internal/system_database";
import { loadValidText, type LoadedWorkflow } from "../runner/load";
import { createNodeEffects } from "../runner/node-effects";
import type { Effects } from "../runner/effects";
import type { Recorder } from "../runner/recorder";
import type { PgStore } from "../store/pg-store";
import type { WriteBatch } from "../record/records";
import { inlineValue } from "../record/refs";

/** The process a run's workflows execute in. */
export interface WorkerContext {
  readonly id: string;
  readonly store: PgStore;
  /** The secrets a workflow reads, from this worker's environment; throws naming a missing one. */
  secrets(names: readonly string[]): Record<string, string>;
  /** How often a run waits for its steps' ends, in milliseconds. */
  readonly pollMs: number;
}

export interface Loaded extends LoadedWorkflow {
  readonly effects: Effects;
}

/** Workflows this worker has loaded, by path and text: validated, with their effects, once. */
const loadedByText = new Map<string, Loaded>();
/** Recorded sources read so far, by hash: content-addressed, so they never change. */
const sourceByHash = new Map<string, string>();

/** The workflow at `path` with this text, as it validates on this worker, with its effects. */
export function loadOnWorker(path: string, text: string): Loaded {
  const key = `${path}\n${text}`;
  let loaded = loadedByText.get(key);
  if (!loaded) {
    const valid = loadValidText(path, text);
    const { providers = {} } = valid.workflow;
    loaded = { ...valid, effects: createNodeEffects({ providers, dir: valid.dir }) };
    if (loadedByText.size >= 32) {
      // Their Python workers end with them (a call in flight first ends).
      for (const dropped of loadedByText.values()) void dropped.effects.close?.();
      loadedByText.clear();
    }
    loadedByText.set(key, loaded);
  }
  return loaded;
}

/**
 * The workflow a run executes, from its recorded source (by hash, so that a step executes the
 * text the run was submitted with, on any worker). Tool modules and `cwd` resolve from the
 * workflow's path on this worker.
 */
export async function loadRecorded(
  w: WorkerContext,
  path: string,
  sourceHash: string,
): Promise<Loaded> {
  let source = sourceByHash.get(sourceHash);
  if (source === undefined) {
    source = await w.store.blob(sourceHash);
    if (source === undefined)
      throw new Error(`the run's workflow source ${sourceHash} is not recorded`);
    if (sourceByHash.size >= 32) sourceByHash.clear();
    sourceByHash.set(sourceHash, source);
  }
  return loadOnWorker(path, source);
}

/** Recorded values read so far, by reference: content-addressed, so they never change. */
const valueByRef = new Map<string, unknown>();

/** A value the run recorded (`Recorder.blob`), by its reference; read once per worker. */
export async function recordedValue<T>(w: WorkerContext, ref: string): Promise<T> {
  if (!valueByRef.has(ref)) {
    const text = inlineValue(ref) ?? (await w.store.blob(ref));
    if (text === undefined) throw new Error(`the recorded value ${ref} is not in the store`);
    if (valueByRef.size >= 32) valueByRef.clear();
    valueByRef.set(ref, JSON.parse(text) as unknown);
  }
  return valueByRef.get(ref) as T;
}

/**
 * Writes what `recorder` holds as the DBOS step `name`, in the transaction that checkpoints it,
 * and returns what `decide` returns: `decide` runs inside that transaction, before the write, so
 * what it reads and records is taken once, and a re-executed workflow gets the checkpointed answer
 * without running it again.
 */
export async function recordInStep<T>(
  w: WorkerContext,
  recorder: Recorder,
  name: string,
  decide: () => Promise<T> | T,
): Promise<T> {
  // DBOS runs the callback again when the database connection fails mid-transaction: decide and
  // take the records once, write them as often as it takes.
  let taken: { decided: T; batch: WriteBatch | undefined } | undefined;
  const answer = await runTransactionalInternalStep(async (client) => {
    taken ??= { decided: await decide(), batch: recorder.take() };
    const { decided, batch } = taken;
    if (batch) {
      if (client) await w.store.appendIn(client, batch);
      else await w.store.append(batch);
    }
    return decided;
  }, name);
  // A step checkpointed before (this workflow is executing again) was written then, and its
  // callback did not run: what the workflow recorded again on the way here is dropped.
  recorder.take();
  return answer;
}

/** How long an evaluation runs before it watches for the workflow's cancel. */
const WATCH_AFTER_MS = 100;

/**
 * Runs `work`, an evaluation in a workflow (the run's `if`s and pure steps, an attempt's
 * templates), with a signal that aborts when the workflow is cancelled, with DBOS's
 * DBOSWorkflowCancelledError as its reason: in the workflow's body, that ends the body as it ends
 * at any DBOS call after a cancel; within a DBOS step, DBOS then checkpoints nothing for the step
 * and ends the workflow. The cancel is seen by DBOS's own watch of the workflow's status (one
 * query a second for all the workflows a worker watches; within a step, the step's
 * `cancelSignal`), started only once the evaluation has run for WATCH_AFTER_MS: a quick one costs
 * a timer. Whether and when the signal fires depends on this execution, which is safe since
 * nothing is decided from it: a cancelled workflow checkpoints nothing more.
 */
export async function untilCancelled<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const workflowID = DBOS.workflowID!;
  const inStep = DBOS.stepStatus;
  const controller = new AbortController();
  let watched: AbortSignal | undefined;
  let watch: CancellationWatch | undefined;
  const stop = () => controller.abort(watched!.reason);
  const timer = setTimeout(() => {
    if (inStep) watched = inStep.cancelSignal;
    else {
      watch = DBOSExecutor.globalInstance!.systemDatabase.watchForCancellation(workflowID);
      watched = watch.signal;
    }
    watched.addEventListener("abort", stop, { once: true });
  }, WATCH_AFTER_MS);
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
    watched?.removeEventListener("abort", stop);
    // A step's own watch is DBOS's to release, when the step ends.
    watch?.release();
  }
}

/** Rethrows the cancel of the workflow: it ends the body, and no step's failure is made of it. */
export function throwIfCancelled(e: unknown): void {
  if (e instanceof DBOSErrors.DBOSWorkflowCancelledError) throw e;
}
