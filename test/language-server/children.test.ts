// Child workflows over the protocol, on the built server: completion, hover and go to definition
// reach into the file a workflow step's `uses:` names, and references of a child file list its
// callers in the workspace, open in the editor or not; a `uses:` to a missing file gives nothing.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  labels,
  openFolder,
  type Hover,
  type Item,
  type Location,
  type OpenFolder,
  type Range,
  type TestClient,
} from "./client";

const CHILD = [
  "keel: 1",
  "name: summarize",
  "description: Cuts a text short.",
  "inputs:",
  "  text: { type: string, description: The text to cut. }",
  "  limit: { type: number, default: 3 }",
  "  tone: { type: string }",
  "steps:",
  "  cut:",
  "    type: transform",
  "    expr: $substring(inputs.text, 0, inputs.limit)",
  "outputs:",
  "  summary: steps.cut.output",
  "  size: $length(steps.cut.output)",
  "",
].join("\n");

const PARENT = [
  "keel: 1",
  "name: parent",
  "inputs:",
  "  doc: { type: string }",
  "steps:",
  "  sum:",
  "    type: workflow",
  "    uses: ./flows/child.keel.yaml",
  "    with:",
  "      text: ${{ inputs.doc }}",
  "      tone: dry",
  "  each:",
  "    type: workflow",
  "    uses: ./flows/child.keel.yaml",
  "    for_each: '[1, 2]'",
  "    with: { text: x, tone: y }",
  "  after:",
  "    type: transform",
  "    expr: steps.sum.output.summary",
  "  gone:",
  "    type: workflow",
  "    uses: ./flows/gone.keel.yaml",
  "    with:",
  "      text: x",
  "  late:",
  "    type: transform",
  "    expr: steps.gone.output.summary",
  "",
].join("\n");

/** Not opened in the editor: found by the server's search of the workspace folder. */
const OTHER = [
  "keel: 1",
  "name: other",
  "steps:",
  "  again:",
  "    type: workflow",
  "    uses: ./flows/child.keel.yaml",
  "    with:",
  "      text: hello",
  "      tone: warm",
  "      limit: 5",
  "  read:",
  "    type: transform",
  "    expr: steps.again.output.size",
  "",
].join("\n");

let folder: OpenFolder;
let client: TestClient;
let dir: string;
let parent: string;
let child: string;
let other: string;

before(async () => {
  folder = await openFolder(
    "keel-children-",
    { "flows/child.keel.yaml": CHILD, "parent.keel.yaml": PARENT, "other.keel.yaml": OTHER },
    "parent.keel.yaml",
  );
  ({ client, dir, uri: parent } = folder);
  child = pathToFileURL(join(dir, "flows/child.keel.yaml")).href;
  other = pathToFileURL(join(dir, "other.keel.yaml")).href;
  await client.diagnostics(parent, 1);
});
after(() => folder.close());

/** Replaces `find` in the parent with `replace` (holding the cursor as `‸`) and completes there. */
const completeAt = (find: string, replace: string) =>
  client.completeIn<Item>(parent, PARENT, find, replace);
/** A hover or definition in the parent, at the `nth` `needle` plus `delta` characters. */
const ask = <R>(what: "hover" | "definition", needle: string, delta: number, nth = 0) =>
  client.ask<R>(what, parent, needle, delta, nth);
const lineOf = (text: string, l: number) => text.split("\n")[l]!;

test("under with: completion offers the child's inputs not given yet, required ones first", async () => {
  const items = await completeAt("      tone: dry\n", "      ‸\n");
  assert.deepEqual(labels(items), ["tone", "limit"]);
  assert.equal(items[0]!.detail, "string · required");
  assert.equal(items[1]!.detail, "number · default `3`");
  assert.equal(items[0]!.textEdit.newText, "tone: ");
  const all = await completeAt("      text: ${{ inputs.doc }}\n      tone: dry\n", "      te‸\n");
  assert.deepEqual(labels(all), ["text", "tone", "limit"]);
  assert.equal(all[0]!.documentation?.value, "The text to cut.");
});

