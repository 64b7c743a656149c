// The built language server (dist/server.js) over stdio, driven by a real JSON-RPC client:
// opening and editing a workflow publishes the core's diagnostics with LSP ranges.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from "vscode-jsonrpc/node";

interface Published {
  uri: string;
  version?: number;
  diagnostics: {
    range: { start: { line: number; character: number } };
    code: string;
    message: string;
  }[];
}

test("open and incremental change publish diagnostics for the current version", async () => {
  const server = spawn(process.execPath, ["dist/server.js", "--stdio"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const connection = createMessageConnection(
    new StreamMessageReader(server.stdout),
    new StreamMessageWriter(server.stdin),
  );
  const published: Published[] = [];
  let notify: (() => void) | undefined;
  connection.onNotification("textDocument/publishDiagnostics", (p: Published) => {
    published.push(p);
    notify?.();
  });
  connection.listen();
  const next = (version: number) =>
    new Promise<Published>((resolve) => {
      const check = () => {
        const hit = published.find((p) => p.version === version);
        if (hit) resolve(hit);
      };
      notify = check;
      check();
    });
  try {
    await connection.sendRequest("initialize", {
      processId: null,
      rootUri: null,
      capabilities: {},
    });
    await connection.sendNotification("initialized", {});
    const uri = "file:///tmp/keel-lsp-test/flow.keel.yaml";
    const text = "keel: 1\nname: t\nsteps:\n  a:\n    type: transform\n    expr: steps.b.output\n";
    await connection.sendNotification("textDocument/didOpen", {
      textDocument: { uri, languageId: "keel", version: 1, text },
    });
    const first = await next(1);
    assert.deepEqual(
      first.diagnostics.map((d) => [d.code, d.range.start, d.message]),
      [["KEEL201", { line: 5, character: 16 }, "unknown step 'b'"]],
    );
    // Rename the reference to `a`'s own id: now a self-dependency.
    await connection.sendNotification("textDocument/didChange", {
      textDocument: { uri, version: 2 },
      contentChanges: [
        {
          range: { start: { line: 5, character: 16 }, end: { line: 5, character: 17 } },
          text: "a",
        },
      ],
    });
    const second = await next(2);
    assert.deepEqual(
      second.diagnostics.map((d) => [d.code, d.message]),
      [["KEEL204", "step 'a' depends on itself"]],
    );
    await connection.sendRequest("shutdown");
    await connection.sendNotification("exit");
  } finally {
    connection.dispose();
    server.kill();
  }
});
