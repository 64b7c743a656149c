// Small async tools of the scheduler: racing work against an abort signal, abortable sleeps,
// and counting semaphores for per-provider concurrency.

/** Rejects with the signal's reason as soon as it aborts, even if the work ignores the signal. */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // The work was started with the signal aborted: its own end (often the same abort) is not
    // waited for, and must not surface as an unhandled rejection.
    work.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(signal.aborted ? (signal.reason as Error) : e);
      },
    );
  });
}

export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** One counting semaphore per key (a provider id): at most `limit` holders at once. */
export class Semaphores {
  private readonly slots = new Map<string, { active: number; waiting: (() => void)[] }>();

  async acquire(key: string, limit: number): Promise<void> {
    let slot = this.slots.get(key);
    if (!slot) this.slots.set(key, (slot = { active: 0, waiting: [] }));
    if (slot.active < limit) {
      slot.active++;
      return;
    }
    await new Promise<void>((resolve) => slot.waiting.push(resolve));
  }

  release(key: string): void {
    const slot = this.slots.get(key)!;
    const next = slot.waiting.shift();
    if (next) next();
    else slot.active--;
  }
}
