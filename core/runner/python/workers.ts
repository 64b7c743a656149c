// Python tools' workers (docs/dev/authoring.md, "Python tools"): persistent `python` processes,
// each the leader of its own process group, started on first use and kept until the Effects that
// own them are closed at the run's end. A worker runs one call at a time; calls in parallel take
// more workers of the same interpreter, started as needed and reused when idle. A timeout or
// cancel kills the call's worker's group (nothing else can stop a stuck function) and the next
// call starts a fresh one; the other calls in flight, in their own workers, go on.
import { spawn, type ChildProcess } from "node:child_process";
import { basename, relative } from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { AttemptScope, PythonCall, PythonResult } from "../effects";
import { StepError, TOOL_ERROR_KINDS, type ErrorKind } from "../errors";
import { withoutSecrets } from "../../node/secrets";
import { processStart } from "../../node/processes";
import { WORKER_SOURCE } from "./worker-source";

/** What a call's reply carries (worker-source.ts). */
interface Reply {
  id: number;
  out?: string;
  value?: unknown;
  error?: string;
  kind?: string | null;
  retryAfterMs?: number | null;
  traceback?: string;
  where?: [number, string] | null;
  file?: string;
  line?: number | null;
  known?: string[];
  stage?: string;
  path?: string;
  found?: string;
  hello?: { version: string; executable: string };
}

interface Pending {
  readonly call: PythonCall;
  readonly scope?: AttemptScope;
  resolve(r: PythonResult): void;
  reject(e: Error): void;
}

/** Every worker alive in this process, whoever owns it: Keel exiting ends them. */
const live = new Set<Worker>();
let watching = false;

/** One `exit` listener for the process, however many runs start workers. */
function watchExit(): void {
  if (watching) return;
  watching = true;
  // A worker also ends itself when Keel is gone; this ends it without waiting.
  process.once("exit", () => {
    for (const w of [...live]) w.kill();
  });
}

class Worker {
  private readonly child: ChildProcess;
  private readonly commands: Writable;
  private nextId = 1;
  private pending: { id: number; p: Pending } | undefined;
  private readonly ready: Promise<string>;
  private start: string | undefined;
  private ended = false;
  version = "";
  /** Killed once its call ends: the pool was closed while it ran one. */
  retire = false;

  constructor(
    readonly interpreter: string,
    private readonly onEnd: (w: Worker) => void,
  ) {
    watchExit();
    live.add(this);
    this.child = spawn(interpreter, ["-u", "-c", WORKER_SOURCE], {
      detached: process.platform !== "win32",
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
      env: { ...withoutSecrets(), PYTHONUNBUFFERED: "1", PYTHONIOENCODING: "utf-8" },
      windowsHide: true,
    });
    this.commands = this.child.stdio[3] as Writable;
    const replies = this.child.stdio[4] as Readable;
    this.commands.on("error", () => undefined);
    // Text written past sys.stdout (a C extension, a subprocess) belongs to the call in flight.
    for (const stream of [this.child.stdout!, this.child.stderr!])
      stream.on("data", (b: Buffer) => this.pending?.p.scope?.output?.(b.toString("utf8")));
    let hello: (v: string) => void = () => undefined;
    let failed: (e: Error) => void = () => undefined;
    this.ready = new Promise<string>((res, rej) => {
      hello = res;
      failed = rej;
    });
    this.ready.catch(() => undefined);
    createInterface({ input: replies, crlfDelay: Infinity }).on("line", (line) => {
      const m = JSON.parse(line) as Reply;
      if (m.hello) {
        this.version = m.hello.version;
        hello(m.hello.version);
      } else this.reply(m);
    });
    this.child.on("error", (e) => {
      failed(e);
      this.end(
        new StepError("config", `the Python worker could not start (${interpreter}): ${e.message}`),
      );
    });
    this.child.on("exit", (code, signal) => {
      const why = signal ? `was killed by ${signal}` : `exited with ${code}`;
      failed(new Error(`the Python worker ${why}`));
      this.end(new StepError("tool_error", `the Python worker (${interpreter}) ${why}`));
    });
    this.hold(false);
    for (const stream of [1, 2, 3, 4])
      (this.child.stdio[stream] as unknown as { unref?(): void } | null)?.unref?.();
  }

  get busy(): boolean {
    return this.pending !== undefined;
  }

  get alive(): boolean {
    return !this.ended;
  }

  /** Runs one call; the worker must be idle. */
  async run(p: Pending): Promise<void> {
    const id = this.nextId++;
    this.pending = { id, p };
    this.hold(true);
    try {
      await this.ready;
    } catch {
      return; // the exit or error handler has settled the call
    }
    if (this.start === undefined && this.child.pid !== undefined)
      this.start = processStart(this.child.pid);
    if (this.child.pid !== undefined && this.start !== undefined)
      p.scope?.processStarted?.({ pid: this.child.pid, start: this.start });
    const { module, exportName, args } = p.call;
    this.commands.write(JSON.stringify({ id, module, fn: exportName, args }) + "\n");
  }

