// A real LSP client for the tests: starts the built server (dist/server.js) over stdio or IPC,
// speaks JSON-RPC with vscode-jsonrpc, keeps its own copy of each document (so tests know the
// text every published version had) and collects published diagnostics.
import { fork, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  createMessageConnection,
  IPCMessageReader,
  IPCMessageWriter,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from "vscode-jsonrpc/node";
import { TextDocument } from "vscode-languageserver-textdocument";

export interface Position {
  line: number;
  character: number;
}
export interface Range {
  start: Position;
  end: Position;
}
export interface LspDiagnostic {
  range: Range;
  code: string;
  message: string;
  severity: number;
}
export interface Published {
  uri: string;
  version?: number;
  diagnostics: LspDiagnostic[];
}
export interface Change {
  range?: Range;
  text: string;
}

export interface ClientOptions {
  transport?: "stdio" | "ipc";
  initializationOptions?: unknown;
  capabilities?: Record<string, unknown>;
  /** Folders (paths) sent as the workspace's `workspaceFolders`. */
  workspaceFolders?: readonly string[];
  /** Registers handlers (e.g. `keel/lastRun`) before the connection starts listening. */
  setup?: (connection: MessageConnection) => void;
}

/** What the tests read of a completion item, a hover and a location. */
export interface Item {
  label: string;
  detail?: string;
  documentation?: { value: string };
  textEdit: { newText: string };
}
export interface Hover {
  contents: { value: string };
}
export interface Location {
  uri: string;
  range: Range;
}

export class TestClient {
  readonly documents = new Map<string, TextDocument>();
  readonly published: Published[] = [];
  private waiters: (() => void)[] = [];

  private constructor(
    readonly connection: MessageConnection,
    readonly server: ChildProcess,
  ) {}

  static async start(options: ClientOptions = {}): Promise<TestClient> {
    const server =
      options.transport === "ipc"
        ? fork("dist/server.js", ["--node-ipc"], { stdio: ["pipe", "pipe", "inherit", "ipc"] })
        : spawn(process.execPath, ["dist/server.js", "--stdio"], {
            stdio: ["pipe", "pipe", "inherit"],
          });
    const connection =
      options.transport === "ipc"
        ? createMessageConnection(new IPCMessageReader(server), new IPCMessageWriter(server))
        : createMessageConnection(
            new StreamMessageReader(server.stdout!),
            new StreamMessageWriter(server.stdin!),
          );
    const client = new TestClient(connection, server);
    connection.onNotification("textDocument/publishDiagnostics", (p: Published) => {
      client.published.push(p);
      for (const w of client.waiters.splice(0)) w();
    });
    connection.onNotification("window/logMessage", () => {});
    options.setup?.(connection);
    connection.listen();
    await connection.sendRequest("initialize", {
      processId: process.pid,
      rootUri: null,
      workspaceFolders:
        options.workspaceFolders?.map((path) => ({ uri: pathToFileURL(path).href, name: path })) ??
        null,
      capabilities: options.capabilities ?? {},
      initializationOptions: options.initializationOptions ?? { debounceMs: 0 },
    });
    await connection.sendNotification("initialized", {});
    return client;
  }

  async open(uri: string, text: string, languageId = "keel"): Promise<void> {
    this.documents.set(uri, TextDocument.create(uri, languageId, 1, text));
    await this.connection.sendNotification("textDocument/didOpen", {
      textDocument: { uri, languageId, version: 1, text },
    });
  }

  /** Sends incremental changes; returns the new version. */
  async change(uri: string, changes: Change[]): Promise<number> {
    const doc = this.documents.get(uri)!;
    const version = doc.version + 1;
    TextDocument.update(doc, changes as never, version);
    await this.connection.sendNotification("textDocument/didChange", {
      textDocument: { uri, version },
      contentChanges: changes,
    });
    return version;
  }

  async close(uri: string): Promise<void> {
    this.documents.delete(uri);
    await this.connection.sendNotification("textDocument/didClose", { textDocument: { uri } });
  }

  /** The diagnostics published for `version` (waits until they are). */
  async diagnostics(uri: string, version: number, timeoutMs = 5000): Promise<LspDiagnostic[]> {
    const hit = await this.waitFor((p) => p.uri === uri && p.version === version, timeoutMs);
    return hit.diagnostics;
  }

  /** The first publication (from index `from` of `published`) that satisfies `match`. */
  async waitFor(match: (p: Published) => boolean, timeoutMs = 5000, from = 0): Promise<Published> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.published.slice(from).find(match);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no matching diagnostics were published");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Replaces `find` in `base` (the document's text) with `replace`, holding the cursor as `‸`,
   * completes there once the edit is analysed, and puts `base` back.
   */
  async completeIn<I>(uri: string, base: string, find: string, replace: string): Promise<I[]> {
    const text = base.replace(find, replace.replace("‸", ""));
    if (text === base) throw new Error(`'${find}' not found`);
    const version = await this.change(uri, [{ text }]);
    await this.diagnostics(uri, version);
    const offset = base.indexOf(find) + replace.indexOf("‸");
    const position = this.documents.get(uri)!.positionAt(offset);
    const items = await this.request<I[]>("textDocument/completion", {
      textDocument: { uri },
      position,
    });
    await this.change(uri, [{ text: base }]);
    return items;
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.connection.sendRequest(method, params) as Promise<R>;
  }

  /** The position of the `nth` occurrence of `needle` in the document, plus `delta` characters. */
  at(uri: string, needle: string, delta = 0, nth = 0): Position {
    const doc = this.documents.get(uri)!;
    const text = doc.getText();
    let i = -1;
    for (let k = 0; k <= nth; k++) {
      i = text.indexOf(needle, i + 1);
      if (i < 0) throw new Error(`'${needle}' not found`);
    }
    return doc.positionAt(i + delta);
  }

  /** Hover or go to definition at the `nth` occurrence of `needle` in `uri`, plus `delta`. */
  ask<R>(what: "hover" | "definition", uri: string, needle: string, delta: number, nth = 0) {
    return this.request<R | null>(`textDocument/${what}`, {
      textDocument: { uri },
      position: this.at(uri, needle, delta, nth),
    });
  }

  /** The text a range covers in the client's copy of the document. */
  textOf(uri: string, range: Range): string {
    return this.documents.get(uri)!.getText(range);
  }

  async stop(): Promise<void> {
    try {
      await this.connection.sendRequest("shutdown");
      await this.connection.sendNotification("exit");
    } finally {
      this.connection.dispose();
      this.server.kill();
    }
  }
}

/** A sample workflow's URI (a real file, so tool modules resolve) and text. */
export function sample(name: string): { uri: string; text: string } {
  const path = resolve("samples", name);
  return { uri: pathToFileURL(path).href, text: readFileSync(path, "utf8") };
}

/** The labels of completion items, in order. */
export const labels = (items: Item[]) => items.map((i) => i.label);

export interface OpenFolder {
  readonly client: TestClient;
  readonly dir: string;
  /** The URI of the document opened. */
  readonly uri: string;
  /** Stops the server and removes the folder. */
  close(): Promise<void>;
}

/**
 * A throw-away folder holding `files` (paths relative to it, parent folders made), a server
 * started with it as the workspace folder, and the file `open` opened with its text.
 */
export async function openFolder(
  prefix: string,
  files: Record<string, string>,
  open: string,
): Promise<OpenFolder> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const uri = pathToFileURL(join(dir, open)).href;
  const client = await TestClient.start({ workspaceFolders: [dir] });
  await client.open(uri, files[open]!);
  return {
    client,
    dir,
    uri,
    async close() {
      await client.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