test("after steps.<workflow step>.output. completion offers the child's outputs, for a map of it too", async () => {
  const items = await completeAt("steps.sum.output.summary", "steps.sum.output.‸");
  assert.deepEqual(labels(items), ["summary", "size"]);
  assert.equal(items[0]!.detail, "steps.cut.output");
  const map = await completeAt("steps.sum.output.summary", "steps.each.output.‸");
  assert.deepEqual(labels(map), ["summary", "size"]);
  const missing = await completeAt("steps.gone.output.summary", "steps.gone.output.‸");
  assert.deepEqual(labels(missing), []);
});

test("hover on uses: shows the child's name, description, inputs and outputs; nothing for a missing file", async () => {
  const hover = await ask<Hover>("hover", "./flows/child", 3);
  assert.equal(
    hover!.contents.value,
    [
      "**workflow `summarize`** · `./flows/child.keel.yaml`",
      "",
      "Cuts a text short.",
      "",
      "Inputs:",
      "- `text` · `string` · required: The text to cut.",
      "- `limit` · `number` · default `3`",
      "- `tone` · `string` · required",
      "",
      "Outputs:",
      "- `summary`: `steps.cut.output`",
      "- `size`: `$length(steps.cut.output)`",
    ].join("\n"),
  );
  const missing = await ask<Hover>("hover", "./flows/gone", 3);
  assert.equal(missing, null);
});

test("hover on a with: key shows the child's input; on an output read, the child's output and where it is declared", async () => {
  const input = await ask<Hover>("hover", "text: ${{", 1);
  assert.equal(
    input!.contents.value,
    "**input `text`** of `./flows/child.keel.yaml` · `string`\n\nThe text to cut.\n\nRequired  \nDeclared at `./flows/child.keel.yaml:5`",
  );
  const output = await ask<Hover>("hover", "output.summary", 9);
  assert.equal(
    output!.contents.value,
    "**output `summary`** of `./flows/child.keel.yaml`\n\n```\nsteps.cut.output\n```\n\nDeclared at `./flows/child.keel.yaml:13`",
  );
});

test("definition from a with: key and from an output read goes to its declaration in the child; nowhere for a missing file", async () => {
  const input = await ask<Location>("definition", "tone: dry", 2);
  assert.equal(input!.uri, child);
  assert.equal(lineOf(CHILD, input!.range.start.line), "  tone: { type: string }");
  assert.equal(input!.range.start.character, 2);
  const output = await ask<Location>("definition", "output.summary", 8);
  assert.equal(output!.uri, child);
  assert.equal(lineOf(CHILD, output!.range.start.line), "  summary: steps.cut.output");
  const key = await ask<Location>("definition", "text: x", 1, 1);
  assert.equal(key, null);
  const read = await ask<Location>("definition", "gone.output.summary", 14);
  assert.equal(read, null);
});

/** The references of the child at `needle` (+ `delta`), as `file:line: text` rows. */
async function referencesOf(needle: string, delta: number): Promise<string[]> {
  const found = await client.request<Location[]>("textDocument/references", {
    textDocument: { uri: child },
    position: client.at(child, needle, delta),
    context: { includeDeclaration: false },
  });
  const texts: Record<string, string> = { [parent]: PARENT, [other]: OTHER, [child]: CHILD };
  return found.map((l) => {
    const text = texts[l.uri]!;
    const file = l.uri.slice(l.uri.lastIndexOf("/") + 1);
    const lines = text.split("\n");
    const start = l.range.start;
    const word = lines[start.line]!.slice(start.character, l.range.end.character);
    return `${file}:${start.line + 1}: ${word}`;
  });
}

test("references of a child file list its callers, open in the editor or not", async () => {
  await client.open(child, CHILD);
  assert.deepEqual(await referencesOf("name: summarize", 8), [
    "other.keel.yaml:6: ./flows/child.keel.yaml",
    "parent.keel.yaml:8: ./flows/child.keel.yaml",
    "parent.keel.yaml:14: ./flows/child.keel.yaml",
  ]);
  assert.deepEqual(await referencesOf("keel: 1", 0), await referencesOf("name: summarize", 0));
});

