// Python tools over the protocol, on the built server: the module is read statically (never
// imported) for diagnostics, completion of `with:` keys and of `#fn` names, hover on `uses:` and
// on a `with:` key, and go to definition to the `def` line and the parameter; a module edited on
// disk is read again (workspace/didChangeWatchedFiles).
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

const MODULE = [
  '"""Search tools."""',
  "import json",
  "",
  "",
  "@property",
  "def _hidden(x):",
  "    pass",
  "",
  "",
  "async def search(",
  "    query: str,",
  "    limit: int = 10,",
  "    *,",
  '    mode: Literal["fast", "deep"] = "fast",',
  ") -> list[dict]:",
  '    """Searches the index.',
  "",
  "    Args:",
  "        query: The text to look for.",
  "        limit: At most this many results.",
  '    """',
  "    def inner(y):",
  "        return y",
  "    return []",
  "",
  "",
  "def rank(items, *, by: str = 'score'):",
  "    return items",
  "",
].join("\n");

const FLOW = [
  "keel: 1",
  "name: python",
  "steps:",
  "  find:",
  "    type: tool",
  "    uses: ./tools/search.py#search",
  "    with:",
  "      query: keel",
  "      limit: 3",
  "  sort:",
  "    type: tool",
  "    uses: ./tools/search.py#rank",
  "    with: { items: '${{ steps.find.output }}' }",
  "",
].join("\n");

let folder: OpenFolder;
let client: TestClient;
let flow: string;
let modulePath: string;
let moduleUri: string;

before(async () => {
  folder = await openFolder(
    "keel-python-",
    { "tools/search.py": MODULE, "python.keel.yaml": FLOW },
    "python.keel.yaml",
  );
  ({ client, uri: flow } = folder);
  modulePath = join(folder.dir, "tools/search.py");
  moduleUri = pathToFileURL(modulePath).href;
});
after(() => folder.close());

/** Replaces `find` in the workflow with `replace` (the cursor at `‸`) and completes there. */
const completeAt = (find: string, replace: string) =>
  client.completeIn<Item>(flow, FLOW, find, replace);
const ask = <R>(what: "hover" | "definition", needle: string, delta: number, nth = 0) =>
  client.ask<R>(what, flow, needle, delta, nth);
const lineOf = (n: number) => MODULE.split("\n")[n]!;

test("a valid Python tool step has no diagnostics; a wrong with: key and a missing parameter are reported", async () => {
  assert.deepEqual(await client.diagnostics(flow, 1), []);
  const text = FLOW.replace("      query: keel\n", "      qurey: keel\n");
  const version = await client.change(flow, [{ text }]);
  const diagnostics = await client.diagnostics(flow, version);
  assert.deepEqual(
    diagnostics.map((d) => [d.code, d.message]),
    [
      [
        "KEEL507",
        "function 'search' of './tools/search.py' needs 'query' (it has no default): add `query:` to `with:`",
      ],
      [
        "KEEL506",
        "function 'search' of './tools/search.py' has no parameter 'qurey': did you mean 'query'?",
      ],
    ],
  );
  // The did-you-mean of a with: key is a quick fix.
  const actions = await client.request<{ title: string; diagnostics: { code: string }[] }[]>(
    "textDocument/codeAction",
    {
      textDocument: { uri: flow },
      range: diagnostics[1]!.range,
      context: { diagnostics: [] },
    },
  );
  assert.deepEqual(
    actions.filter((a) => a.diagnostics[0]?.code === "KEEL506").map((a) => a.title),
    ["Change to 'query'"],
  );
  await client.change(flow, [{ text: FLOW }]);
});

