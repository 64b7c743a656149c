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

/** One client per connection, built on first use. */
export function clientCache<T>(make: (c: Connection) => T): (c: Connection) => T {
  const clients = new Map<string, T>();
  return (c) => {
    const key = JSON.stringify([c.baseUrl, c.apiKey, c.headers]);
    let found = clients.get(key);
    if (!found) {
      found = make(c);
      clients.set(key, found);
    }
    return found;
  };
}
