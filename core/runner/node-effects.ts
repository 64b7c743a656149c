// The real Effects for Node: commands as child processes (argv, never a shell), tools in a worker
// thread, HTTP with fetch, model calls through the providers. Every effect honours its AbortSignal;
// a command or tool still running when the signal fires is killed.
import { spawn } from "node:child_process";
import { Worker } from "node:worker_threads";
import type { Provider } from "../model/schema";
import type {
  Effects,
  HttpRequest,
  HttpResponse,
  LlmRequest,
  LlmResponse,
  ShellCommand,
  ShellResult,
  ToolCall,
} from "./effects";
import { StepError } from "./errors";
import { answerScripted, type ScriptedConfig } from "./scripted";
import { callOpenAi } from "./providers/openai";
import { callAnthropic } from "./providers/anthropic";
import { withoutSecrets } from "../node/secrets";
import { isIdleTimeout, unlimitedDispatcher } from "./providers/connection";

export interface NodeEffectsOptions {
  readonly providers: Readonly<Record<string, Provider>>;
  /** Folder of the workflow file (scripted `file:` is relative to it). */
  readonly dir: string;
}

export function createNodeEffects(options: NodeEffectsOptions): Effects {
  return {
    now: isoNow,
    llm: (request, signal, apiKey) => callModel(options, request, signal, apiKey),
    http: fetchHttp,
    shell: runCommand,
    tool: runTool,
  };
}

async function callModel(
  options: NodeEffectsOptions,
  request: LlmRequest,
  signal: AbortSignal,
  apiKey: string | undefined,
): Promise<LlmResponse> {
  const provider = options.providers[request.provider];
  if (!provider) throw new StepError("config", `unknown provider '${request.provider}'`);
  if (provider.type === "scripted")
    return answerScripted(provider as ScriptedConfig, request, options.dir, signal);
  const connection = { baseUrl: request.baseUrl, apiKey, headers: request.headers };
  return provider.type === "openai"
    ? callOpenAi(request, connection, signal)
    : callAnthropic(request, connection, signal);
}

async function fetchHttp(request: HttpRequest, signal: AbortSignal): Promise<HttpResponse> {
  let response: Response;
  const dispatcher = await unlimitedDispatcher();
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body ?? undefined,
      signal,
      ...(dispatcher ? { dispatcher } : {}),
    } as RequestInit);
  } catch (e) {
    if (signal.aborted) throw signal.reason as Error;
    throw new StepError(
      isIdleTimeout(e) ? "timeout" : "server_error",
      `${request.method} ${request.url}: ${(e as Error).message}`,
    );
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => (headers[key] = value));
  let body: string;
  try {
    body = await response.text();
  } catch (e) {
    if (signal.aborted) throw signal.reason as Error;
    throw new StepError(
      isIdleTimeout(e) ? "timeout" : "server_error",
      `${request.method} ${request.url}: the body was cut off (${(e as Error).message})`,
    );
  }
  return { status: response.status, headers, body };
}

function runCommand(command: ShellCommand, signal: AbortSignal): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = command.argv;
    if (!file) return reject(new StepError("config", "the command is empty"));
    // Its own process group, so that a timeout kills whatever the command started too.
    const child = spawn(file, args, {
      cwd: command.cwd,
      // No KEEL_SECRET_* is inherited: a command gets the secrets its step names, in `env` or
      // its arguments (docs/runner.md, "Which step sees which secret").
      env: { ...withoutSecrets(), ...command.env },
      shell: false,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    };
    signal.addEventListener("abort", kill, { once: true });
    child.on("error", (e) => {
      signal.removeEventListener("abort", kill);
      reject(new StepError("exit_code", `cannot start \`${file}\`: ${e.message}`));
    });
    child.on("close", (code, sig) => {
      signal.removeEventListener("abort", kill);
      if (signal.aborted) return reject(signal.reason as Error);
      resolve({
        exitCode: code ?? (sig ? 128 : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
  });
}

/** Runs in the worker: imports the module, calls the export with the arguments and a context. */
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { pathToFileURL } = require("node:url");
(async () => {
  try {
    const mod = await import(pathToFileURL(workerData.module).href);
    const fn = mod[workerData.exportName] ?? (mod.default && mod.default[workerData.exportName]);
    if (typeof fn !== "function") throw new Error(workerData.module + " has no function export " + workerData.exportName);
    const controller = new AbortController();
    const log = (...a) => parentPort.postMessage({ log: a.map(String).join(" ") });
    const value = await fn(workerData.args, { signal: controller.signal, log });
    parentPort.postMessage({ value: value === undefined ? null : JSON.parse(JSON.stringify(value)) });
  } catch (e) {
    parentPort.postMessage({ error: e && e.message ? e.message : String(e) });
  }
})();
`;

function runTool(call: ToolCall, signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // The worker's process.env holds no KEEL_SECRET_*: a tool gets the secrets its `with` names.
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: call,
      stdout: true,
      stderr: true,
      env: withoutSecrets(),
    });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      void worker.terminate();
      fn();
    };
    const onAbort = () => settle(() => reject(signal.reason as Error));
    signal.addEventListener("abort", onAbort, { once: true });
    worker.on("message", (m: { value?: unknown; error?: string; log?: string }) => {
      if (m.log !== undefined) return;
      if (m.error !== undefined) settle(() => reject(new StepError("tool_error", m.error!)));
      else settle(() => resolve(m.value));
    });
    worker.on("error", (e) => settle(() => reject(new StepError("tool_error", e.message))));
    worker.on("exit", (code) =>
      settle(() => reject(new StepError("tool_error", `the tool's worker exited with ${code}`))),
    );
  });
}

let lastMs = -1;
let lastIso = "";

/** The clock as ISO-8601 UTC with milliseconds; formatted once per millisecond, however often read. */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
