// Navigation over the protocol, on the built server: go to definition (steps, inputs, providers,
// a tool's module, a workflow step's child file), find references, document highlights, rename (with its refusals) and the
// document outline, on the samples and on a broken file.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { TextDocument } from "vscode-languageserver-textdocument";
import { sample, TestClient, type Range } from "./client";

let client: TestClient;
const rag = sample("rag-answer.keel.yaml");
const triage = sample("support-triage.keel.yaml");

before(async () => {
  client = await TestClient.start();
  await client.open(rag.uri, rag.text);
  await client.open(triage.uri, triage.text);
});
after(() => client.stop());

interface Location {
  uri: string;
  range: Range;
}
const line = (uri: string, l: number) => client.documents.get(uri)!.getText().split("\n")[l]!;

test("definition jumps from needs, expressions and outputs to the step's key", async () => {
  const fromNeeds = await client.request<Location>("textDocument/definition", {
    textDocument: { uri: rag.uri },
    position: client.at(rag.uri, "needs: [found_articles]", 10),
  });
  assert.equal(client.textOf(rag.uri, fromNeeds.range), "found_articles");
  assert.match(line(rag.uri, fromNeeds.range.start.line), /^ {2}found_articles:$/);

  const fromExpr = await client.request<Location>("textDocument/definition", {
    textDocument: { uri: rag.uri },
    position: client.at(rag.uri, "steps.policy.output.id }}", 7),
  });
  assert.match(line(rag.uri, fromExpr.range.start.line), /^ {2}policy:$/);

  const fromOutputs = await client.request<Location>("textDocument/definition", {
    textDocument: { uri: rag.uri },
    position: client.at(rag.uri, "kb_version: steps.search", 18),
  });
  assert.match(line(rag.uri, fromOutputs.range.start.line), /^ {2}search:$/);
});

test("definition jumps from inputs.x and from a provider id to their declarations", async () => {
  const input = await client.request<Location>("textDocument/definition", {
    textDocument: { uri: rag.uri },
    position: client.at(rag.uri, "inputs.top_k", 8),
  });
  assert.equal(client.textOf(rag.uri, input.range), "top_k");
  assert.match(line(rag.uri, input.range.start.line), /^ {2}top_k:$/);

  const provider = await client.request<Location>("textDocument/definition", {
    textDocument: { uri: rag.uri },
    position: client.at(rag.uri, "provider: answer-model", 12),
  });
  assert.match(line(rag.uri, provider.range.start.line), /^ {2}answer-model:$/);
});

test("definition on a tool's uses: opens the module at the exporting statement", async () => {
  const loc = await client.request<Location>("textDocument/definition", {
    textDocument: { uri: rag.uri },
    position: client.at(rag.uri, "kb.js#fetchPolicy", 2),
  });
  assert.ok(loc.uri.endsWith("/samples/tools/kb.js"), loc.uri);
  const module = sample("tools/kb.js").text.split("\n");
  assert.match(module[loc.range.start.line]!, /fetchPolicy/);
});

test("references list every mention of a step, with or without its declaration", async () => {
  const position = client.at(rag.uri, "steps.search.output.version", 8);
  const withDecl = await client.request<Location[]>("textDocument/references", {
    textDocument: { uri: rag.uri },
    position,
    context: { includeDeclaration: true },
  });
  const mentions = rag.text.match(/steps\.search\b/g)!.length;
  assert.equal(withDecl.length, mentions + 1);
  for (const l of withDecl) assert.equal(client.textOf(rag.uri, l.range), "search");
  const without = await client.request<Location[]>("textDocument/references", {
    textDocument: { uri: rag.uri },
    position,
    context: { includeDeclaration: false },
  });
  assert.equal(without.length, mentions);
});

test("highlights mark the declaration as a write and references as reads", async () => {
  const hs = await client.request<{ range: Range; kind: number }[]>(
    "textDocument/documentHighlight",
    { textDocument: { uri: triage.uri }, position: client.at(triage.uri, "customer_name:", 2) },
  );
  assert.deepEqual(
    hs.map((h) => [client.textOf(triage.uri, h.range), h.kind]),
    [
      ["customer_name", 3],
      ["customer_name", 2],
    ],
  );
});

test("rename changes a step id everywhere, and the result validates clean", async () => {
  const position = client.at(rag.uri, "  search:", 3);
  const prepared = await client.request<{ range: Range; placeholder: string }>(
    "textDocument/prepareRename",
    { textDocument: { uri: rag.uri }, position },
  );
  assert.equal(prepared.placeholder, "search");
  const edit = await client.request<{
    changes: Record<string, { range: Range; newText: string }[]>;
  }>("textDocument/rename", { textDocument: { uri: rag.uri }, position, newName: "lookup" });
  const edits = edit.changes[rag.uri]!;
  const renamed = TextDocument.applyEdits(client.documents.get(rag.uri)!, edits);
  assert.equal(renamed.match(/steps\.search\b/g), null);
  assert.equal(
    renamed.match(/steps\.lookup\b/g)!.length,
    rag.text.match(/steps\.search\b/g)!.length,
  );
  const uri = rag.uri.replace("rag-answer", "rag-renamed");
  await client.open(uri, renamed);
  assert.deepEqual(await client.diagnostics(uri, 1), []);
  await client.close(uri);
});

