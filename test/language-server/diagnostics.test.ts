// Diagnostics over the protocol, on the built server (dist/server.js): incremental edits, the
// debounce and the version check, severity settings (client and `.keel/settings.json`), tool
// modules and child workflows edited in the editor or on disk, closing, and the IPC transport the extension uses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { validate } from "@keel/core/index";
import { TestClient } from "./client";

const flow = "keel: 1\nname: t\nsteps:\n  a:\n    type: transform\n    expr: steps.b.output\n";
const uri = "file:///tmp/keel-lsp-test/flow.keel.yaml";

test("open and incremental change publish diagnostics for the current version", async () => {
  const client = await TestClient.start();
  try {
    await client.open(uri, flow);
    const first = await client.diagnostics(uri, 1);
    assert.deepEqual(
      first.map((d) => [d.code, d.range.start, d.message]),
      [["KEEL201", { line: 5, character: 16 }, "unknown step 'b'"]],
    );
    // Rename the reference to `a`'s own id: now a self-dependency.
    const v2 = await client.change(uri, [
      { range: { start: { line: 5, character: 16 }, end: { line: 5, character: 17 } }, text: "a" },
    ]);
    assert.deepEqual(
      (await client.diagnostics(uri, v2)).map((d) => [d.code, d.message]),
      [["KEEL204", "step 'a' depends on itself"]],
    );
  } finally {
    await client.stop();
  }
});

test("a burst of edits never publishes an older version after a newer one", async () => {
  const client = await TestClient.start();
  try {
    await client.open(uri, flow);
    let version = 1;
    for (let i = 0; i < 30; i++) {
      // Type and delete characters inside the expression, without waiting for answers.
      const at = { line: 5, character: 12 + (i % 5) };
      version = await client.change(uri, [
        i % 2 === 0
          ? { range: { start: at, end: at }, text: "x" }
          : { range: { start: at, end: { ...at, character: at.character + 1 } }, text: "" },
      ]);
    }
    const last = await client.diagnostics(uri, version);
    const versions = client.published.filter((p) => p.uri === uri).map((p) => p.version!);
    assert.deepEqual(
      versions,
      [...versions].sort((a, b) => a - b),
    );
    assert.equal(new Set(versions).size, versions.length);
    const expected = validate(client.documents.get(uri)!.getText()).diagnostics;
    assert.deepEqual(
      last.map((d) => d.code),
      expected.map((d) => d.code),
    );
  } finally {
    await client.stop();
  }
});

test("with a debounce, only the version after the last edit of a burst is published", async () => {
  const client = await TestClient.start({ initializationOptions: { debounceMs: 300 } });
  try {
    await client.open(uri, flow);
    let version = 1;
    for (let i = 0; i < 5; i++) {
      const at = { line: 1, character: 7 + i };
      version = await client.change(uri, [{ range: { start: at, end: at }, text: "x" }]);
    }
    await client.diagnostics(uri, version);
    assert.deepEqual(
      client.published.filter((p) => p.uri === uri).map((p) => p.version),
      [version],
    );
  } finally {
    await client.stop();
  }
});

test("severity settings from the client and from .keel/settings.json change or drop codes", async () => {
  const root = mkdtempSync(join(tmpdir(), "keel-lsp-"));
  mkdirSync(join(root, ".keel"));
  writeFileSync(
    join(root, ".keel", "settings.json"),
    JSON.stringify({ severity: { cycle: "hint" } }),
  );
  const file = pathToFileURL(join(root, "w.keel.yaml")).href;
  const text =
    flow.replace("steps.b.output", "steps.b.output & steps.a.output") + "    needs: [a, a]\n";
  const client = await TestClient.start({
    initializationOptions: {
      debounceMs: 0,
      severity: { KEEL201: "warning", "redundant-need": "off" },
    },
  });
  try {
    await client.open(file, text);
    const got = await client.diagnostics(file, 1);
    assert.deepEqual(
      got.map((d) => [d.code, d.severity]),
      [
        ["KEEL204", 4],
        ["KEEL201", 2],
      ],
    );
    const before = client.published.length;
    await client.connection.sendNotification("workspace/didChangeConfiguration", {
      settings: { keel: { severity: { KEEL201: "off" } } },
    });
    const again = await client.waitFor((p) => p.uri === file, 5000, before);
    assert.deepEqual(
      again.diagnostics.map((d) => [d.code, d.severity]),
      [
        ["KEEL204", 4],
        ["KEEL211", 2],
      ],
    );
  } finally {
    await client.stop();
  }
});