test("a child file has a lens over its name: with the number of workflow steps running it", async () => {
  const lenses = (uri: string) =>
    client.request<{ range: Range; command: { title: string } }[]>("textDocument/codeLens", {
      textDocument: { uri },
    });
  const [first] = await lenses(child);
  assert.equal(first!.command.title, "3 callers");
  assert.equal(first!.range.start.line, 1);
  assert.ok((await lenses(parent)).every((l) => !/callers?$/.test(l.command.title)));
});

test("references of a child's input list the with: keys passing it; of an output, the expressions reading it", async () => {
  assert.deepEqual(await referencesOf("  limit:", 3), [
    "child.keel.yaml:11: limit",
    "other.keel.yaml:10: limit",
  ]);
  assert.deepEqual(await referencesOf("  tone:", 3), [
    "other.keel.yaml:9: tone",
    "parent.keel.yaml:11: tone",
    "parent.keel.yaml:16: tone",
  ]);
  assert.deepEqual(await referencesOf("  text:", 3), [
    "child.keel.yaml:11: text",
    "other.keel.yaml:8: text",
    "parent.keel.yaml:10: text",
    "parent.keel.yaml:16: text",
  ]);
  assert.deepEqual(await referencesOf("  summary:", 3), ["parent.keel.yaml:19: summary"]);
  assert.deepEqual(await referencesOf("  size:", 3), ["other.keel.yaml:13: size"]);
});

test("a caller deleted, created or edited on disk changes the references; a renamed child has no callers", async () => {
  const rows = () => referencesOf("name: summarize", 8);
  rmSync(join(dir, "other.keel.yaml"));
  await client.connection.sendNotification("workspace/didChangeWatchedFiles", {
    changes: [{ uri: other, type: 3 }],
  });
  assert.deepEqual(await rows(), [
    "parent.keel.yaml:8: ./flows/child.keel.yaml",
    "parent.keel.yaml:14: ./flows/child.keel.yaml",
  ]);
  writeFileSync(join(dir, "other.keel.yaml"), OTHER);
  await client.connection.sendNotification("workspace/didChangeWatchedFiles", {
    changes: [{ uri: other, type: 1 }],
  });
  assert.equal((await rows()).length, 3);
  writeFileSync(join(dir, "other.keel.yaml"), OTHER.replace("./flows/child", "./flows/gone"));
  const changed = { changes: [{ uri: other, type: 2 }] };
  await client.connection.sendNotification("workspace/didChangeWatchedFiles", changed);
  assert.equal((await rows()).length, 2);
  writeFileSync(join(dir, "other.keel.yaml"), OTHER);
  await client.connection.sendNotification("workspace/didChangeWatchedFiles", changed);

  // The child renamed: the callers name a file that no longer exists.
  await client.close(child);
  const renamed = pathToFileURL(join(dir, "flows/renamed.keel.yaml")).href;
  renameSync(join(dir, "flows/child.keel.yaml"), join(dir, "flows/renamed.keel.yaml"));
  try {
    await client.connection.sendNotification("workspace/didChangeWatchedFiles", {
      changes: [
        { uri: child, type: 3 },
        { uri: renamed, type: 1 },
      ],
    });
    await client.open(renamed, CHILD);
    const found = await client.request<Location[]>("textDocument/references", {
      textDocument: { uri: renamed },
      position: client.at(renamed, "name: summarize", 8),
      context: { includeDeclaration: false },
    });
    assert.deepEqual(found, []);
    const hover = await client.request<Hover | null>("textDocument/hover", {
      textDocument: { uri: parent },
      position: client.at(parent, "./flows/child", 3),
    });
    assert.equal(hover, null);
    await client.close(renamed);
  } finally {
    renameSync(join(dir, "flows/renamed.keel.yaml"), join(dir, "flows/child.keel.yaml"));
  }
});
