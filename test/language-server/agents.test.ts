// Agent steps over the protocol, on the built server: diagnostics of a tool's `args.<p>` with its
// quick fix, completion of an agent step's keys and a tool's keys, of `args.` from the tool's
// parameters (written, from a Python function, from a child's inputs), hover on a tool's name,
// and go to definition from a tool's `uses:` (JS export, Python def) and `workflow:` (the file).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  labels,
  openFolder,
  type Hover,
  type Item,
  type Location,
  type OpenFolder,
  type TestClient,
} from "./client";

const JS = [
  "// Looks documents up.",
  "export const version = 1;",
  "export function lookup(args) {",
  "  return { id: args.id };",
  "}",
  "",
].join("\n");

const PYTHON = [
  "def search(query: str, limit: int = 10) -> list:",
  '    """Searches the index.',
  "",
  "    Args:",
  "        query: The text to look for.",
  "        limit: At most this many results.",
  '    """',
  "    return []",
  "",
].join("\n");

const CHILD = [
  "keel: 1",
  "name: triage",
  "description: Triages a ticket.",
  "inputs:",
  "  ticket: { type: object, description: The ticket. }",
  "  language: { type: string, default: en }",
  "steps:",
  "  label: { type: transform, expr: inputs.ticket.title }",
  "",
].join("\n");

const FLOW = [
  "keel: 1",
  "name: agents",
  "providers:",
  "  main: { type: scripted }",
  "steps:",
  "  research:",
  "    type: agent",
  "    prompt: Find it",
  "    max_turns: 4",
  "    tools:",
  "      lookup:",
  "        description: Looks a document up by id.",
  "        uses: ./tools/lookup.mjs#lookup",
  "        parameters:",
  "          type: object",
  "          required: [id]",
  "          properties:",
  "            id: { type: string, description: The document's id. }",
  "            lang: { type: string }",
  "        with:",
  '          id: "${{ args.id }}"',
  "      search:",
  "        uses: ./tools/search.py#search",
  "        with:",
  '          query: "${{ args.query }}"',
  "      triage:",
  "        workflow: ./flows/triage.keel.yaml",
  "        with:",
  '          ticket: "${{ args.ticket }}"',
  "",
].join("\n");

let folder: OpenFolder;
let client: TestClient;
let dir: string;
let flow: string;

before(async () => {
  folder = await openFolder(
    "keel-agents-",
    {
      "tools/lookup.mjs": JS,
      "tools/search.py": PYTHON,
      "flows/triage.keel.yaml": CHILD,
      "agents.keel.yaml": FLOW,
    },
    "agents.keel.yaml",
  );
  ({ client, dir, uri: flow } = folder);
});
after(() => folder.close());

const completeAt = (find: string, replace: string) =>
  client.completeIn<Item>(flow, FLOW, find, replace);
const ask = <R>(what: "hover" | "definition", needle: string, delta: number) =>
  client.ask<R>(what, flow, needle, delta);

test("a valid agent has no diagnostics; an args.<p> that is no parameter is reported with its fix", async () => {
  assert.deepEqual(await client.diagnostics(flow, 1), []);
  const text = FLOW.replace("${{ args.query }}", "${{ args.qurey }}");
  const version = await client.change(flow, [{ text }]);
  const diagnostics = await client.diagnostics(flow, version);
  assert.deepEqual(
    diagnostics.map((d) => [d.code, d.message, client.textOf(flow, d.range)]),
    [["KEEL217", "tool 'search' has no parameter 'qurey': did you mean 'query'?", "qurey"]],
  );
  const actions = await client.request<{ title: string }[]>("textDocument/codeAction", {
    textDocument: { uri: flow },
    range: diagnostics[0]!.range,
    context: { diagnostics: [] },
  });
  assert.deepEqual(
    actions.map((a) => a.title),
    ["Change to 'query'"],
  );
  await client.change(flow, [{ text: FLOW }]);
});

test("completion offers an agent step's keys, and a tool's", async () => {
  const step = labels(await completeAt("    max_turns: 4\n", "    max_turns: 4\n    ‸\n"));
  for (const key of ["budget", "on_max_turns", "tool_errors", "parallel_tool_calls", "output"])
    assert.ok(step.includes(key), `${key} in ${step.join(", ")}`);
  assert.ok(!step.includes("max_turns") && !step.includes("tools"), step.join(", "));
  const tool = labels(
    await completeAt(
      "        description: Looks a document up by id.\n",
      "        description: Looks a document up by id.\n        ‸\n",
    ),
  );
  assert.deepEqual(tool.sort(), ["cache", "http", "retry", "timeout", "workflow"]);
});

