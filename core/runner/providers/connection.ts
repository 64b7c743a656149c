// What every provider client is built from, and the settings they share (DECISIONS §2): no
// retries of the SDK's own, Keel's deadline instead of the SDK's, nothing read from the environment.

export interface Connection {
  readonly baseUrl: string | null;
  readonly apiKey: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
}

/** Settings common to the `openai` and `@anthropic-ai/sdk` clients. */
export function clientSettings(c: Connection, defaultBaseUrl: string) {
  return {
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
export function clientCache<T>(make: (c: Connection) => T): (c: Connection) => T {
  const clients = new Map<string, T>();
  return (c) => {
    const key = JSON.stringify([c.baseUrl, c.apiKey, c.headers]);
    let found = clients.get(key);
    if (!found) {
      found = withoutProviderEnv(() => make(c));
      clients.set(key, found);
    }
    return found;
  };
}

/**
 * Runs `fn` with every OPENAI_* and ANTHROPIC_* variable hidden. The SDKs read some of them
 * (custom headers, log level, organisation) when a client is built, even when everything is
 * passed explicitly; a workflow's requests must depend on the workflow only.
 */
function withoutProviderEnv<T>(fn: () => T): T {
  const hidden: [string, string][] = [];
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && /^(OPENAI|ANTHROPIC)_/.test(name)) {
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
