// The real Effects for Node: commands as child processes (argv, never a shell), tools in a worker
// thread, HTTP with fetch, model calls through the providers. Every effect honours its AbortSignal;
// a command or tool still running when the signal fires is killed.
import { spawn } from "node:child_process";
import type { Provider } from "../model/schema";
import type {
  AttemptScope,
  EmbedRequest,
  EmbedResponse,
  Effects,
  HttpRequest,
  HttpResponse,
  LlmRequest,
  LlmResponse,
  LlmStream,
  ShellCommand,
  ShellResult,
} from "./effects";
import { StepError } from "./errors";
import { answerScripted, embedScripted, type ScriptedConfig } from "./providers/scripted";
import { callOpenAi, embedOpenAi } from "./providers/openai";
import { callAnthropic } from "./providers/anthropic";
import { withoutSecrets } from "../node/secrets";
import { processStart } from "../node/processes";
import { isIdleTimeout, unlimitedDispatcher, type Connection } from "./providers/connection";
import { PythonWorkers } from "./python/workers";
import { ToolWorkers } from "./tool-workers";

export interface NodeEffectsOptions {
  readonly providers: Readonly<Record<string, Provider>>;
  /** Folder of the workflow file (scripted `file:` is relative to it). */
  readonly dir: string;
  /**
   * Where a streamed step's chunks go as they arrive (keel run --stream, --events): raw text,
   * not redacted (the receiver redacts what it shows; docs/dev/authoring.md, "Streaming").
   */
  readonly onChunk?: (chunk: LiveChunk) => void;
  /** A streamed call ended, however it ended: the receiver releases what it held back. */
  readonly onStreamEnd?: (stream: Omit<LiveChunk, "text">) => void;
}

/** A piece of a streamed reply, live: never recorded. */
export interface LiveChunk {
  readonly runId: string | null;
  readonly stepId: string | null;
  readonly scope: string | null;
  readonly attempt: number | null;
  readonly text: string;
}

export function createNodeEffects(options: NodeEffectsOptions): Effects {
  // Tools' workers live as long as these effects: the run closes them at its end.
  const python = new PythonWorkers();
  const tools = new ToolWorkers();
  return {
    now: isoNow,
    llm: (request, signal, apiKey, stream) =>
      stream
        ? streamModel(options, request, signal, apiKey, stream)
        : callModel(options, request, signal, apiKey),
    embed: (request, signal, apiKey) => embedTexts(options, request, signal, apiKey),
    http: fetchHttp,
    shell: runCommand,
    tool: (call, signal, scope) => tools.call(call, signal, scope),
    python: (call, signal, scope) => python.call(call, signal, scope),
    close: async () => {
      await Promise.all([python.close(), tools.close()]);
    },
  };
}

async function embedTexts(
  options: NodeEffectsOptions,
  request: EmbedRequest,
  signal: AbortSignal,
  apiKey: string | undefined,
): Promise<EmbedResponse> {
  const provider = options.providers[request.provider];
  if (!provider) throw new StepError("config", `unknown provider '${request.provider}'`);
  if (provider.type === "scripted") return embedScripted(provider as ScriptedConfig, request);
  return embedOpenAi(request, connectionOf(request, apiKey), signal);
}

/** Where a model or embeddings call goes, as its provider client is built for it. */
function connectionOf(
  request: Pick<LlmRequest, "baseUrl" | "headers" | "apiVersion">,
  apiKey: string | undefined,
): Connection {
  return {
    baseUrl: request.baseUrl,
    apiKey,
    headers: request.headers,
    ...(request.apiVersion !== undefined ? { azure: { apiVersion: request.apiVersion } } : {}),
  };
}

async function callModel(
  options: NodeEffectsOptions,
  request: LlmRequest,
  signal: AbortSignal,
  apiKey: string | undefined,
  onChunk?: (text: string) => void,
): Promise<LlmResponse> {
  const provider = options.providers[request.provider];
  if (!provider) throw new StepError("config", `unknown provider '${request.provider}'`);
  if (provider.type === "scripted")
    return answerScripted(provider as ScriptedConfig, request, options.dir, signal, onChunk);
  const connection = connectionOf(request, apiKey);
  return provider.type === "openai" || provider.type === "azure_openai"
    ? callOpenAi(request, connection, signal, onChunk)
    : callAnthropic(request, connection, signal, onChunk);
}

/**
 * A streamed call: each chunk is timed, kept for the partial reply and passed on live. The reply
 * carries the timing (recorded on the attempt); a failure carries what had arrived (`partial`).
 */
async function streamModel(
  options: NodeEffectsOptions,
  request: LlmRequest,
  signal: AbortSignal,
  apiKey: string | undefined,
  stream: LlmStream,
): Promise<LlmResponse> {
  const started = performance.now();
  const chunks: [number, number][] = [];
  let received = "";
  const at = stream.scope;
  const ids = {
    runId: at?.runId ?? null,
    stepId: at?.stepId ?? null,
    scope: at?.scope ?? null,
    attempt: at?.attempt ?? null,
  };
  const onChunk = (text: string) => {
    chunks.push([text.length, Math.round(performance.now() - started)]);
    received += text;
    at?.chunk?.(text);
    options.onChunk?.({ ...ids, text });
  };
  try {
    const reply = await callModel(options, request, signal, apiKey, onChunk);
    return { ...reply, stream: { ttftMs: chunks[0]?.[1] ?? null, chunks } };
  } catch (e) {
    // A timeout's or cancel's error is the signal's, shared: the attempt keeps the partial
    // reply it was told of through its scope instead (stream.ts, withPartial).
    if (received === "" || signal.aborted) throw e;
    const err = e instanceof StepError ? e : new StepError("server_error", String(e));
    err.partial = received;
    err.message += ` (the stream broke after ${chunks.length} chunk${chunks.length === 1 ? "" : "s"}; the partial reply is kept on the attempt)`;
    throw err;
  } finally {
    options.onStreamEnd?.(ids);
  }
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

function runCommand(
  command: ShellCommand,
  signal: AbortSignal,
  scope?: AttemptScope,
): Promise<ShellResult> {
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
    // Recorded at once: a resume ends the group if this process dies first (core/node/processes.ts).
    const start = child.pid !== undefined ? processStart(child.pid) : undefined;
    if (start !== undefined) scope?.processStarted?.({ pid: child.pid!, start });
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