/**
 * A workflow (`text`) that reads another file (`used`, holding `broken` on disk) reports `code`;
 * opening `used` with `fixed` clears it, closing it brings it back, writing `fixed` to disk (and
 * the client's file-watch notice) clears it again.
 */
async function followsUsedFile(o: {
  text: string;
  used: string;
  broken: string;
  fixed: string;
  languageId: string;
  code: string;
}): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "keel-lsp-"));
  const usedPath = join(root, o.used);
  writeFileSync(usedPath, o.broken);
  const file = pathToFileURL(join(root, "w.keel.yaml")).href;
  const usedUri = pathToFileURL(usedPath).href;
  const client = await TestClient.start();
  try {
    await client.open(file, o.text);
    assert.deepEqual(
      (await client.diagnostics(file, 1)).map((d) => d.code),
      [o.code],
    );

    let before = client.published.length;
    await client.open(usedUri, o.fixed, o.languageId);
    const fixed = await client.waitFor((p) => p.uri === file, 5000, before);
    assert.deepEqual(fixed.diagnostics, []);

    // Closing the file falls back to the one on disk, which is still broken.
    before = client.published.length;
    await client.close(usedUri);
    const reverted = await client.waitFor((p) => p.uri === file, 5000, before);
    assert.deepEqual(
      reverted.diagnostics.map((d) => d.code),
      [o.code],
    );

    before = client.published.length;
    writeFileSync(usedPath, o.fixed);
    await client.connection.sendNotification("workspace/didChangeWatchedFiles", {
      changes: [{ uri: usedUri, type: 2 }],
    });
    const onDisk = await client.waitFor((p) => p.uri === file, 5000, before);
    assert.deepEqual(onDisk.diagnostics, []);
  } finally {
    await client.stop();
  }
}

test("a tool module edited in the editor or on disk re-validates the workflows using it", async () => {
  await followsUsedFile({
    text: "keel: 1\nname: t\nsteps:\n  a:\n    type: tool\n    uses: ./tool.js#second\n",
    used: "tool.js",
    broken: "exports.first = () => 1;\n",
    fixed: "exports.first = () => 1;\nexports.second = () => 2;\n",
    languageId: "javascript",
    code: "KEEL502",
  });
});

test("a child workflow edited in the editor or on disk re-validates the workflows using it", async () => {
  const child = (input: string) =>
    `keel: 1\nname: c\ninputs:\n  ${input}: { type: string, default: x }\nsteps:\n  a: { type: transform, expr: 1 }\n`;
  await followsUsedFile({
    text: "keel: 1\nname: p\nsteps:\n  c:\n    type: workflow\n    uses: ./child.keel.yaml\n    with: { subject: y }\n",
    used: "child.keel.yaml",
    broken: child("topic"),
    fixed: child("subject"),
    languageId: "keel",
    code: "KEEL604",
  });
});

test("closing a workflow clears its diagnostics", async () => {
  const client = await TestClient.start();
  try {
    await client.open(uri, flow);
    await client.diagnostics(uri, 1);
    const before = client.published.length;
    await client.close(uri);
    const cleared = await client.waitFor((p) => p.uri === uri, 5000, before);
    assert.deepEqual(cleared.diagnostics, []);
  } finally {
    await client.stop();
  }
});

test("the server speaks over IPC as well as stdio", async () => {
  const client = await TestClient.start({ transport: "ipc" });
  try {
    await client.open(uri, flow);
    assert.deepEqual(
      (await client.diagnostics(uri, 1)).map((d) => d.code),
      ["KEEL201"],
    );
  } finally {
    await client.stop();
  }
});
