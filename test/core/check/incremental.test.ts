// Property: re-validating after an edit gives exactly what a full validation of the new text
// gives (codes, ranges, messages, severities, related places and fixes, in order), whether the
// edit was re-checked incrementally or fell back to a full validation. Texts are the samples, the
// diagnostics fixtures and generated workflows; edits are random and biased towards the inside of
// steps, where the incremental path applies, and must take that path often enough to mean it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { validate, validateInDetail, type ValidateOptions } from "@keel/core/check/validate";
import { incrementalState, revalidate, type IncrementalState } from "@keel/core/check/incremental";
import { splicedModel } from "@keel/core/check/splice";
import type { WorkflowModel } from "@keel/core/check/validate";
import type { Loc } from "@keel/core/model/parse";
import type { Diagnostic } from "@keel/core/model/diagnostic";
import { LineIndex } from "@keel/core/model/line-index";
import { generate } from "../../../bench/generate";

function workflows(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.keel\.ya?ml$/.test(f))
    .map((f) => readFileSync(join(dir, f), "utf8"));
}

const generated = [
  generate("layered", 40, { seed: 3 }).text,
  generate("chain", 12, { seed: 5 }).text,
  generate("fanout", 10, { seed: 7 }).text,
];
const seeds = [...workflows("samples"), ...workflows("test/fixtures/diagnostics"), ...generated];
const FRAGMENTS = [
  "x",
  "_",
  "1",
  " ",
  "  ",
  "\n",
  "\n    ",
  "\n      ",
  "\r\n",
  "#",
  " # note",
  ":",
  ": ",
  "- ",
  "'",
  '"',
  "{",
  "[",
  "}",
  "|",
  "${{ ",
  " }}",
  "steps.",
  "steps.check_0000.output.",
  ".output.summary",
  "inputs.topic",
  "inputs.nope",
  "$now()",
  "$lengthh(",
  "needs: [",
  "\n    needs: [",
  "\n    colour: red",
  "\n    timeout: 30",
  "\n    timeout: 2m",
  "\n    provider: mock",
  "\n    type: llm",
  "\n    output: {format: json}",
  "\n    if: steps.",
  "sk-abcdefghijklmnopqrstuvwxyz123456",
  "&a ",
  "*a",
  "\t",
  "é🚢",
];

/** A full validation's state, or undefined when the text is not eligible. */
function fullState(text: string, options: ValidateOptions = {}): IncrementalState | undefined {
  return incrementalState(text, options, validateInDetail(text, options));
}

function plain(list: readonly Diagnostic[]): string[] {
  return list.map((d) =>
    JSON.stringify([d.start, d.end, d.code, d.severity, d.message, d.related, d.fixes]),
  );
}

/** A model as plain data: every location (with its scalar's range), value, site and graph edge. */
function modelData(model: WorkflowModel): unknown {
  const loc = (l: Loc): unknown => [
    l.span,
    l.keySpan,
    l.viaAlias,
    // the scalar's value range; yaml's third offset (the node's end with what trails it) depends
    // on what follows the node, and nothing reads it
    l.scalar && [l.scalar.range?.slice(0, 2), l.scalar.type, l.scalar.value],
    l.children && [...l.children].map(([k, c]) => [k, loc(c)]),
  ];
  const { yaml, parts, sites, graph } = model;
  return {
    text: yaml.text,
    value: JSON.stringify(yaml.value),
    root: yaml.root && loc(yaml.root),
    anchors: yaml.anchors,
    steps: parts && [...parts.steps.values()].map((s) => [s.id, s.type, s.keySpan, loc(s.loc)]),
    inputs: parts && [...parts.inputs.values()].map((s) => [s.id, s.keySpan, loc(s.loc)]),
    providers: parts && [...parts.providers.values()].map((s) => [s.id, s.keySpan, loc(s.loc)]),
    sites: sites.map(({ site, info }) => [
      site.owner,
      site.role,
      site.text,
      site.valueStart,
      site.bare,
      loc(site.loc),
      JSON.stringify(info.refs),
    ]),
    graph: [graph.ids, graph.edges, [...graph.deps], [...graph.rank], graph.order, graph.cycles],
  };
}

