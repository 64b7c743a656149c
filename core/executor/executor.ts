// The Executor seam (docs/dev/architecture.md, "Parts"): where a run executes, behind one
// interface, so that the record, replay, diff and step-through never need to know. The local
// executor is the runner itself (core/runner/run.ts, called in-process by the CLI and the editor);
// the DBOS executor (dbos-submit.ts for submitting, dbos-worker.ts for the workers) runs it on a
// team's workers over PostgreSQL. Both write the same record through the same RunStore.
import type { EventRecord, RunRecord } from "../record/records";

/** What a run needs to start anywhere: the workflow as text, never as a path to read later. */
export interface RunSpec {
  /** Chosen by the submitter: submitting the same id twice starts the run once. */
  readonly runId: string;
  /** Where the workflow lives on the workers (tool modules and `cwd` resolve from it). */
  readonly workflowPath: string;
  readonly source: string;
  readonly inputs: Readonly<Record<string, unknown>>;
  /** The `env.NAME` values the workflow reads, from the submitter (they are recorded anyway). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly concurrency?: number;
  readonly noCache?: boolean;
  /**
   * The child workflow files its `workflow` steps use, and theirs, by absolute path: read and
   * validated where the run is submitted, like `source` (core/executor/dbos-children.ts).
   */
  readonly children?: Readonly<Record<string, ChildFile>>;
  /** A child run: the run and the unit (`per_ticket[t-9]`, `refine#2`) that started it. */
  readonly parent?: { readonly runId: string; readonly scope: string; readonly depth: number };
  /** Wait this long before the run starts (a retried child run's backoff). */
  readonly delayMs?: number;
}

/** A child workflow file as submitted: its text, and the `env.NAME` values it reads. */
export interface ChildFile {
  readonly source: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** A started run: its events as they commit, and its end. */
export interface RunHandle {
  readonly runId: string;
  /** The run's events from `afterSeq` on, as they are committed, until the run has ended. */
  events(afterSeq?: number): AsyncIterable<EventRecord>;
  /** The run's record once it has ended. */
  ended(): Promise<RunRecord>;
}

export interface Executor {
  /** Starts a run (idempotent by `spec.runId`). */
  start(spec: RunSpec): Promise<RunHandle>;
  /** A handle on a run started earlier, by anyone. */
  attach(runId: string): RunHandle;
  /** Stops the run; its record ends `cancelled`. False when it had already ended. */
  cancel(runId: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Thrown when an executor gave a run up without a record saying how the run ended. */
export class RunNotExecutedError extends Error {}
