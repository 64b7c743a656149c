// The fast evaluator must agree with jsonata on every expression it answers. Random expressions of
// the subset and beyond, over random data; whatever it does not answer, jsonata does.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import jsonata from "jsonata";
import { compileFast, FALLBACK } from "@keel/core/expr/fast";
import { parseExpression } from "@keel/core/expr/parse";
import { evaluate } from "@keel/core/expr/evaluate";

const NAMES = ["a", "b", "c", "x"];
const POSTFIX = [
  "[0]",
  "[1]",
  "[-1]",
  "[$ % 2 = 0]",
  "[a]",
  '{"k": 1}',
  "{a: b}",
  "^($)",
  "#$i",
  "@$v",
  ".($ + 1)",
  "[]",
  ".a",
];
const OPS = ["+", "-", "*", "/", "%", "&", "=", "!=", "<", "<=", ">", ">=", "and", "or"];

const expr: fc.Arbitrary<string> = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }).map((p) => p.join(".")),
    fc.integer({ min: -5, max: 100 }).map(String),
    fc.constantFrom("0.5", "2.25", '"s"', '"ab"', '""', "true", "false", "null"),
  ),
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    tie("leaf"),
    fc
      .tuple(tie("node"), fc.constantFrom(...OPS), tie("node"))
      .map(([l, op, r]) => `(${l} ${op} ${r})`),
    tie("node").map((e) => `-(${e})`),
    fc.tuple(tie("node"), tie("node"), tie("node")).map(([c, t, e]) => `(${c} ? ${t} : ${e})`),
    fc.array(tie("node"), { maxLength: 3 }).map((items) => `[${items.join(", ")}]`),
    fc
      .tuple(fc.constantFrom("$sum", "$max", "$min", "$count"), tie("node"))
      .map(([f, e]) => `${f}(${e})`),
    // jsonata hangs these on a node of any type: a filter, an index, grouping, sorting, a focus
    // or index binding, a map step. Anything the fast path accepts must keep their meaning.
    fc.tuple(tie("node"), fc.constantFrom(...POSTFIX)).map(([e, p]) => `${e}${p}`),
    fc.tuple(tie("node"), fc.constantFrom(...POSTFIX)).map(([e, p]) => `(${e})${p}`),
  ),
})).node as fc.Arbitrary<string>;

const scalar = fc.oneof(
  fc.integer({ min: -3, max: 50 }),
  fc.constantFrom(0, 1.5, -0.25, "s", "ab", "", "10", true, false, null),
);
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    scalar,
    fc.dictionary(fc.constantFrom(...NAMES), tie("v"), { maxKeys: 3 }),
    fc.array(tie("v"), { maxLength: 3 }),
  ),
})).v;
const context = fc.dictionary(fc.constantFrom(...NAMES), value, { maxKeys: 4 });

test("the fast evaluator agrees with jsonata wherever it answers", async (t) => {
  let answered = 0;
  let total = 0;
  await fc.assert(
    fc.asyncProperty(expr, context, async (text, ctx) => {
      total++;
      const parsed = parseExpression(text);
      if (!parsed.ast) return;
      const fast = compileFast(parsed.ast);
      if (!fast) return;
      const got = fast(ctx);
      if (got === FALLBACK) return;
      answered++;
      let expected: unknown;
      try {
        expected = await jsonata(text).evaluate(ctx);
      } catch (e) {
        assert.fail(
          `${text} on ${JSON.stringify(ctx)}: fast gave ${JSON.stringify(got)}, jsonata threw ${(e as Error).message}`,
        );
      }
      assert.deepEqual(normalise(got), normalise(expected), `${text} on ${JSON.stringify(ctx)}`);
    }),
    { numRuns: 3000 },
  );
  t.diagnostic(`${answered} of ${total} expressions answered by the fast path`);
  // About a quarter: the shapes with a filter, grouping or binding after them go to jsonata.
  assert.ok(answered > total * 0.15, `only ${answered} of ${total} answered by the fast path`);
});

const text = fc.oneof(
  fc.constantFrom('"hello"', '"ab"', '""', '"a😀b"', "a", "b", "a.b", "1", "true"),
  fc.constantFrom("a", '"hello"').map((e) => `(${e} & "xyz")`),
);
const position = fc.oneof(
  fc.integer({ min: -8, max: 8 }).map(String),
  fc.constantFrom("1.5", "-0.5", "b", "c", '"2"', "null"),
);
const stringCall = fc.oneof(
  fc
    .tuple(text, position, fc.option(position))
    .map(([s, a, b]) => `$substring(${s}, ${a}${b === null ? "" : `, ${b}`})`),
  text.map((s) => `$length(${s})`),
);
const stringContext = fc.record({
  a: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("a😀b", "héllo", 3, null)),
  b: fc.oneof(fc.integer({ min: -6, max: 6 }), fc.constantFrom("x", 2.5)),
  c: fc.integer({ min: -3, max: 9 }),
});

test("$substring and $length agree with jsonata wherever the fast evaluator answers", async () => {
  let answered = 0;
  let total = 0;
  await fc.assert(
    fc.asyncProperty(stringCall, stringContext, async (text, ctx) => {
      total++;
      const fast = compileFast(parseExpression(text).ast!)!;
      assert.ok(fast, text);
      const got = fast(ctx);
      if (got === FALLBACK) return;
      answered++;
      const expected = await jsonata(text).evaluate(ctx);
      assert.deepEqual(got, expected, `${text} on ${JSON.stringify(ctx)}`);
    }),
    { numRuns: 3000 },
  );
  assert.ok(answered > total * 0.3, `only ${answered} of ${total} answered by the fast path`);
});

test("a filter, index or grouping after anything but a name is never dropped", async () => {
  const data = { x: [1, 2, 3], s: "v", a: { b: 1 } };
  for (const text of [
    "[1, 2, 3][0]",
    "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9][$ % 2 = 0]",
    "$count(x)[1]",
    '(s){"k": 1}',
    '"s"[0]',
    "1[1]",
    "true[0]",
    "(a.b)[0]",
    "-(a.b)[1]",
    "(a.b > 0 ? x : s)[1]",
    "(1 + 2)[0]",
    "$substring(s, 0)[1]",
    "[a.b, 2]{'k': $}",
  ]) {
    const expected = normalise(await jsonata(text).evaluate(data));
    const fast = compileFast(parseExpression(text).ast!);
    const got = fast ? fast(data) : FALLBACK;
    if (got !== FALLBACK) assert.deepEqual(normalise(got), expected, `fast path on ${text}`);
    // And what a run records: fast path or jsonata, the same answer.
    assert.deepEqual(normalise(await evaluate(text, { context: data })), expected, text);
  }
});

/** jsonata marks its result sequences; compare plain values. */
function normalise(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
