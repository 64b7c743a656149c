// The HTTP plumbing of the provider test server: one listener on 127.0.0.1 serving both APIs
// (POST /v1/chat/completions as OpenAI, POST /v1/messages as Anthropic), a queue of scripted
// behaviours, the request log, and a close() that leaves nothing running.
//
// Invariant: after close() resolves, the server holds no socket, timer or listener, whatever state
// its requests were in (hanging, stalled mid-body, waiting on a delay), so a test process that
// closes its servers exits by itself.
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { anthropicFormat } from "./anthropic";
import { respond } from "./faults";
import { openaiFormat } from "./openai";
import type { ApiFormat, ApiKind, Behaviour, Exchange, RecordedRequest, ScriptStep } from "./types";

/** A running provider test server; see startProviderServer. */
export interface ProviderServer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** The OpenAI client's `baseURL`: `http://127.0.0.1:PORT/v1`. */
  readonly openaiBaseURL: string;
  /** The Anthropic client's `baseURL` (the SDK appends `/v1/messages`). */
  readonly anthropicBaseURL: string;
  /** Every request received, in arrival order, 404s included (as api `unknown`). */
  readonly requests: readonly RecordedRequest[];
  /** How many scripted steps have not been used yet. */
  readonly remaining: number;
  /** Appends steps to the queue: each request to a known path takes the next one. */
  script(steps: readonly ScriptStep[]): void;
  /** What requests get once the queue is empty (initially `{ reply: "ok" }`). */
  setDefault(step: ScriptStep): void;
  /** The number of requests received, for one API or for all. */
  count(api?: ApiKind | "unknown"): number;
  /** Resolves with the n-th request (1-based) as soon as it has arrived. */
  waitForRequest(n: number): Promise<RecordedRequest>;
  /** Empties the queue and the log, restores the default and restarts the id counters. */
  reset(): void;
  /** Stops listening and destroys every open socket, hanging requests included. */
  close(): Promise<void>;
}

const INITIAL_DEFAULT: Behaviour = { reply: "ok" };

const ROUTES: Record<string, ApiFormat> = {
  "/v1/chat/completions": openaiFormat,
  "/v1/messages": anthropicFormat,
};

/** The API a path speaks: OpenAI's, Anthropic's, or Azure OpenAI's deployment routes (OpenAI's format). */
function routeOf(pathname: string): ApiFormat | undefined {
  if (/^\/openai\/deployments\/[^/]+\/chat\/completions$/.test(pathname)) return openaiFormat;
  return ROUTES[pathname];
}

function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

