// What the graph panel is sent for a workflow: steps, types, key lines, edges, conditions, errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { validate } from "@keel/core/check/validate";
import { LineIndex } from "@keel/core/model/line-index";
import { graphView, stepAtLine } from "@keel/core/service/graph-view";
import { agentFlow } from "../../webview/agent-run";

function view(text: string) {
  const { model, diagnostics } = validate(text);
  const index = new LineIndex(text);
  return { g: graphView(model, diagnostics, index, "file:///w/x.keel.yaml"), model, index };
}

const FLOW = `keel: 1
name: demo
steps:
  a:
    type: transform
    expr: 1
  b:
    type: transform
    if: steps.a.output > 0
    expr: steps.a.output + 1
  c:
    type: assert
    needs: [a, b]
    that: steps.b.output = 2
`;

test("steps with their types and key lines, edges once each, the conditional step marked", () => {
  const { g } = view(FLOW);
  assert.equal(g.name, "demo");
  assert.deepEqual(g.steps, [
    { id: "a", type: "transform", line: 3, conditional: false },
    { id: "b", type: "transform", line: 6, conditional: true },
    { id: "c", type: "assert", line: 10, conditional: false },
  ]);
  assert.deepEqual(g.edges.map((e) => `${e.from}->${e.to}`).sort(), ["b->a", "c->a", "c->b"]);
  assert.equal(g.errors, 0);
});

test("a broken file still shows what parses, and counts its errors", () => {
  const { g } = view(
    FLOW.replace("needs: [a, b]", "needs: [a, zz]").replace("type: assert", "type: asert"),
  );
  assert.deepEqual(
    g.steps.map((s) => [s.id, s.type]),
    [
      ["a", "transform"],
      ["b", "transform"],
      ["c", "unknown"],
    ],
  );
  assert.ok(g.errors >= 2);
});

test("the step under the cursor is the one whose entry holds the line", () => {
  const { model, index } = view(FLOW);
  assert.equal(stepAtLine(model, index, 0), null);
  assert.equal(stepAtLine(model, index, 4), "a");
  assert.equal(stepAtLine(model, index, 8), "b");
  assert.equal(stepAtLine(model, index, 13), "c");
});

test("every sample's graph has its steps and only known ids in edges", () => {
  for (const name of [
    "support-triage",
    "rag-answer",
    "deploy-check",
    "meeting-actions",
    "provider-fallback",
  ]) {
    const text = readFileSync(`samples/${name}.keel.yaml`, "utf8");
    const { g } = view(text);
    assert.ok(g.steps.length > 0, name);
    const ids = new Set(g.steps.map((s) => s.id));
    for (const e of g.edges)
      assert.ok(ids.has(e.from) && ids.has(e.to), `${name}: ${e.from}->${e.to}`);
    assert.equal(g.errors, 0, name);
  }
});

test("a map step and a workflow step with repeat say so; a workflow step is of type workflow", () => {
  const { g } = view(`keel: 1
name: scopes
steps:
  each:
    type: transform
    for_each: "[1, 2, 3]"
    expr: item * 2
  child:
    type: workflow
    uses: ./child.keel.yaml
  loop:
    type: workflow
    uses: ./child.keel.yaml
    repeat:
      max: 3
      until: output.done
`);
  assert.deepEqual(g.steps, [
    { id: "each", type: "transform", line: 3, conditional: false, map: true },
    { id: "child", type: "workflow", line: 7, conditional: false },
    { id: "loop", type: "workflow", line: 10, conditional: false, repeat: true },
  ]);
});

test("an agent step is of type agent (its node shows its turns and tool calls)", () => {
  const { g } = view(agentFlow());
  assert.deepEqual(
    g.steps.map((s) => [s.id, s.type]),
    [
      ["research", "agent"],
      ["report", "transform"],
      ["notes", "transform"],
    ],
  );
});
