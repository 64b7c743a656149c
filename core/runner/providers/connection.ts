// What every provider client is built from, and the settings they share (docs/runner.md,
// "Providers"): no retries of the SDK's own, Keel's deadline instead of the SDK's, nothing read
// from the environment.
import { providerFetch } from "./transport";

export interface Connection {
  readonly baseUrl: string | null;
  readonly apiKey: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /** Azure OpenAI (`azure_openai`): `baseUrl` is the resource's endpoint. */
  readonly azure?: { readonly apiVersion: string };
}

/** Settings common to the `openai` and `@anthropic-ai/sdk` clients. */
export function clientSettings(c: Connection, defaultBaseUrl: string) {
  return {
    // Keel's transport (transport.ts); what it hands over goes to Node's fetch, whose agent is
    // looked up only then.
    fetch: providerFetch(unlimitedFetch),
    // A keyless OpenAI-compatible server (Ollama, vLLM) still gets a placeholder key.
    apiKey: c.apiKey ?? "keel-no-key",
    baseURL: c.baseUrl ?? defaultBaseUrl,
    maxRetries: 0,
    // Keel's own deadline covers the whole call; the SDK's timeout stops at the headers.
    timeout: 24 * 60 * 60 * 1000,
    defaultHeaders: { ...c.headers },
    logLevel: "off" as const,
  };
}

/** One client per connection, built on first use, blind to the SDKs' environment variables. */
export function clientCache<T>(make: (c: Connection) => T): (c: Connection) => Promise<T> {
  const clients = new Map<string, T>();
  return async (c) => {
    const key = JSON.stringify([c.baseUrl, c.apiKey, c.headers, c.azure]);
    let found = clients.get(key);
    if (!found) {
      found = withoutProviderEnv(() => make(c));
      clients.set(key, found);
    }
    return found;
  };
}

/**
 * Node's fetch with an agent of its own kind without idle limits (`unlimitedDispatcher`): fetch's
 * own limits would end a slow reply first, as a dropped connection. When fetch's agent was
 * replaced (a proxy's), every request goes through that one.
 */
async function unlimitedFetch(
  input: string | URL | Request,
  init?: RequestInit,
): Promise<Response> {
  const dispatcher = await unlimitedDispatcher();
  return fetch(input, dispatcher ? ({ ...init, dispatcher } as RequestInit) : init);
}

/** Where fetch keeps its dispatcher, shared by Node's built-in undici and the undici package. */
const GLOBAL_DISPATCHER = Symbol.for("undici.globalDispatcher.1");

let unlimited: Promise<object | undefined> | undefined;

/**
 * An agent of fetch's own kind without its idle limits. fetch's default agent gives up after 5
 * minutes without headers, or without a byte of the body, and reports it as a failed fetch (a
 * `server_error`, whatever the step's timeout says); with this agent, the attempt's timeout is
 * the one deadline (docs/runner.md). Undefined when fetch's agent was replaced by one of another
 * kind (a proxy's): its own limits then apply, and `isIdleTimeout` still calls them timeouts.
 */
export function unlimitedDispatcher(): Promise<object | undefined> {
  return (unlimited ??= (async () => {
    const g = globalThis as unknown as Record<symbol, unknown>;
    // fetch creates its agent on first use; a data: URL needs no network.
    if (g[GLOBAL_DISPATCHER] === undefined) await fetch("data:,");
    const agent = g[GLOBAL_DISPATCHER] as { constructor?: new (o: object) => object } | undefined;
    const Agent = agent?.constructor;
    if (!Agent || Agent.name !== "Agent") return undefined;
    return new Agent({ headersTimeout: 0, bodyTimeout: 0 });
  })());
}

/** True when `e` (or what caused it) is fetch giving up on a silent server by itself. */
export function isIdleTimeout(e: unknown): boolean {
  for (let x = e, depth = 0; x && depth < 5; x = (x as { cause?: unknown }).cause, depth++) {
    const code = (x as { code?: unknown }).code;
    if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") return true;
  }
  return false;
}

/**
 * Runs `fn` with every OPENAI_*, AZURE_OPENAI_* and ANTHROPIC_* variable hidden. The SDKs read some of them
 * (custom headers, log level, organisation) when a client is built, even when everything is
 * passed explicitly; a workflow's requests must depend on the workflow only.
 */
function withoutProviderEnv<T>(fn: () => T): T {
  const hidden: [string, string][] = [];
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && /^(OPENAI|ANTHROPIC|AZURE_OPENAI)_/.test(name)) {
      hidden.push([name, value]);
      delete process.env[name];
    }
  }
  try {
    return fn();
  } finally {
    for (const [name, value] of hidden) process.env[name] = value;
  }
}
