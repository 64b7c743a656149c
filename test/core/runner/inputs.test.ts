// Every input is checked against its `type` and `schema` before a run starts: values from
// `--input`, from `--inputs file.json` and defaults alike.
import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveInputs } from "@keel/core/runner/inputs";
import type { Workflow } from "@keel/core/model/schema";

const workflow = {
  keel: 1,
  name: "t",
  inputs: {
    tone: { type: "string", default: "calm", schema: { enum: ["calm", "formal"] } },
    code: { type: "string", default: "abc", schema: { pattern: "^[a-z]+$" } },
    count: { type: "number", default: 5, schema: { minimum: 1, maximum: 10 } },
    tags: { type: "array", default: [], schema: { items: { type: "string" }, maxItems: 2 } },
  },
  steps: {},
} as unknown as Workflow;

test("valid values and defaults pass", () => {
  const r = resolveInputs(workflow, { tags: ["a"] }, [
    ["tone", "formal"],
    ["count", "10"],
  ]);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.inputs, { tags: ["a"], tone: "formal", count: 10, code: "abc" });
});

test("--input values that break the schema name the input and the rule", () => {
  const r = resolveInputs(workflow, {}, [
    ["tone", "loud"],
    ["code", "ab1"],
    ["count", "11"],
  ]);
  assert.deepEqual(r.problems, [
    `input 'tone' is the string "loud", which breaks its schema: must be one of "calm", "formal" (\`enum\`)`,
    `input 'code' is the string "ab1", which breaks its schema: must match pattern "^[a-z]+$" (\`pattern\`)`,
    "input 'count' is the number 11, which breaks its schema: must be <= 10 (`maximum`)",
  ]);
});

test("values from the inputs file are checked for their type and schema", () => {
  const r = resolveInputs(workflow, { count: "5", tags: ["a", 2] }, []);
  assert.deepEqual(r.problems, [
    `input 'count' is the string "5", but its type is number`,
    "input 'tags' is a list, which breaks its schema: at /1 must be string (`type`)",
  ]);
});

test("a default that breaks its own schema is refused like a given value", () => {
  const bad = {
    ...workflow,
    inputs: { count: { type: "number", default: 0, schema: { minimum: 1 } } },
  } as unknown as Workflow;
  assert.deepEqual(resolveInputs(bad, {}, []).problems, [
    "input 'count' is the number 0, which breaks its schema: must be >= 1 (`minimum`)",
  ]);
  const wrongType = {
    ...workflow,
    inputs: { on: { type: "boolean", default: "yes" } },
  } as unknown as Workflow;
  assert.deepEqual(resolveInputs(wrongType, {}, []).problems, [
    `input 'on' is the string "yes", but its type is boolean`,
  ]);
});