test("rename of an input and of a provider reaches expressions and defaults", async () => {
  const input = await client.request<{ changes: Record<string, { newText: string }[]> }>(
    "textDocument/rename",
    {
      textDocument: { uri: triage.uri },
      position: client.at(triage.uri, "inputs.ticket", 8),
      newName: "message",
    },
  );
  assert.equal(
    input.changes[triage.uri]!.length,
    1 + triage.text.match(/inputs\.ticket\b/g)!.length,
  );
  const provider = await client.request<{ changes: Record<string, { range: Range }[]> }>(
    "textDocument/rename",
    {
      textDocument: { uri: triage.uri },
      position: client.at(triage.uri, "  support-model:", 3),
      newName: "helpdesk",
    },
  );
  const lines = provider.changes[triage.uri]!.map((e) =>
    line(triage.uri, e.range.start.line).trim(),
  );
  assert.deepEqual(lines, ["support-model:", "provider: support-model"]);
});

test("rename refuses a clash, an invalid id, and a place that names nothing", async () => {
  const position = client.at(rag.uri, "steps.search.output.version", 8);
  await assert.rejects(
    client.request("textDocument/rename", {
      textDocument: { uri: rag.uri },
      position,
      newName: "policy",
    }),
    /A step named 'policy' already exists/,
  );
  await assert.rejects(
    client.request("textDocument/rename", {
      textDocument: { uri: rag.uri },
      position,
      newName: "Bad-Name",
    }),
    /not a valid step name/,
  );
  await assert.rejects(
    client.request("textDocument/prepareRename", {
      textDocument: { uri: rag.uri },
      position: client.at(rag.uri, "type: tool"),
    }),
    /Only a step id, an input or a provider can be renamed/,
  );
});

test("the outline lists inputs, providers, steps with their types, and outputs", async () => {
  const symbols = await client.request<
    { name: string; children: { name: string; detail?: string }[] }[]
  >("textDocument/documentSymbol", { textDocument: { uri: triage.uri } });
  assert.deepEqual(
    symbols.map((s) => [
      s.name,
      s.children.map((c) => (c.detail ? `${c.name}: ${c.detail}` : c.name)),
    ]),
    [
      ["inputs", ["ticket: string", "customer_name: string"]],
      ["providers", ["support-model: scripted"]],
      [
        "steps",
        [
          "classify: llm",
          "confidence_gate: assert",
          "draft_reply: llm",
          "ticket_update: transform",
          "escalate: transform",
        ],
      ],
      ["outputs", ["category", "confidence", "ticket_update"]],
    ],
  );
});

test("navigation keeps working in a file with errors", async () => {
  const uri = "file:///tmp/keel-nav/broken.keel.yaml";
  const text = [
    "keel: 1",
    "name: broken",
    "steps:",
    "  fetch:",
    "    type: http",
    "    url: [unclosed",
    "  use:",
    "    type: transform",
    "    needs: [fetch, nope]",
    "    expr: steps.fetch.output.body + $undefined(1)",
    "",
  ].join("\n");
  await client.open(uri, text);
  const loc = await client.request<Location>("textDocument/definition", {
    textDocument: { uri },
    position: client.at(uri, "steps.fetch", 7),
  });
  assert.equal(loc.range.start.line, 3);
  const unknown = await client.request<Location | null>("textDocument/definition", {
    textDocument: { uri },
    position: client.at(uri, "nope", 1),
  });
  assert.equal(unknown, null);
  await client.close(uri);
});

test("definition on a workflow step's uses: opens the child file; nothing for a child that does not exist", async () => {
  const dir = mkdtempSync(join(tmpdir(), "keel-nav-"));
  mkdirSync(join(dir, "flows"));
  writeFileSync(
    join(dir, "flows/child.keel.yaml"),
    "keel: 1\nname: child\nsteps:\n  a: { type: transform, expr: 1 }\n",
  );
  const uri = pathToFileURL(join(dir, "parent.keel.yaml")).href;
  const text = [
    "keel: 1",
    "name: parent",
    "steps:",
    "  child: { type: workflow, uses: ./flows/child.keel.yaml }",
    "  gone: { type: workflow, uses: ./flows/gone.keel.yaml }",
    "",
  ].join("\n");
  await client.open(uri, text);
  const loc = await client.request<Location>("textDocument/definition", {
    textDocument: { uri },
    position: client.at(uri, "./flows/child", 4),
  });
  assert.equal(loc.uri, pathToFileURL(join(dir, "flows/child.keel.yaml")).href);
  assert.deepEqual(loc.range.start, { line: 0, character: 0 });
  const gone = await client.request<Location | null>("textDocument/definition", {
    textDocument: { uri },
    position: client.at(uri, "./flows/gone", 4),
  });
  assert.equal(gone, null);
  await client.close(uri);
});
