// JavaScript tools' worker threads (docs/format.md, "How a tool is called"). A worker runs one call
// at a time and, when the call ends well, waits for the next one of the same effects (a run): a
// thread's start and Node's bootstrap (tens of milliseconds) are paid once per worker, not once
// per call, as Python tools' workers are kept for the run. A worker whose call is aborted
// (timeout, cancel), or that crashed, is ended and never used again; the run's end ends them all.
// Whoever makes these workers must close them (`Effects.close`, which runWorkflow calls at a run's
// end): a worker's captured stdout and stderr keep the process alive even once it is unref'd.
import { Worker } from "node:worker_threads";
import type { AttemptScope, ToolCall } from "./effects";
import { StepError, TOOL_ERROR_KINDS, type ErrorKind } from "./errors";
import { withoutSecrets } from "../node/secrets";

/**
 * Runs in the worker: for each call, imports the module (once per worker, as `import` caches it)
 * and calls the export with the arguments and a context. What the tool prints (console.*,
 * process.stdout/stderr, ctx.log) goes to the parent through the same port as its result, so
 * none of it is lost or reordered.
 */
const WORKER = `
const { parentPort } = require("node:worker_threads");
const { pathToFileURL } = require("node:url");
const print = (text) => parentPort.postMessage({ output: String(text) });
for (const stream of [process.stdout, process.stderr]) {
  stream.write = (chunk, encoding, done) => {
    print(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    const callback = typeof encoding === "function" ? encoding : done;
    if (typeof callback === "function") queueMicrotask(callback);
    return true;
  };
}
let controller;
async function run({ module, exportName, args, context }) {
  controller = new AbortController();
  try {
    const mod = await import(pathToFileURL(module).href);
    const fn = mod[exportName] ?? (mod.default && mod.default[exportName]);
    if (typeof fn !== "function") throw new Error(module + " has no function export " + exportName);
    const log = (...a) => print(a.map(String).join(" ") + "\\n");
    const ctx = Object.freeze({ ...context, signal: controller.signal, log });
    const value = await fn(args, ctx);
    let json;
    try {
      json = JSON.stringify(value === undefined ? null : value);
    } catch (e) {
      throw new Error("the tool's return value is not JSON: " + (e && e.message ? e.message : e));
    }
    parentPort.postMessage({ value: JSON.parse(json === undefined ? "null" : json) });
  } catch (e) {
    const error = e && typeof e === "object" ? e : {};
    parentPort.postMessage({
      error: typeof error.message === "string" ? error.message : String(e),
      kind: typeof error.kind === "string" ? error.kind : undefined,
      retryAfterMs: typeof error.retryAfterMs === "number" ? error.retryAfterMs : undefined,
    });
  }
}
parentPort.on("message", (m) => {
  if (m && m.abort !== undefined) controller?.abort(new Error(m.abort));
  else if (m && m.call) void run(m.call);
});
`;

/** How long a tool has, after its signal fired (timeout, cancel), before its worker is ended. */
const TOOL_GRACE_MS = 1000;

/** Idle workers kept for later calls, at most; more calls at once start more, ended after. */
const MAX_IDLE = 8;

interface ToolMessage {
  readonly value?: unknown;
  readonly error?: string;
  readonly kind?: string;
  readonly retryAfterMs?: number;
  readonly output?: string;
}

export class ToolWorkers {
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();

  /** Runs one call in an idle worker, or a new one; its value, or its error thrown. */
  call(call: ToolCall, signal: AbortSignal, scope?: AttemptScope): Promise<unknown> {
    // Asked after its timeout or the run's cancel: the tool never starts.
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const worker = this.idle.pop() ?? this.start();
    worker.ref();
    return new Promise((resolve, reject) => {
      let settled = false;
      const onOutput = (b: Buffer) => !settled && scope?.output?.(b.toString("utf8"));
      const onMessage = (m: ToolMessage) => {
        if (m.output !== undefined) {
          if (!settled) scope?.output?.(m.output);
        } else if (m.error !== undefined)
          settle(true, () => reject(toolError({ ...m, error: m.error! })));
        else settle(true, () => resolve(m.value));
      };
      const onError = (e: Error) =>
        settle(false, () => reject(new StepError("tool_error", e.message)));
      const onExit = (code: number) =>
        settle(false, () =>
          reject(new StepError("tool_error", `the tool's worker exited with ${code}`)),
        );
      // The tool's ctx.signal fires; its worker is ended a moment later, whatever it does.
      const onAbort = () => {
        worker.postMessage({ abort: (signal.reason as Error | undefined)?.message ?? "aborted" });
        settle(false, () => reject(signal.reason as Error), TOOL_GRACE_MS);
      };
      /** Ends the call: the worker waits for the next one (`reuse`), or is ended. */
      const settle = (reuse: boolean, fn: () => void, graceMs = 0) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
        worker.stdout.off("data", onOutput);
        worker.stderr.off("data", onOutput);
        if (reuse) this.release(worker);
        else this.end(worker, graceMs);
        fn();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      // Anything written past the console (a native addon, a child process's inherited stream).
      worker.stdout.on("data", onOutput);
      worker.stderr.on("data", onOutput);
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
      const context = {
        workflowDir: call.dir,
        runId: scope?.runId ?? null,
        step: scope?.stepId ?? null,
        attempt: scope?.attempt ?? null,
      };
      worker.postMessage({
        call: { module: call.module, exportName: call.exportName, args: call.args, context },
      });
    });
  }

  /** Ends every worker: the run's end. */
  async close(): Promise<void> {
    const all = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(all.map((w) => w.terminate()));
  }

  private start(): Worker {
    // The worker's process.env holds no KEEL_SECRET_*: a tool gets the secrets its `with` names.
    const worker = new Worker(WORKER, {
      eval: true,
      stdout: true,
      stderr: true,
      env: withoutSecrets(),
    });
    this.all.add(worker);
    // A worker that ends while idle (it crashed between calls) is forgotten.
    worker.on("exit", () => {
      this.all.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
    });
    worker.on("error", () => undefined);
    return worker;
  }

  /** A worker whose call ended well waits for the next call, not keeping the process alive. */
  private release(worker: Worker): void {
    if (!this.all.has(worker) || this.idle.length >= MAX_IDLE) return this.end(worker, 0);
    worker.unref();
    this.idle.push(worker);
  }

  private end(worker: Worker, graceMs: number): void {
    this.all.delete(worker);
    if (graceMs === 0) void worker.terminate();
    else setTimeout(() => void worker.terminate(), graceMs).unref();
  }
}

/** What a tool threw, as a StepError of the kind it gave, or `tool_error`. */
function toolError(m: { error: string; kind?: string; retryAfterMs?: number }): StepError {
  if (m.kind === undefined) return new StepError("tool_error", m.error);
  if (TOOL_ERROR_KINDS.includes(m.kind as ErrorKind))
    return new StepError(m.kind as ErrorKind, m.error, m.retryAfterMs);
  return new StepError(
    "tool_error",
    `${m.error} (the error's kind '${m.kind}' is none of ${TOOL_ERROR_KINDS.join(", ")}, so it counts as tool_error)`,
  );
}
