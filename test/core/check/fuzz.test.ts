// Property: whatever the text, the validator answers without throwing, and every diagnostic has a
// known code, a message, and a range inside the document. Texts are the samples and fixtures,
// mutated the way editing mangles files: lines deleted, duplicated, moved, characters inserted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { CODES, LineIndex, validate } from "@keel/core/index";

function workflows(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.keel\.ya?ml$/.test(f))
    .map((f) => new TextDecoder().decode(readFileSync(join(dir, f))));
}

const seeds = [...workflows("samples"), ...workflows("test/fixtures/diagnostics")];
const NASTY = [
  "${{",
  "}}",
  "&a ",
  "*a",
  ": ",
  "- ",
  "#",
  '"',
  "'",
  "\t",
  "\r",
  "\n",
  "[",
  "{",
  "|",
  ">",
  "\\",
  "\uFFFD",
  "😀",
  "steps.",
  "$now()",
  "<<: ",
];

type Mutation =
  | { kind: "delete"; at: number }
  | { kind: "duplicate"; at: number }
  | { kind: "move"; from: number; to: number }
  | { kind: "insert"; at: number; text: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("move" as const), from: fc.nat(), to: fc.nat() }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.oneof(
      fc.constantFrom(...NASTY),
      fc.string({ maxLength: 8 }),
      fc.string({ unit: "binary", maxLength: 3 }),
    ),
  }),
);

function apply(text: string, m: Mutation): string {
  if (m.kind === "insert") {
    const at = text.length === 0 ? 0 : m.at % (text.length + 1);
    return text.slice(0, at) + m.text + text.slice(at);
  }
  const lines = text.split("\n");
  const at = (n: number) => n % lines.length;
  if (m.kind === "delete") lines.splice(at(m.at), 1);
  else if (m.kind === "duplicate") lines.splice(at(m.at), 0, lines[at(m.at)]!);
  else {
    const [line] = lines.splice(at(m.from), 1);
    lines.splice(m.to % (lines.length + 1), 0, line!);
  }
  return lines.join("\n");
}

test("mutated workflows: validate never throws and every range lies inside the document", () => {
  assert.ok(seeds.length >= 4, "the samples and fixtures are the seeds");
  fc.assert(
    fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 6 }), (seed, mutations) => {
      const text = mutations.reduce(apply, seeds[seed % seeds.length]!);
      const { diagnostics } = validate(text);
      const index = new LineIndex(text);
      for (const d of diagnostics) {
        assert.ok(d.code in CODES, d.code);
        assert.ok(d.message.length > 0);
        assert.ok(
          0 <= d.start && d.start <= d.end && d.end <= text.length,
          `${d.code} ${d.start}-${d.end} of ${text.length}`,
        );
        const end = index.position(d.end);
        assert.ok(end.line < index.lineCount);
      }
    }),
    { numRuns: 2500 },
  );
});
