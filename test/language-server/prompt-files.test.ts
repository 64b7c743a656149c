// Prompt files over the protocol, on the built server (docs/editor.md "Prompt files"): the
// prompt file's own diagnostics when open, the step's diagnostics following edits of the open
// prompt file, definition from prompt_file to the file and from a variable to its declaration,
// references of a prompt file and of an input across the workspace's workflows, rename of an input
// updating the callers' with: keys, and hover on prompt_file with the last rendered prompt.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { TestClient, type Range } from "./client";

interface Location {
  uri: string;
  range: Range;
}
interface Hover {
  contents: { value: string };
}
interface Edit {
  range: Range;
  newText: string;
}

const PROMPT = [
  "---",
  "inputs:",
  "  ticket: { type: string, description: The customer's message }",
  "  tone: { type: string, default: friendly }",
  "---",
  "## system",
  "Answer in a ${{ tone }} tone.",
  "",
  "## user",
  "${{ ticket }} (${{ $length(ticket) }} chars)",
  "",
].join("\n");

const FLOW = [
  "keel: 1",
  "name: flow",
  "providers:",
  "  p: { type: scripted, default: ok }",
  "steps:",
  "  draft:",
  "    type: llm",
  "    prompt_file: ./prompts/draft.md",
  "    with:",
  "      ticket: hello",
  "",
].join("\n");

/** Not open in the editor: found by the server's search of the workspace folder. */
const OTHER = [
  "keel: 1",
  "name: other",
  "providers:",
  "  p: { type: scripted, default: ok }",
  "steps:",
  "  again:",
  "    type: llm",
  "    prompt_file: ./prompts/draft.md",
  "    with: { ticket: hi, tone: dry }",
  "",
].join("\n");

