// The running server under random edits (fast-check): 10,000 sequences of incremental edits on
// three open documents (one with CRLF line ends and non-ASCII text), each followed by a request
// for one of the features at a random position. The server must never crash, answer every
// request and publish every edit's diagnostics within 1 s, fail no request, and publish only
// ranges that lie inside the document version they belong to.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { TestClient, type Position, type Range } from "./client";

const SEQUENCES = 10_000;
const LIMIT_MS = 1000;

const compact = [
  "keel: 1",
  "name: fuzz",
  "inputs:",
  "  q: { type: string, default: hi }",
  "providers:",
  "  main: { type: scripted, default: ok, fallback: main }",
  "steps:",
  "  fetch:",
  "    type: tool",
  "    uses: ./tools/kb.js#search",
  "    with: { query: '${{ inputs.q }}' }",
  "    output: { schema: { type: object, properties: { items: { type: array } } } }",
  "  ask:",
  "    type: llm",
  "    needs: [fetch]",
  "    prompt: \"Use ${{ $join(steps.fetch.output.items, ', ') }} for ${{ inputs.q }}\"",
  "  check: &chk",
  "    type: assert",
  "    that:",
  "      - $count(steps.fetch.output.items) > 0",
  "      - steps.ask.status = 'succeeded'",
  "    if: |",
  "      $always() and",
  "        steps.ask.output != ''",
  "outputs:",
  "  answer: steps.ask.output",
  "",
].join("\n");
const DOCS = [
  { uri: "file:///tmp/keel-fuzz/a.keel.yaml", text: compact },
  {
    uri: "file:///tmp/keel-fuzz/b.keel.yaml",
    text: compact.replace(/\n/g, "\r\n").replace("hi", "héllo 🚢 ünïcode"),
  },
  {
    uri: "file:///tmp/keel-fuzz/c.keel.yaml",
    text: "keel: 1\nname: [broken\nsteps:\n  a: { type: transform, expr: 'steps.b.output' }\n  b: *missing\n",
  },
];
const FRAGMENTS = [
  "a",
  "z",
  "_",
  "0",
  "9",
  " ",
  "  ",
  "\n",
  "\r\n",
  "\t",
  ":",
  ": ",
  "- ",
  "#",
  "'",
  '"',
  "{",
  "}",
  "[",
  "]",
  ",",
  "${{",
  "}}",
  "${{ steps.",
  " }}",
  "steps.",
  "inputs.",
  ".output",
  ".",
  "$",
  "$now()",
  "(",
  ")",
  "&a ",
  "*a",
  "|",
  ">",
  "type: ",
  "llm",
  "needs: [",
  "expr: ",
  "\\",
  "🚢",
  "é",
  "\u0000",
  "---\n",
  "<<: ",
];
const METHODS = [
  "textDocument/completion",
  "textDocument/hover",
  "textDocument/definition",
  "textDocument/references",
  "textDocument/documentHighlight",
  "textDocument/prepareRename",
  "textDocument/rename",
  "textDocument/documentSymbol",
  "textDocument/codeAction",
  "textDocument/codeLens",
  "textDocument/semanticTokens/full",
];

const edit = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  remove: fc.nat({ max: 12 }),
  insert: fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 4 }).map((f) => f.join("")),
});
const sequence = fc.record({
  doc: fc.nat({ max: DOCS.length - 1 }),
  edits: fc.array(edit, { minLength: 1, maxLength: 4 }),
  method: fc.constantFrom(...METHODS),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
});

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${LIMIT_MS} ms`)), LIMIT_MS);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function inside(range: Range, lines: readonly number[]): boolean {
  const ok = (p: Position) =>
    p.line >= 0 && p.line < lines.length && p.character >= 0 && p.character <= lines[p.line]!;
  const ordered =
    range.start.line < range.end.line ||
    (range.start.line === range.end.line && range.start.character <= range.end.character);
  return ok(range.start) && ok(range.end) && ordered;
}

test(`${SEQUENCES} random edit sequences: no crash, answers within 1 s, ranges inside the text`, async () => {
  const client = await TestClient.start({ initializationOptions: { debounceMs: 0 } });
  /** Line lengths of every version of each document, to check the ranges published for it. */
  const shapes = new Map<string, Map<number, number[]>>();
  const shape = (text: string) => text.split(/\r\n|\r|\n/).map((l) => l.length);
  try {
    for (const d of DOCS) {
      await client.open(d.uri, d.text);
      shapes.set(d.uri, new Map([[1, shape(d.text)]]));
    }
    let checked = 0;
    await fc
      .assert(
        fc.asyncProperty(sequence, async ({ doc, edits, method, at }) => {
          const { uri, text: original } = DOCS[doc]!;
          const document = client.documents.get(uri)!;
          const versions = shapes.get(uri)!;
          if (document.getText().length > 4 * original.length) {
            const v = await client.change(uri, [{ text: original }]);
            versions.set(v, shape(original));
          }
          let version = document.version;
          for (const e of edits) {
            const text = document.getText();
            const start = Math.floor(e.at * text.length);
            const end = Math.min(text.length, start + e.remove);
            const range = { start: document.positionAt(start), end: document.positionAt(end) };
            version = await client.change(uri, [{ range, text: e.insert }]);
            versions.set(version, shape(document.getText()));
          }
          await within(client.diagnostics(uri, version, LIMIT_MS + 100), "diagnostics");
          const position = document.positionAt(Math.floor(at * document.getText().length));
          const params: Record<string, unknown> = { textDocument: { uri }, position };
          if (method === "textDocument/rename") params.newName = "renamed";
          if (method === "textDocument/references") params.context = { includeDeclaration: true };
          if (method === "textDocument/codeAction") {
            params.range = { start: { line: 0, character: 0 }, end: position };
            params.context = { diagnostics: [] };
          }
          await within(
            client.request(method, params).catch((e: { code?: number; message?: string }) => {
              // Rename and prepareRename refuse with InvalidRequest where nothing can be renamed.
              if (e.code === -32600 && method.includes("ename")) return null;
              throw new Error(`${method} failed: ${e.message}`);
            }),
            method,
          );
          for (const p of client.published.splice(0)) {
            const lines = shapes.get(p.uri)?.get(p.version!);
            assert.ok(lines, `published for unknown version ${p.version}`);
            for (const d of p.diagnostics) {
              assert.ok(
                inside(d.range, lines),
                `${d.code} ${JSON.stringify(d.range)} outside version ${p.version}`,
              );
              checked++;
            }
          }
          // Versions before the last published one can no longer be published.
          for (const v of versions.keys()) if (v < version) versions.delete(v);
        }),
        { numRuns: SEQUENCES, endOnFailure: true },
      )
      .catch((e: Error & { cause?: Error }) => {
        // fast-check keeps the failing assertion in `cause`; show it.
        throw new Error(`${e.message}\n${e.cause?.message ?? ""}`);
      });
    assert.ok(checked > SEQUENCES, `only ${checked} diagnostics were checked`);
    assert.equal(client.server.exitCode, null, "the server exited");
  } finally {
    await client.stop();
  }
});
