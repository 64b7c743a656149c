// The limits an effect runs within (docs/runner.md, "Timeouts" and "Providers"): its step's time
// limit, its provider's concurrency, and the run's cancel. A timeout and a cancel are told apart
// by which signal fired, so the attempt records the right error kind.
import { setMaxListeners } from "node:events";
import type { Workflow } from "../model/schema";
import { raceAbort, Semaphores } from "./async";
import type { Effects } from "./effects";
import { StepError } from "./errors";
import { durationMs } from "./policy";
import type { PreparedStep, StepOutput } from "./steps";

/** The signal of work nothing will abort. */
export const NEVER = new AbortController().signal;

/** The error of work the run's cancel stopped. */
export const cancelledError = () => new StepError("cancelled", "the run was cancelled");

/** A signal that aborts at a limit, and the call that releases it once the work is done. */
export interface Limit {
  readonly signal: AbortSignal;
  release(): void;
}

export class RunLimits {
  private readonly semaphores = new Semaphores();
  /** Attempts a cancel aborts: one listener on the run's signal, not one per attempt. */
  private readonly cancellable = new Set<AbortController>();

  constructor(
    /** The run's own signal: aborted by a cancel. */
    private readonly run: AbortSignal,
    private readonly effects: Effects,
    private readonly workflow: Workflow,
  ) {
    // Effects without a time limit listen to the run's signal, as many at once as run concurrently.
    setMaxListeners(0, run);
    run.addEventListener("abort", () => {
      for (const c of this.cancellable) c.abort(cancelledError());
    });
  }

  /** What work that may stop at a cancel listens to (or nothing, when it may not). */
  signal(cancellable: boolean): AbortSignal {
    return cancellable ? this.run : NEVER;
  }

  /** Runs the effect within its timeout and its provider's concurrency. */
  async execute(
    prepared: PreparedStep,
    timeout: string | undefined,
    provider: string | undefined,
    cancellable: boolean,
  ): Promise<StepOutput> {
    const limit = provider ? this.workflow.providers?.[provider]?.concurrency : undefined;
    // A pure step without a time limit ends by itself, quickly: no controller to set up.
    // Its expressions still stop at a cancel (a transform can loop: docs/runner.md).
    if (prepared.quick && timeout === undefined)
      return prepared.execute(this.effects, this.signal(cancellable));
    if (provider && limit) await this.semaphores.acquire(provider, limit);
    try {
      // Without a time limit, only a cancel can stop the effect: the run's own signal says when.
      if (timeout === undefined) {
        const signal = this.signal(cancellable);
        return await raceAbort(prepared.execute(this.effects, signal), signal);
      }
      const what = prepared.quick ? "the expression did not end" : "no answer";
      const bounded = this.limit(timeout, cancellable, what);
      try {
        return await raceAbort(prepared.execute(this.effects, bounded.signal), bounded.signal);
      } finally {
        bounded.release();
      }
    } finally {
      if (provider && limit) this.semaphores.release(provider);
    }
  }

  /**
   * A signal that aborts at a step's time limit (a timeout: "<what> within <timeout>") and, when
   * the step is cancellable, at the run's cancel; release it when the work is done.
   */
  limit(timeout: string, cancellable: boolean, what: string): Limit {
    const controller = new AbortController();
    if (cancellable) {
      if (this.run.aborted) controller.abort(cancelledError());
      else this.cancellable.add(controller);
    }
    const timer = setTimeout(
      () => controller.abort(new StepError("timeout", `${what} within ${timeout}`)),
      durationMs(timeout),
    );
    return {
      signal: controller.signal,
      release: () => {
        clearTimeout(timer);
        this.cancellable.delete(controller);
      },
    };
  }
}