function apiKeyOf(headers: Record<string, string>): string | undefined {
  const bearer = /^Bearer\s+(.*)$/i.exec(headers["authorization"] ?? "");
  return bearer ? bearer[1] : (headers["x-api-key"] ?? headers["api-key"]);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function record(req: IncomingMessage, api: RecordedRequest["api"], raw: string): RecordedRequest {
  const headers = flatten(req.headers);
  const body = parse(raw);
  const fields: Record<string, unknown> =
    typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  return {
    api,
    method: req.method ?? "GET",
    path: new URL(req.url ?? "/", "http://localhost").pathname,
    query: new URL(req.url ?? "/", "http://localhost").search,
    headers,
    apiKey: apiKeyOf(headers),
    body,
    model: fields["model"],
    messages: fields["messages"],
    system: fields["system"],
    temperature: fields["temperature"],
    max_tokens: fields["max_tokens"],
    max_completion_tokens: fields["max_completion_tokens"],
    seed: fields["seed"],
    tools: fields["tools"],
    tool_choice: fields["tool_choice"],
    parallel_tool_calls: fields["parallel_tool_calls"],
    stream: fields["stream"] === true,
    at: Date.now(),
    behaviour: undefined,
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Starts a provider test server on 127.0.0.1 at a free port. */
export async function startProviderServer(): Promise<ProviderServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const waiters = new Set<{
    n: number;
    resolve: (r: RecordedRequest) => void;
    reject: (e: Error) => void;
  }>();
  const log: RecordedRequest[] = [];
  let queue: ScriptStep[] = [];
  let fallback: ScriptStep = INITIAL_DEFAULT;
  let ids: Record<ApiKind, number> = { openai: 0, anthropic: 0 };
  let requestSeq = 0;
  let closing: Promise<void> | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const append = (request: RecordedRequest) => {
    log.push(request);
    for (const w of waiters) {
      const hit = log[w.n - 1];
      if (hit) {
        waiters.delete(w);
        w.resolve(hit);
      }
    }
  };

  const server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (req.method === "POST" && /^(\/v1|\/openai\/deployments\/[^/]+)\/embeddings$/.test(path)) {
        // Embeddings: a status behaviour from the queue fails the call; anything else answers
        // each text with a vector made from its characters (the same text, the same vector).
        const request = record(req, "openai", raw);
        const step = queue.shift() ?? fallback;
        const behaviour = typeof step === "function" ? step(request) : step;
        request.behaviour = behaviour;
        append(request);
        if ("status" in behaviour) {
          const body = openaiFormat.errorBody(behaviour.status, behaviour.message ?? "failed");
          res.writeHead(behaviour.status, { "content-type": "application/json" });
          res.end(JSON.stringify(body));
          return;
        }
        const b = request.body as {
          input?: string | string[];
          model?: string;
          dimensions?: number;
        };
        const texts = Array.isArray(b.input) ? b.input : [b.input ?? ""];
        const size = b.dimensions ?? 4;
        const vector = (t: string) =>
          Array.from(
            { length: size },
            (_, i) => ((t.charCodeAt(i % Math.max(1, t.length)) || 0) % 97) / 97,
          );
        const body = {
          object: "list",
          data: texts.map((t, index) => ({ object: "embedding", index, embedding: vector(t) })),
          model: b.model ?? "embed-test",
          usage: { prompt_tokens: texts.join(" ").length, total_tokens: texts.join(" ").length },
        };
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
        return;
      }
      const format =
        req.method === "POST" ? routeOf(new URL(req.url ?? "/", "http://x").pathname) : undefined;
      if (!format) {
        // Answer in the format of the API the client seems to speak, so its SDK reads the error.
        const guess = "x-api-key" in req.headers || "anthropic-version" in req.headers;
        const errorFormat = guess ? anthropicFormat : openaiFormat;
        append(record(req, "unknown", raw));
        const body = errorFormat.errorBody(404, `No route for ${req.method} ${req.url}`);
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify(body));
        return;
      }
      const request = record(req, format.api, raw);
      const step = queue.shift() ?? fallback;
      // Logged before answering, so a test sees a hanging request as soon as it has arrived, and
      // logged even when a scripted function throws, so the test can see what it was given.
      try {
        request.behaviour = typeof step === "function" ? step(request) : step;
      } finally {
        append(request);
      }
      const exchange: Exchange = {
        format,
        request,
        res,
        requestId: `req_test_${++requestSeq}`,
        nextResponseId: () => format.responseId(++ids[format.api]),
        sleep,
      };
      await respond(exchange, request.behaviour);
    })().catch((error: unknown) => {
      // A bug in a scripted function, or a client that vanished mid-request: tell the client if
      // it can still hear, and never let it crash the test process.
      if (res.headersSent) return void res.destroy();
      const message = `provider test server: ${error instanceof Error ? error.message : String(error)}`;
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message, type: "test_server_error" } }));
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // A client that resets mid-request must not surface as an unhandled error.
  server.on("clientError", (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    openaiBaseURL: `${url}/v1`,
    anthropicBaseURL: url,
    get requests() {
      return log;
    },
    get remaining() {
      return queue.length;
    },
    script(steps) {
      queue.push(...steps);
    },
    setDefault(step) {
      fallback = step;
    },
    count(api) {
      return api === undefined ? log.length : log.filter((r) => r.api === api).length;
    },
    waitForRequest(n) {
      const hit = log[n - 1];
      if (hit) return Promise.resolve(hit);
      if (closing) return Promise.reject(new Error("provider test server is closed"));
      return new Promise((resolve, reject) => waiters.add({ n, resolve, reject }));
    },
    reset() {
      queue = [];
      log.length = 0;
      fallback = INITIAL_DEFAULT;
      ids = { openai: 0, anthropic: 0 };
      requestSeq = 0;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        for (const socket of sockets) socket.destroy();
        for (const w of waiters) w.reject(new Error("provider test server closed"));
        waiters.clear();
      });
      return closing;
    },
  };
}