const edit = fc.record({
  /** Where, in ten-thousandths of the text's length (fc.double would favour the ends). */
  at: fc.integer({ min: 0, max: 9999 }),
  remove: fc.oneof(fc.constant(0), fc.nat(3), fc.nat(12)),
  insert: fc.oneof(fc.constant(""), fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 3 })),
});

test("incremental re-validation after random edits equals a full validation of the new text, diagnostics and model", () => {
  let incremental = 0;
  let edits = 0;
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(edit, { minLength: 1, maxLength: 6 }),
      (seed, list) => {
        let text = seed;
        let state = fullState(text);
        for (const e of list) {
          const at = Math.floor((e.at * text.length) / 10000);
          text = text.slice(0, at) + e.insert + text.slice(at + e.remove);
          edits++;
          const again = state && revalidate(state, text);
          if (again) {
            incremental++;
            const full = validate(text);
            assert.deepEqual(plain(again.diagnostics), plain(full.diagnostics));
            assert.deepEqual(modelData(splicedModel(again.state)), modelData(full.model));
            state = again.state;
          } else state = fullState(text);
        }
      },
    ),
    { numRuns: 1000 },
  );
  // The edits land inside steps most of the time; the incremental path must have carried many.
  assert.ok(incremental > edits / 8, `only ${incremental} of ${edits} edits were incremental`);
});

test("an edit inside a step's prompt is re-checked incrementally and its diagnostic appears and goes", () => {
  const text = generated[0]!;
  const state = fullState(text);
  assert.ok(state, "a generated workflow is eligible");
  const at = text.indexOf("inputs.topic", text.indexOf("prompt:"));
  const broken = text.slice(0, at) + "inputs.topix" + text.slice(at + "inputs.topic".length);
  const first = revalidate(state, broken);
  assert.ok(first, "the edit was re-checked incrementally");
  assert.deepEqual(
    first.diagnostics.map((d) => [d.code, broken.slice(d.start, d.end)]),
    [["KEEL202", "topix"]],
  );
  const repaired = revalidate(first.state, text);
  assert.ok(repaired);
  assert.deepEqual(repaired.diagnostics, []);
});

test("edits that may change more than one step fall back to a full validation", () => {
  const text = generated[1]!;
  const state = fullState(text)!;
  const second = text.indexOf("\n  ", text.indexOf("\nsteps:\n") + 10);
  const cases = {
    "a new step key":
      text.slice(0, second + 1) +
      "  extra:\n    type: transform\n    expr: 1\n" +
      text.slice(second + 1),
    "a changed type": text.replace(/type: (transform|llm|http|shell|assert)/, "type: tool"),
    "a YAML error": text.replace("expr:", "expr: ["),
  };
  for (const [name, changed] of Object.entries(cases)) {
    assert.notEqual(changed, text, name);
    assert.equal(revalidate(state, changed), undefined, name);
  }
});

test("a workflow with anchors is never re-checked incrementally", () => {
  const text = "keel: 1\nname: a\nsteps:\n  a: &x\n    type: transform\n    expr: 1\n  b: *x\n";
  assert.equal(fullState(text), undefined);
});

test("a line index updated after an edit equals one built from the new text", () => {
  const texts = ["a\nb\r\nc\rd\n", "keel: 1\r\nname: x\r\n\r\n", "\n\n\r\r\n", "", "x"];
  const piece = fc.constantFrom("", "\n", "\r", "\r\n", "a", "ab\ncd", "\r\r", "\n\r");
  fc.assert(
    fc.property(
      fc.constantFrom(...texts),
      fc.nat(40),
      fc.nat(4),
      piece,
      (base, at, remove, insert) => {
        const start = Math.min(at, base.length);
        const oldEnd = Math.min(base.length, start + remove);
        const text = base.slice(0, start) + insert + base.slice(oldEnd);
        const updated = new LineIndex(base).afterEdit(text, start, oldEnd, start + insert.length);
        const fresh = new LineIndex(text);
        assert.equal(updated.lineCount, fresh.lineCount);
        for (let o = 0; o <= text.length; o++) {
          assert.deepEqual(updated.position(o), fresh.position(o));
        }
      },
    ),
    { numRuns: 3000 },
  );
});
