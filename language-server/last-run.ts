// Asks the client for the newest recorded run of a workflow (`keel/lastRun`), for hover and code
// lenses. Answers are cached per document until the client says a run finished. A client without
// a handler is asked once; one that does not answer in time counts as "no run".
import { ErrorCodes, ResponseError, type Connection } from "vscode-languageserver";
import { lastRunRequest, type LastRun } from "@keel/core/protocol/lsp";

const TIMEOUT_MS = 500;

export class LastRuns {
  private supported = true;
  private readonly cache = new Map<string, Promise<LastRun | null>>();

  constructor(private readonly connection: Connection) {}

  get(uri: string): Promise<LastRun | null> {
    if (!this.supported) return Promise.resolve(null);
    let hit = this.cache.get(uri);
    if (!hit) {
      hit = this.ask(uri);
      this.cache.set(uri, hit);
    }
    return hit;
  }

  /** Forgets cached answers: of one document, or all. */
  forget(uri?: string): void {
    if (uri === undefined) this.cache.clear();
    else this.cache.delete(uri);
  }

  private async ask(uri: string): Promise<LastRun | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), TIMEOUT_MS);
    });
    try {
      const answer = await Promise.race([
        this.connection.sendRequest(lastRunRequest.method, { uri }),
        timeout,
      ]);
      if (answer === undefined) return null;
      const parsed = lastRunRequest.result.safeParse(answer);
      if (parsed.success) return parsed.data;
      this.connection.console.warn(
        `keel/lastRun: ignored a malformed answer: ${parsed.error.message}`,
      );
      return null;
    } catch (e) {
      if (e instanceof ResponseError && e.code === ErrorCodes.MethodNotFound)
        this.supported = false;
      else this.connection.console.warn(`keel/lastRun failed: ${String(e)}`);
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}