  /** Kills the worker's process group: what a timeout or a cancel does to a call in flight. */
  kill(): void {
    if (this.ended) return;
    const pid = this.child.pid;
    try {
      if (pid !== undefined && process.platform !== "win32") process.kill(-pid, "SIGKILL");
      else this.child.kill("SIGKILL");
    } catch {
      // gone already
    }
    this.end(undefined);
  }

  private reply(m: Reply): void {
    const pending = this.pending;
    if (!pending || pending.id !== m.id) return;
    if (m.out !== undefined) {
      pending.p.scope?.output?.(m.out);
      return;
    }
    this.pending = undefined;
    this.hold(false);
    if (m.error === undefined) pending.p.resolve({ value: m.value ?? null, version: this.version });
    else pending.p.reject(failure(m, pending.p.call, this.interpreter, pending.p.scope));
    this.onEnd(this);
  }

  private end(error: StepError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    live.delete(this);
    const pending = this.pending;
    this.pending = undefined;
    if (pending && error) pending.p.reject(error);
    this.hold(false);
    this.onEnd(this);
  }

  /**
   * An idle worker does not keep Node running; one with a call in flight does (its pipes never
   * do: the process handle alone decides).
   */
  private hold(held: boolean): void {
    if (held) this.child.ref();
    else this.child.unref();
  }
}

/** The workers of one Effects, by interpreter. */
export class PythonWorkers {
  private readonly workers = new Set<Worker>();

  call(call: PythonCall, signal: AbortSignal, scope?: AttemptScope): Promise<PythonResult> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<PythonResult>((resolve, reject) => {
      const worker = this.idle(call.interpreter);
      const onAbort = () => {
        // The function cannot be interrupted: its worker's group is killed, the next call starts a fresh one.
        worker.kill();
        reject(signal.reason as Error);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      const done = () => signal.removeEventListener("abort", onAbort);
      void worker.run({
        call,
        scope,
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
    });
  }

  /**
   * Ends the workers (the run is over): idle ones now, one with a call in flight (of another run
   * sharing these effects) when its call ends. A later call starts new ones.
   */
  async close(): Promise<void> {
    for (const w of [...this.workers]) {
      if (w.busy) w.retire = true;
      else w.kill();
    }
  }

  /** How many workers are alive (for tests and the benchmark). */
  get size(): number {
    return this.workers.size;
  }

  private idle(interpreter: string): Worker {
    for (const w of this.workers)
      if (w.interpreter === interpreter && w.alive && !w.busy && !w.retire) return w;
    const w = new Worker(interpreter, (ended) => {
      if (ended.alive && ended.retire) ended.kill();
      if (!ended.alive) this.workers.delete(ended);
    });
    this.workers.add(w);
    return w;
  }
}

/** A worker's failure reply as the StepError the attempt fails with, naming the file and line. */
function failure(m: Reply, call: PythonCall, interpreter: string, scope?: AttemptScope): StepError {
  const file = relative(call.dir, m.file ?? call.module) || basename(call.module);
  const ref = `${relative(call.dir, call.module)}#${call.exportName}`;
  if (m.error === "not_json")
    return new StepError(
      "tool_error",
      `the return value of ${ref} is not JSON: a ${m.found} at ${m.path} (return None, booleans, numbers, strings, lists and dicts with string keys)`,
    );
  if (m.kind === "config") {
    if (m.line !== undefined && m.line !== null)
      return new StepError(
        "config",
        `${file}, line ${m.line}: ${m.error} (${ref} cannot be loaded)`,
      );
    if (m.known)
      return new StepError(
        "config",
        `${file} has ${m.error}${m.known.length ? `: it defines ${m.known.join(", ")}` : ""}`,
      );
    return new StepError("config", `${file}: ${m.error}`);
  }
  // The traceback goes with the attempt's output, redacted with it.
  if (m.traceback) scope?.output?.(m.traceback);
  const at = m.where ? ` (${file}, line ${m.where[0]}, in ${m.where[1]})` : "";
  const hint =
    m.stage === "import" && /^ModuleNotFoundError/.test(m.error ?? "")
      ? `; install it for ${interpreter}, or choose another interpreter`
      : "";
  const message = `${m.stage === "import" ? `importing ${file} failed: ` : ""}${m.error}${at}${hint}`;
  if (m.kind && TOOL_ERROR_KINDS.includes(m.kind as ErrorKind))
    return new StepError(m.kind as ErrorKind, message, m.retryAfterMs ?? undefined);
  return new StepError("tool_error", message);
}