test("under with: completion offers the function's keyword parameters not given yet, required ones first", async () => {
  const items = await completeAt("      limit: 3\n", "      ‸\n");
  assert.deepEqual(labels(items), ["limit", "mode"]);
  assert.equal(items[0]!.detail, "int · = 10");
  assert.equal(items[0]!.documentation?.value, "At most this many results.");
  assert.equal(items[1]!.detail, 'Literal["fast", "deep"] · = "fast"');
  assert.equal(items[0]!.textEdit.newText, "limit: ");
  const all = await completeAt("      query: keel\n      limit: 3\n", "      q‸\n");
  assert.deepEqual(labels(all), ["query", "limit", "mode"]);
  assert.equal(all[0]!.detail, "str · required");
});

test("after uses: ./x.py# completion offers the module's public top-level functions", async () => {
  const items = await completeAt("./tools/search.py#search", "./tools/search.py#se‸");
  assert.deepEqual(labels(items), ["search", "rank"]);
  assert.equal(
    items[0]!.detail,
    'async def search(query: str, limit: int = 10, *, mode: Literal["fast", "deep"] = "fast") -> list[dict]',
  );
  assert.match(items[0]!.documentation!.value, /^Searches the index\./);
});

test("hover on uses: shows the signature and docstring; on a with: key, the parameter", async () => {
  const hover = await ask<Hover>("hover", "./tools/search.py#search", 5);
  assert.equal(
    hover!.contents.value,
    [
      "**Python function `search`** · `./tools/search.py:10`",
      "",
      "```python",
      'async def search(query: str, limit: int = 10, *, mode: Literal["fast", "deep"] = "fast") -> list[dict]',
      "```",
      "",
      "Searches the index.",
      "",
      "Args:",
      "    query: The text to look for.",
      "    limit: At most this many results.",
    ].join("\n"),
  );
  const param = await ask<Hover>("hover", "limit: 3", 1);
  assert.equal(
    param!.contents.value,
    "**parameter `limit`** of `search` · `./tools/search.py:12`\n\n```python\nlimit: int = 10\n```\n\ndefault `10`\n\nAt most this many results.",
  );
});

test("definition from uses: goes to the def line, from a with: key to the parameter", async () => {
  const def = await ask<Location>("definition", "./tools/search.py#search", 3);
  assert.equal(def!.uri, moduleUri);
  assert.equal(def!.range.start.line, 9);
  assert.equal(lineOf(9).slice(def!.range.start.character), "search(");
  const param = await ask<Location>("definition", "query: keel", 2);
  assert.equal(param!.uri, moduleUri);
  assert.equal(param!.range.start.line, 10);
  assert.equal(lineOf(10).slice(param!.range.start.character), "query: str,");
  const rank = await ask<Location>("definition", "#rank", 2);
  assert.equal(rank!.range.start.line, 26);
});

test("a module changed on disk is read again: diagnostics, completion and definition follow it", async () => {
  const renamed = MODULE.replace("    query: str,", "    text: str,").replace(
    "def rank(",
    "\n\ndef rank(",
  );
  writeFileSync(modulePath, renamed);
  const before = client.published.length;
  await client.connection.sendNotification("workspace/didChangeWatchedFiles", {
    changes: [{ uri: moduleUri, type: 2 }],
  });
  // Earlier edits' publications may still arrive: wait for the one that follows the module.
  const published = await client.waitFor(
    (p) => p.uri === flow && p.diagnostics.length > 0,
    5000,
    before,
  );
  assert.deepEqual(
    published.diagnostics.map((d) => d.code),
    ["KEEL507", "KEEL506"],
  );
  const items = await completeAt("      limit: 3\n", "      ‸\n");
  assert.deepEqual(labels(items), ["text", "limit", "mode"]);
  const rank = await ask<Location>("definition", "#rank", 2);
  assert.equal(rank!.range.start.line, 28);

  writeFileSync(modulePath, MODULE);
  const again = client.published.length;
  await client.connection.sendNotification("workspace/didChangeWatchedFiles", {
    changes: [{ uri: moduleUri, type: 2 }],
  });
  const fixed = await client.waitFor(
    (p) => p.uri === flow && p.diagnostics.length === 0,
    5000,
    again,
  );
  assert.deepEqual(fixed.diagnostics, []);
});
