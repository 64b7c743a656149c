// Maps, child workflows and loops in the validator (docs/format.md, "Maps, child workflows and
// loops"): exactly which paths are bare expressions (schema messages and completion agree), that
// every new expression site makes dependencies in the graph, and that an incremental re-check
// falls back when an edit changes what other steps read of a step (for_each, repeat, uses).
import { test } from "node:test";
import assert from "node:assert/strict";
import { validate, validateInDetail } from "@keel/core/check/validate";
import { incrementalState, revalidate } from "@keel/core/check/incremental";
import { isBareExpressionPath } from "@keel/core/model/schema";
import { complete } from "@keel/core/service/completion";
import { nodeHost } from "@keel/core/node/host";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

test("exactly expr, if, that items, for_each, key, snapshot.version, repeat.until and outputs are bare", () => {
  const bare: PropertyKey[][] = [
    ["steps", "a", "expr"],
    ["steps", "a", "if"],
    ["steps", "a", "that"],
    ["steps", "a", "that", 0],
    ["steps", "a", "for_each"],
    ["steps", "a", "key"],
    ["steps", "a", "snapshot", "version"],
    ["steps", "a", "repeat", "until"],
    ["outputs", "x"],
  ];
  const templates: PropertyKey[][] = [
    ["steps", "a", "with", "key"],
    ["steps", "a", "with", "if"],
    ["steps", "a", "repeat", "with", "key"],
    ["steps", "a", "body", "expr"],
    ["steps", "a", "output", "schema", "properties", "key"],
    ["steps", "a", "prompt"],
    ["steps", "a", "version"],
    ["providers", "p", "key"],
    ["inputs", "key"],
    ["outputs"],
  ];
  for (const p of bare) assert.equal(isBareExpressionPath(p), true, p.join("."));
  for (const p of templates) assert.equal(isBareExpressionPath(p), false, p.join("."));
});

test("a tool's `with: { key: … }` is a template: no bare-expression diagnostic, no expression completion", () => {
  const text = [
    "keel: 1",
    "name: t",
    "steps:",
    "  a: { type: transform, expr: 1 }",
    "  t:",
    "    type: tool",
    "    uses: ./x.js#y",
    "    with:",
    "      key: steps.",
    "  m:",
    "    type: transform",
    "    for_each: '[1]'",
    "    key: steps.",
    "    expr: item",
    "",
  ].join("\n");
  const { model } = validate(text);
  const inTool = text.indexOf("steps.\n") + "steps.".length;
  const inMap = text.lastIndexOf("steps.\n") + "steps.".length;
  const labels = (offset: number) => complete(model, text, offset).map((i) => i.label);
  assert.ok(!labels(inTool).includes("a"), "the tool's with.key is not an expression");
  assert.ok(labels(inMap).includes("a"), "a map step's key is one");
  const withObject = text.replace("      key: steps.", "      key: { a: 1 }");
  assert.deepEqual(
    validate(withObject).diagnostics.filter((d) => d.code === "KEEL304"),
    [],
    "a mapping under a tool's with.key is a value, not a misread expression",
  );
});

test("for_each, key, a workflow step's with, repeat.until and repeat.with make dependencies", () => {
  const text = `keel: 1
name: g
steps:
  a: { type: transform, expr: "[1]" }
  b: { type: transform, expr: "1" }
  c: { type: transform, expr: "{}" }
  d: { type: transform, expr: "true" }
  e: { type: transform, expr: "2" }
  map:
    type: transform
    for_each: steps.a.output
    key: $string(item) & steps.b.output
    expr: item
  child:
    type: workflow
    uses: ./child.keel.yaml
    with: { x: "\${{ steps.c.output }}" }
    repeat:
      max: 2
      until: output.done or steps.d.output
      with: { x: "\${{ steps.e.output }}" }
`;
  const { model, diagnostics } = validate(text);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(model.graph.deps.get("map"), ["a", "b"]);
  assert.deepEqual(model.graph.deps.get("child"), ["c", "d", "e"]);
});

test("an edit that changes a step's for_each, repeat or uses is not re-checked alone", () => {
  const text = `keel: 1
name: i
inputs:
  list: { type: array, default: [] }
steps:
  map:
    type: transform
    for_each: inputs.list
    expr: item
  loop:
    type: workflow
    uses: ./a.keel.yaml
    repeat: { max: 2 }
  read:
    type: transform
    expr: steps.map.items & steps.loop.iterations
`;
  const state = incrementalState(text, {}, validateInDetail(text));
  assert.ok(state, "the workflow is eligible");
  const inside = text.replace("expr: item", "expr: item & 1");
  assert.ok(
    revalidate(state, inside),
    "an edit inside the map step's expression is re-checked alone",
  );
  const cases = {
    "for_each removed": text.replace("    for_each: inputs.list\n", "").replace("item\n", "1\n"),
    "repeat removed": text.replace("    repeat: { max: 2 }\n", ""),
    "uses changed": text.replace("./a.keel.yaml", "./b.keel.yaml"),
  };
  for (const [name, changed] of Object.entries(cases)) {
    assert.notEqual(changed, text, name);
    assert.equal(revalidate(state, changed), undefined, name);
    // Without a host the child is not read, so only for_each and repeat show here.
    if (name !== "uses changed") {
      assert.notDeepEqual(validate(changed).diagnostics, validate(text).diagnostics, name);
    }
  }
});

test("with a host, re-checking one edited step gives what a full validation gives (child files read again)", () => {
  const file = resolve("test/fixtures/diagnostics/workflow-steps.keel.yaml");
  const options = { file, host: nodeHost };
  const text = readFileSync(file, "utf8");
  const steps = text.indexOf("\nsteps:\n");
  const state = incrementalState(text, options, validateInDetail(text, options));
  assert.ok(state);
  let incremental = 0;
  for (let at = steps + 9; at < text.length; at += 19) {
    for (const insert of ["x", " 1", "\n    with: {}"]) {
      const edited = text.slice(0, at) + insert + text.slice(at);
      const again = revalidate(state, edited);
      if (!again) continue;
      incremental++;
      assert.deepEqual(
        again.diagnostics,
        validate(edited, options).diagnostics,
        JSON.stringify(insert) + ` at ${at}`,
      );
    }
  }
  assert.ok(incremental > 20, `only ${incremental} edits were re-checked incrementally`);
});