test("after args. in a tool's with: completion offers its parameters, derived ones too", async () => {
  const own = await completeAt('id: "${{ args.id }}"', 'id: "${{ args.‸ }}"');
  assert.deepEqual(labels(own), ["id", "lang"]);
  assert.equal(own[0]!.detail, "string · required");
  assert.equal(own[0]!.documentation?.value, "The document's id.");
  const python = await completeAt("${{ args.query }}", "${{ args.q‸ }}");
  assert.deepEqual(labels(python), ["query", "limit"]);
  assert.equal(python[1]!.documentation?.value, "At most this many results.");
  const child = await completeAt("${{ args.ticket }}", "${{ args.‸ }}");
  assert.deepEqual(labels(child), ["ticket", "language"]);
  // `args` is a name in a tool's templates, and only there.
  const roots = labels(await completeAt("${{ args.ticket }}", "${{ a‸ }}"));
  assert.ok(roots.includes("args"), roots.join(", "));
  const prompt = labels(await completeAt("prompt: Find it", 'prompt: "${{ a‸ }}"'));
  assert.ok(!prompt.includes("args"), prompt.join(", "));
});

test("hover on a tool's name shows how it runs, its description and parameters", async () => {
  const lookup = await ask<Hover>("hover", "lookup:", 2);
  assert.equal(
    lookup!.contents.value,
    [
      "**tool `lookup`** of agent `research` · `./tools/lookup.mjs#lookup`",
      "",
      "Looks a document up by id.",
      "",
      "Parameters:",
      "- `id` · `string` · required: The document's id.",
      "- `lang` · `string` · optional",
    ].join("\n"),
  );
  const search = await ask<Hover>("hover", "      search:", 8);
  assert.equal(
    search!.contents.value,
    [
      "**tool `search`** of agent `research` · `./tools/search.py#search`",
      "",
      "Searches the index.",
      "",
      "Parameters (from the function's type hints and docstring):",
      "- `query` · `string` · required: The text to look for.",
      "- `limit` · `integer` · default `10`: At most this many results.",
    ].join("\n"),
  );
  const triage = await ask<Hover>("hover", "triage:", 2);
  assert.equal(
    triage!.contents.value,
    [
      "**tool `triage`** of agent `research` · workflow `./flows/triage.keel.yaml`",
      "",
      "Triages a ticket.",
      "",
      "Parameters (from the child workflow's inputs):",
      "- `ticket` · `object` · required: The ticket.",
      '- `language` · `string` · default `"en"`',
    ].join("\n"),
  );
});

test("definition from a tool's uses: goes to the export or the def, from workflow: to the file", async () => {
  const js = await ask<Location>("definition", "./tools/lookup.mjs#lookup", 3);
  assert.equal(js!.uri, pathToFileURL(join(dir, "tools/lookup.mjs")).href);
  assert.equal(js!.range.start.line, 2);
  const py = await ask<Location>("definition", "./tools/search.py#search", 3);
  assert.equal(py!.uri, pathToFileURL(join(dir, "tools/search.py")).href);
  assert.deepEqual(py!.range.start, { line: 0, character: 4 });
  const child = await ask<Location>("definition", "./flows/triage.keel.yaml", 3);
  assert.equal(child!.uri, pathToFileURL(join(dir, "flows/triage.keel.yaml")).href);
});

test("under steps:, the agent snippet writes a step that validates once its tool module exists", async () => {
  const items = await completeAt("  research:\n", "  ‸\n  research:\n");
  const agent = items.find((i) => i.label === "agent step")!;
  // The snippet with its placeholders filled by their defaults.
  const step = agent.textEdit.newText.replace(/\$\{\d+:([^}]*)\}/g, "$1");
  writeFileSync(join(dir, "tools/search.js"), "export function search() {}\n");
  const text = FLOW.replace("  research:\n", `  ${step}\n  research:\n`);
  const version = await client.change(flow, [{ text }]);
  assert.deepEqual(await client.diagnostics(flow, version), []);
  await client.change(flow, [{ text: FLOW }]);
});
