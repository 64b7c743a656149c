// The language service reaching into child workflows (core/service/children.ts), on files held in
// memory: a loop of a child (`repeat`) reads the child's outputs as `previous.output.<name>` and,
// in `until`, `output.<name>`; `repeat.with:` passes its inputs. Completion, hover, definition and
// the callers' spans all see them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { posix } from "node:path";
import { analyze, reanalyze } from "@keel/core/service/analysis";
import type { ValidationHost } from "@keel/core/index";
import { complete } from "@keel/core/service/completion";
import { hoverAt } from "@keel/core/service/hover";
import { definitionAt } from "@keel/core/service/navigation";
import { callSpans, callsOf, childPartAt, childReader } from "@keel/core/service/children";

const CHILD = `keel: 1
name: draft
inputs:
  n: { type: number }
  style: { type: string, default: plain }
steps:
  grade:
    type: transform
    expr: '{"score": inputs.n * 30}'
outputs:
  score: steps.grade.output.score
`;

const PARENT = `keel: 1
name: refine
steps:
  refine:
    type: workflow
    uses: ./draft.keel.yaml
    with: { n: 1 }
    repeat:
      max: 5
      until: output.score >= 80
      with:
        n: \${{ previous.output.score / 30 + 1 }}
outputs:
  last: steps.refine.output.score
`;

const files: Record<string, string> = {
  "/w/draft.keel.yaml": CHILD,
  "/w/refine.keel.yaml": PARENT,
};
const host: ValidationHost = {
  resolve: (from, relative) => posix.resolve(posix.dirname(from), relative),
  readFile: (path) => files[path],
};
const FILE = "/w/refine.keel.yaml";
const children = childReader(FILE, host)!;

const at = (text: string, needle: string, delta = 0) => {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, needle);
  return i + delta;
};

test("a loop of a child completes previous.output. and, in until, output. with the child's outputs", () => {
  const model = analyze(PARENT, { file: FILE, host }).model;
  const inWith = PARENT.replace("previous.output.score / 30", "previous.output.");
  const offset = at(inWith, "previous.output.", 16);
  const labels = complete(model, inWith, offset, children).map((i) => i.label);
  assert.deepEqual(labels, ["score"]);
  const inUntil = PARENT.replace("until: output.score", "until: output.");
  const until = complete(model, inUntil, at(inUntil, "until: output.", 14), children);
  assert.deepEqual(
    until.map((i) => i.label),
    ["score"],
  );
  assert.deepEqual(
    complete(model, inUntil, at(inUntil, "until: output.", 14)).map((i) => i.label),
    [],
    "without a reader, nothing is known of the child",
  );
});

test("repeat.with: completes the child's inputs; keys typed since the model was built are left out", () => {
  const first = analyze(PARENT, { file: FILE, host });
  const typed = PARENT.replace("        n: ${{", "        style: x\n        n: ${{");
  const second = reanalyze(first, typed, { file: FILE, host });
  assert.equal(second.how, "incremental");
  const text = typed.replace("        style: x\n", "        style: x\n        \n");
  const offset = at(text, "style: x\n", 17);
  const labels = complete(second.semanticModel, text, offset, children).map((i) => i.label);
  assert.deepEqual(labels, [], "both n and style are given");
  const fresh = PARENT.replace("        n: ${{", "        \n        n: ${{");
  const items = complete(first.model, fresh, at(fresh, "        \n", 8), children);
  assert.deepEqual(
    items.map((i) => [i.label, i.detail]),
    [["style", 'string · default `"plain"`']],
  );
});

test("hover and definition on previous.output.x, output.x in until and a repeat.with: key reach the child", () => {
  const model = analyze(PARENT, { file: FILE, host }).model;
  const previous = at(PARENT, "previous.output.score", 17);
  assert.match(hoverAt(model, previous, children)!.markdown, /^\*\*output `score`\*\* of/);
  const def = definitionAt(model, at(PARENT, "output.score >=", 8), children);
  assert.ok(def?.kind === "child");
  assert.equal(CHILD.slice(def.span.start, def.span.end), "score");
  assert.equal(def.child.path, "/w/draft.keel.yaml");
  const key = definitionAt(model, at(PARENT, "        n: ${{", 8), children);
  assert.ok(key?.kind === "child");
  assert.equal(def.child.index.position(key.span.start).line, 3);
});

test("a caller's spans for a child: its uses, the with: and repeat.with: keys, and each output read", () => {
  const model = analyze(PARENT, { file: FILE, host }).model;
  const calls = callsOf(model, (uses) => host.resolve(FILE, uses), "/w/draft.keel.yaml");
  const texts = (kind: "workflow" | "input" | "output", name = "") =>
    callSpans(calls, kind === "workflow" ? { kind } : { kind, name }).map(
      (s) => `${PARENT.slice(0, s.start).split("\n").length}:${PARENT.slice(s.start, s.end)}`,
    );
  assert.deepEqual(texts("workflow"), ["6:./draft.keel.yaml"]);
  assert.deepEqual(texts("input", "n"), ["7:n", "12:n"]);
  assert.deepEqual(texts("output", "score"), ["10:score", "12:score", "14:score"]);
  assert.deepEqual(
    callsOf(model, (uses) => host.resolve(FILE, uses), "/w/other.keel.yaml"),
    [],
  );

  const child = analyze(CHILD, { file: "/w/draft.keel.yaml", host }).model;
  assert.deepEqual(childPartAt(child, at(CHILD, "name: draft", 7)), { kind: "workflow" });
  assert.deepEqual(childPartAt(child, at(CHILD, "inputs.n", 7)), { kind: "input", name: "n" });
  assert.deepEqual(childPartAt(child, at(CHILD, "  score:", 3)), {
    kind: "output",
    name: "score",
  });
  assert.equal(childPartAt(child, at(CHILD, "type: transform", 2)), undefined);
});
