// Inputs at the edges: empty and huge files, long cycles, line endings, and the pieces the
// validator is built from (suggestions, offsets, batched expression parsing).
import { test } from "node:test";
import assert from "node:assert/strict";
import jsonata from "jsonata";
import { LineIndex, validate, validateBytes } from "@keel/core/index";
import { closest } from "@keel/core/model/suggest";
import { clearExpressionCache, parseExpressions } from "@keel/core/expr/parse";
import { JSONATA_FUNCTIONS } from "@keel/core/expr/analyze";
import { scanTemplates } from "@keel/core/expr/template";

function chain(n: number, extra = ""): string {
  let s = "keel: 1\nname: chain\nsteps:\n";
  for (let i = 0; i < n; i++) {
    s += `  s${i}:\n    type: transform\n    expr: ${i === 0 ? `'"start"'` : `steps.s${i - 1}.output & "."`}\n${extra}`;
  }
  return s;
}

test("a file of 0 bytes is one KEEL007 diagnostic at the start", () => {
  const { diagnostics } = validateBytes(new Uint8Array(0));
  assert.deepEqual(
    diagnostics.map((d) => [d.code, d.start, d.end]),
    [["KEEL007", 0, 0]],
  );
});

test("a UTF-8 byte order mark is dropped, so positions match what editors show", () => {
  const bytes = new TextEncoder().encode(
    "\uFEFFkeel: 1\nname: x\nsteps:\n  a: { type: transfrom }\n",
  );
  const { text, diagnostics } = validateBytes(bytes);
  assert.equal(text.startsWith("keel"), true);
  const d = diagnostics.find((x) => x.code === "KEEL105")!;
  assert.deepEqual(new LineIndex(text).position(d.start), { line: 3, character: 13 });
});

test("a 5 MB workflow validates, with a diagnostic placed exactly near its end", () => {
  let text = chain(
    20_000,
    "    description: padding padding padding padding padding padding padding\n",
  );
  while (text.length < 5 * 1024 * 1024) text += "# " + "x".repeat(200) + "\n";
  text += "  last:\n    type: transform\n    expr: steps.s19999.outptu\n";
  const { diagnostics } = validate(text);
  assert.equal(diagnostics.length, 1);
  const d = diagnostics[0]!;
  assert.equal(d.code, "KEEL209");
  assert.equal(text.slice(d.start, d.end), "outptu");
  const lines = text.split("\n");
  assert.deepEqual(new LineIndex(text).position(d.start), {
    line: lines.length - 2,
    character: "    expr: steps.s19999.".length,
  });
});

test("a 1,000-step cycle is named on every step, with the middle elided", () => {
  let text = "keel: 1\nname: ring\nsteps:\n";
  for (let i = 0; i < 1000; i++) {
    text += `  s${i}:\n    type: transform\n    expr: steps.s${(i + 1) % 1000}.output\n`;
  }
  const cycles = validate(text).diagnostics.filter((d) => d.code === "KEEL204");
  assert.equal(cycles.length, 1000);
  assert.equal(
    cycles[0]!.message,
    "step 's0' is in a dependency cycle: s0 → s1 → s2 → s3 → s4 → s5 → … (989 more) → s995 → s996 → s997 → s998 → s999 → s0",
  );
  assert.match(cycles[500]!.message, /^step 's500' is in a dependency cycle: s500 → s501 → /);
});

test("a billion-laughs file is refused quickly instead of hanging", () => {
  let text =
    "keel: 1\nname: lol\nsteps:\n  a:\n    type: http\n    url: x\n    body:\n      l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (let i = 1; i < 12; i++)
    text += `      l${i}: &l${i} [${Array(10)
      .fill(`*l${i - 1}`)
      .join(", ")}]\n`;
  const started = Date.now();
  const { diagnostics } = validate(text);
  // A hang guard, not a speed target (that is in the benchmark): 10^12 nodes would never finish.
  assert.ok(Date.now() - started < 5000);
  assert.deepEqual(
    diagnostics.map((d) => d.code),
    ["KEEL004"],
  );
});

test("LineIndex follows LSP: \\n, \\r\\n and a lone \\r each end a line", () => {
  const index = new LineIndex("a\r\nb\rc\nd");
  assert.deepEqual(
    [0, 3, 5, 7].map((o) => index.position(o)),
    [
      { line: 0, character: 0 },
      { line: 1, character: 0 },
      { line: 2, character: 0 },
      { line: 3, character: 0 },
    ],
  );
  assert.equal(index.offset({ line: 2, character: 1 }), 6);
  assert.deepEqual(index.position(999), { line: 3, character: 1 });
});

test("did-you-mean suggests near misses only", () => {
  assert.equal(closest("clasify", ["classify", "draft"]), "classify");
  assert.equal(closest("Draft", ["classify", "draft"]), "draft");
  assert.equal(closest("tpoic", ["topic"]), "topic");
  assert.equal(closest("b", ["a"]), undefined);
  assert.equal(closest("summarize", ["classify", "draft"]), undefined);
});

test("templates end at the first }} outside strings and braces", () => {
  const value = 'a ${{ {"k": "}}"} }} b ${{ x }}';
  const parts = scanTemplates(value).parts.map((p) => value.slice(p.exprStart, p.exprEnd));
  assert.deepEqual(parts, [' {"k": "}}"} ', " x "]);
  assert.equal(scanTemplates("x ${{ y").unterminatedAt, 2);
});

test("batched JSONata parsing gives each expression the AST it has alone", () => {
  clearExpressionCache();
  const texts = ["steps.a.output", "$count([1, 2])", '{"k": inputs.q}', "f(a", "b)", "1 +"];
  const batch = parseExpressions(texts);
  texts.forEach((t, i) => {
    clearExpressionCache();
    let alone: unknown;
    try {
      alone = jsonata(t).ast();
    } catch {
      alone = undefined;
    }
    const got = batch[i]!;
    assert.equal(got.error === undefined, alone !== undefined, t);
    if (alone) assert.deepEqual(stripPositions(got.ast), stripPositions(alone), t);
  });
});

test("texts that only parse together are not accepted as a batch", () => {
  clearExpressionCache();
  // `[f(a, b)]` parses, but neither `f(a` nor `b)` does on its own.
  const [first, second] = parseExpressions(["f(a", "b)"]);
  assert.ok(first!.error);
  assert.ok(second!.error);
});

test("the list of JSONata functions matches the library", async () => {
  for (const name of JSONATA_FUNCTIONS) {
    assert.equal(await jsonata(`$type($${name})`).evaluate({}), "function", name);
  }
  assert.equal(await jsonata("$type($uppercas)").evaluate({}), undefined);
});

function stripPositions(node: unknown): unknown {
  return JSON.parse(JSON.stringify(node, (k, v) => (k === "position" ? undefined : v)));
}
