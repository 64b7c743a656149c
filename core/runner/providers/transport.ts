// The HTTP transport of the provider clients (docs/dev/provider-clients.md, "Transport"): a
// `fetch` for the SDKs built on node:http and node:https with keep-alive agents. Node's own fetch
// spends about 0.5 ms of CPU more per call (WHATWG streams, its request and header classes), which
// a map of a thousand model calls at concurrency 16 pays on the event loop that schedules them.
// What this transport does not do itself it hands to Node's fetch, unchanged: a body other than
// text or bytes, a redirect, and every request when a proxy is configured.
import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import zlib from "node:zlib";

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The environment variables that ask for a proxy: Node's fetch may honour them, this cannot. */
const PROXY_VARIABLES = [
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "NODE_USE_ENV_PROXY",
];

/** Statuses whose response has no body (`new Response` refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

const agents = {
  "http:": new http.Agent({ keepAlive: true, maxSockets: Infinity }),
  "https:": new https.Agent({ keepAlive: true, maxSockets: Infinity }),
} as const;

/**
 * The fetch the provider clients use: this transport, or `fallback` (Node's fetch with the
 * client's options) for every request when a proxy is configured in the environment.
 */
export function providerFetch(fallback: Fetch, env: NodeJS.ProcessEnv = process.env): Fetch {
  if (PROXY_VARIABLES.some((name) => env[name])) return fallback;
  return (input, init) => nodeFetch(input, init ?? {}, fallback);
}

async function nodeFetch(
  input: string | URL | Request,
  init: RequestInit,
  fallback: Fetch,
): Promise<Response> {
  const body = init.body;
  const plainBody =
    body === undefined || body === null || typeof body === "string" || body instanceof Uint8Array;
  const url = typeof input === "string" ? new URL(input) : input instanceof URL ? input : null;
  if (!plainBody || url === null || !(url.protocol in agents)) return fallback(input, init);
  const signal = init.signal ?? undefined;
  signal?.throwIfAborted();
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => (headers[name] = value));
  // Node's fetch asks for compressed replies and undoes the compression; so does this.
  headers["accept-encoding"] ??= "gzip, deflate, br";
  const agent = agents[url.protocol as keyof typeof agents];
  const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const request = (url.protocol === "https:" ? https : http).request(
      url,
      { method: init.method ?? "GET", headers, agent, ...(signal ? { signal } : {}) },
      resolve,
    );
    request.on("error", (e) => reject(signal?.aborted ? signal.reason : e));
    request.end(body ?? undefined);
  });
  const status = response.statusCode ?? 0;
  if (status >= 300 && status < 400 && response.headers.location !== undefined) {
    // fetch knows every rule of a redirect (methods, bodies, credentials across origins).
    response.resume();
    return fallback(input, init);
  }
  const responseHeaders = new Headers();
  const raw = response.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) responseHeaders.append(raw[i]!, raw[i + 1]!);
  const init2 = { status, statusText: response.statusMessage ?? "", headers: responseHeaders };
  if (NULL_BODY.has(status) || init.method === "HEAD") {
    response.resume();
    return new Response(null, init2);
  }
  const decoded = decode(response, signal);
  // A stream (server-sent events) is read as it arrives; any other reply is read whole here, so
  // the SDK's `json()` reads bytes, not a stream. A reply cut off fails this call either way.
  if (/^text\/event-stream/i.test(response.headers["content-type"] ?? ""))
    return new Response(Readable.toWeb(decoded) as ReadableStream<Uint8Array>, init2);
  return new Response(await readAll(decoded, response, signal), init2);
}

/** The body with its content encoding undone. */
function decode(response: http.IncomingMessage, signal: AbortSignal | undefined): Readable {
  const encoding = (response.headers["content-encoding"] ?? "").trim().toLowerCase();
  const decoder =
    encoding === "gzip" || encoding === "x-gzip"
      ? zlib.createGunzip()
      : encoding === "deflate"
        ? zlib.createInflate()
        : encoding === "br"
          ? zlib.createBrotliDecompress()
          : undefined;
  const cut = (e?: Error) => {
    const error = signal?.aborted ? signal.reason : (e ?? cutOff());
    if (decoder) decoder.destroy(error);
    else response.destroy(error);
  };
  // A connection closed before the body's end is an error, never a shorter reply.
  response.on("aborted", () => cut());
  response.on("close", () => {
    if (!response.complete) cut();
  });
  if (!decoder) return response;
  response.on("error", (e) => cut(e));
  return response.pipe(decoder);
}

function cutOff(): Error {
  return Object.assign(new Error("terminated: the connection closed before the reply's end"), {
    code: "ECONNRESET",
  });
}

function readAll(
  body: Readable,
  response: http.IncomingMessage,
  signal: AbortSignal | undefined,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onAbort = () => {
      response.destroy(signal!.reason as Error);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    body.on("data", (c: Buffer) => chunks.push(c));
    body.on("end", () => {
      signal?.removeEventListener("abort", onAbort);
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    body.on("error", (e) => {
      signal?.removeEventListener("abort", onAbort);
      reject(signal?.aborted ? signal.reason : e);
    });
  });
}