let client: TestClient;
let dir: string;
let flow: string;
let other: string;
let prompt: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "keel-prompts-"));
  mkdirSync(join(dir, "prompts"));
  writeFileSync(join(dir, "prompts/draft.md"), PROMPT);
  writeFileSync(join(dir, "flow.keel.yaml"), FLOW);
  writeFileSync(join(dir, "other.keel.yaml"), OTHER);
  flow = pathToFileURL(join(dir, "flow.keel.yaml")).href;
  other = pathToFileURL(join(dir, "other.keel.yaml")).href;
  prompt = pathToFileURL(join(dir, "prompts/draft.md")).href;
  client = await TestClient.start({
    workspaceFolders: [dir],
    setup: (connection) =>
      connection.onRequest("keel/lastRun", () => ({
        runId: "r-7",
        status: "succeeded",
        steps: {
          draft: {
            status: "succeeded",
            promptPreview: "system: Answer in a friendly tone.\n\nuser: hello (5 chars)",
          },
        },
      })),
  });
  await client.open(flow, FLOW);
  await client.open(prompt, PROMPT, "markdown");
  await client.diagnostics(flow, 1);
});
after(async () => {
  await client.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("an open prompt file gets its own diagnostics; the workflow's step follows the prompt file's edits", async () => {
  assert.deepEqual(await client.diagnostics(prompt, 1), []);
  const broken = PROMPT.replace("${{ tone }}", "${{ tonne }}");
  const version = await client.change(prompt, [{ text: broken }]);
  const own = await client.diagnostics(prompt, version);
  assert.deepEqual(
    own.map((d) => [d.code, d.range.start.line, d.message]),
    [
      [
        "KEEL623",
        6,
        "`tonne` is not an input of this prompt file: did you mean 'tone'? (a prompt file sees its declared inputs only)",
      ],
    ],
  );
  assert.equal(client.textOf(prompt, own[0]!.range), "tonne");
  const onStep = await client.waitFor(
    (p) => p.uri === flow && p.diagnostics.some((d) => d.code === "KEEL623"),
  );
  assert.match(
    onStep.diagnostics[0]!.message,
    /^\.\/prompts\/draft\.md:7: `tonne` is not an input/,
  );
  await client.change(prompt, [{ text: PROMPT }]);
  await client.waitFor(
    (p) => p.uri === flow && p.diagnostics.length === 0,
    5000,
    client.published.length,
  );
});

test("definition goes from prompt_file to the file and from a variable to its declaration", async () => {
  const file = await client.request<Location>("textDocument/definition", {
    textDocument: { uri: flow },
    position: client.at(flow, "./prompts/draft.md", 4),
  });
  assert.equal(file.uri, prompt);
  const decl = await client.request<Location>("textDocument/definition", {
    textDocument: { uri: prompt },
    position: client.at(prompt, "$length(ticket)", 9),
  });
  assert.equal(decl.uri, prompt);
  assert.equal(decl.range.start.line, 2);
  assert.equal(client.textOf(prompt, decl.range), "ticket");
});

test("references of an input list its reads and every caller's with: key; elsewhere in the file, the steps that use it", async () => {
  const refs = await client.request<Location[]>("textDocument/references", {
    textDocument: { uri: prompt },
    position: client.at(prompt, "ticket:", 1),
    context: { includeDeclaration: true },
  });
  assert.deepEqual(
    refs.map((r) => [
      r.uri === prompt ? "prompt" : r.uri === flow ? "flow" : r.uri === other ? "other" : r.uri,
      r.range.start.line,
    ]),
    [
      ["prompt", 2],
      ["prompt", 9],
      ["prompt", 9],
      ["flow", 9],
      ["other", 8],
    ],
  );
  const users = await client.request<Location[]>("textDocument/references", {
    textDocument: { uri: prompt },
    position: client.at(prompt, "## user", 3),
    context: { includeDeclaration: true },
  });
  assert.deepEqual(
    users.map((r) => [
      r.uri === flow ? "flow" : r.uri === other ? "other" : r.uri,
      r.range.start.line,
    ]),
    [
      ["flow", 7],
      ["other", 7],
    ],
  );
});

test("rename of an input updates its declaration, its reads and the with: keys of every caller", async () => {
  const edit = await client.request<{ changes: Record<string, Edit[]> }>("textDocument/rename", {
    textDocument: { uri: prompt },
    position: client.at(prompt, "${{ ticket }}", 5),
    newName: "message",
  });
  const lines = (uri: string) => edit.changes[uri]!.map((e) => [e.range.start.line, e.newText]);
  assert.deepEqual(lines(prompt), [
    [2, "message"],
    [9, "message"],
    [9, "message"],
  ]);
  assert.deepEqual(lines(flow), [[9, "message"]]);
  assert.deepEqual(lines(other), [[8, "message"]]);
  const start = edit.changes[other]![0]!.range.start;
  assert.equal(
    OTHER.split("\n")[start.line]!.slice(start.character, start.character + 6),
    "ticket",
  );
});

test("hover on prompt_file shows the file's inputs and the prompt the last run rendered from it", async () => {
  const hover = await client.request<Hover>("textDocument/hover", {
    textDocument: { uri: flow },
    position: client.at(flow, "./prompts/draft.md", 3),
  });
  assert.equal(
    hover.contents.value,
    [
      "**prompt file** `./prompts/draft.md`",
      "",
      "Inputs:",
      "- `ticket` · `string` · required: The customer's message",
      '- `tone` · `string` · default `"friendly"`',
      "",
      "---",
      "",
      "Last rendered (run `r-7`):",
      "",
      "```text",
      "system: Answer in a friendly tone.",
      "",
      "user: hello (5 chars)",
      "```",
    ].join("\n"),
  );
});

test("the prompt file shows its callers' with: problems, and follows edits of an open caller", async () => {
  const from = client.published.length;
  const edited = FLOW.replace("      ticket: hello", "      tonee: calm");
  const version = await client.change(flow, [{ text: edited }]);
  const onStep = await client.diagnostics(flow, version);
  assert.deepEqual(onStep.map((d) => d.code).sort(), ["KEEL624", "KEEL625"]);
  const inFile = await client.waitFor(
    (p) => p.uri === prompt && p.diagnostics.length === 2,
    5000,
    from,
  );
  assert.deepEqual(
    inFile.diagnostics.map((d) => [d.code, d.range.start.line, d.message]),
    [
      [
        "KEEL625",
        2,
        "step 'draft' of flow.keel.yaml does not give `ticket` in its `with:`, and it has no default",
      ],
      [
        "KEEL624",
        0,
        "step 'draft' of flow.keel.yaml gives `tonee` in its `with:`, which this file does not declare under `inputs`",
      ],
    ],
  );
  const back = client.published.length;
  await client.change(flow, [{ text: FLOW }]);
  await client.waitFor((p) => p.uri === prompt && p.diagnostics.length === 0, 5000, back);
});

test("under an llm step's with: completion offers its prompt file's inputs not given yet, required ones first", async () => {
  const text = FLOW.replace("      ticket: hello\n", "      \n");
  const version = await client.change(flow, [{ text }]);
  await client.diagnostics(flow, version);
  const items = await client.request<{ label: string; detail?: string }[]>(
    "textDocument/completion",
    {
      textDocument: { uri: flow },
      position: client.documents.get(flow)!.positionAt(text.indexOf("      \n") + 6),
    },
  );
  assert.deepEqual(
    items.map((i) => [i.label, i.detail]),
    [
      ["ticket", "string · required"],
      ["tone", 'string · default `"friendly"`'],
    ],
  );
  await client.change(flow, [{ text: FLOW }]);
});
