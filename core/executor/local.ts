// The local executor: the runner (core/runner/run.ts) behind the Executor seam, in this process,
// recording into any RunStore. The CLI's `keel run` and the editor call the runner directly for
// what only a local run has (progress as it happens, resume, one step); this executor is for code
// that takes either executor (the workers' benchmark, `Executor` contract tests).
// Invariants: a run id starts one run (a second start returns the same handle); a run's events
// reach a handle in sequence order, each once; `ended()` resolves with the record once the run's
// end is durable.
import { loadValidTextOnce, type LoadedWorkflow } from "../runner/load";
import { createNodeEffects } from "../runner/node-effects";
import { runWorkflow } from "../runner/run";
import type { RunResult } from "../runner/types";
import type { EventRecord, RunRecord } from "../record/records";
import type { RunStore } from "../store/run-store";
import { RunNotExecutedError, type Executor, type RunHandle, type RunSpec } from "./executor";

export interface LocalExecutorOptions {
  readonly store: RunStore;
  /** The secrets a workflow reads; throws naming one that is missing. */
  readonly secrets?: (names: readonly string[]) => Record<string, string>;
  /** How often a handle on a run started elsewhere reads the store; default 100 ms. */
  readonly pollMs?: number;
}

interface Local {
  readonly controller: AbortController;
  readonly done: Promise<RunResult>;
  /** Events recorded so far, and the handles' wake-ups. */
  readonly events: EventRecord[];
  readonly waiting: Set<() => void>;
  ended: boolean;
}

export class LocalExecutor implements Executor {
  private readonly runs = new Map<string, Local>();
  private readonly loaded = new Map<string, LoadedWorkflow>();

  constructor(private readonly o: LocalExecutorOptions) {}

  async start(spec: RunSpec): Promise<RunHandle> {
    if (this.runs.has(spec.runId) || (await this.o.store.getRun(spec.runId))) {
      return this.attach(spec.runId);
    }
    // Validated once per text: runs of one workflow share it.
    const loaded = loadValidTextOnce(this.loaded, spec.workflowPath, spec.source);
    const controller = new AbortController();
    const events: EventRecord[] = [];
    const waiting = new Set<() => void>();
    const wake = () => {
      for (const w of waiting) w();
      waiting.clear();
    };
    const done = runWorkflow({
      runId: spec.runId,
      workflowPath: loaded.path,
      source: loaded.source,
      workflow: loaded.workflow,
      graph: loaded.graph,
      inputs: spec.inputs,
      env: spec.env,
      secrets: this.o.secrets?.(loaded.secretNames) ?? {},
      store: this.o.store,
      effects: createNodeEffects({ providers: loaded.workflow.providers ?? {}, dir: loaded.dir }),
      signal: controller.signal,
      concurrency: spec.concurrency,
      noCache: spec.noCache,
      onEvent: (e) => {
        events.push(e);
        wake();
      },
    });
    const run: Local = { controller, done, events, waiting, ended: false };
    void done
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        run.ended = true;
        wake();
      });
    this.runs.set(spec.runId, run);
    return this.attach(spec.runId);
  }

  attach(runId: string): RunHandle {
    const run = this.runs.get(runId);
    const store = this.o.store;
    const pollMs = this.o.pollMs ?? 100;
    if (!run) return storeHandle(store, runId, pollMs);
    return {
      runId,
      async *events(afterSeq = 0) {
        for (let i = 0; ;) {
          while (i < run.events.length) {
            const e = run.events[i++]!;
            if (e.seq > afterSeq) yield e;
          }
          if (run.ended) return;
          await new Promise<void>((resolve) => run.waiting.add(resolve));
        }
      },
      async ended() {
        await run.done;
        return (await store.getRun(runId))!;
      },
    };
  }

  async cancel(runId: string): Promise<boolean> {
    const run = this.runs.get(runId);
    if (!run || run.ended) return false;
    run.controller.abort();
    return (await run.done).status === "cancelled";
  }

  /** Cancels what still runs here and waits for its end to be recorded. */
  async close(): Promise<void> {
    for (const run of this.runs.values()) if (!run.ended) run.controller.abort();
    await Promise.allSettled([...this.runs.values()].map((r) => r.done));
  }
}

/**
 * A handle on a run recorded in `store` by another process: read as it is committed. `failure`
 * says why the run will never end in the record (its executor gave it up), if it will not.
 */
export function storeHandle(
  store: RunStore,
  runId: string,
  pollMs: number,
  failure: () => Promise<string | undefined> = async () => undefined,
): RunHandle {
  const ended = async (): Promise<RunRecord | undefined> => {
    const run = await store.getRun(runId);
    if (run && run.status !== "running") return run;
    const why = await failure();
    if (why) throw new RunNotExecutedError(why);
    return undefined;
  };
  return {
    runId,
    async *events(afterSeq = 0) {
      let seen = afterSeq;
      for (let over = false; ;) {
        const batch = await store.events(runId, seen);
        for (const e of batch) {
          seen = e.seq;
          yield e;
          if (e.type === "run_finished") return;
        }
        if (over) return;
        if (batch.length === 0) {
          // A run seen ended may have committed its last events after this read: read once more.
          over = (await ended()) !== undefined;
          if (!over) await new Promise((r) => setTimeout(r, pollMs));
        }
      }
    },
    async ended() {
      for (;;) {
        const run = await ended();
        if (run) return run;
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
  };
}
