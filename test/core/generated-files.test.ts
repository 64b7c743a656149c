// Generated files are committed; these tests fail when they no longer match their source.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { renderJsonSchema } from "../../scripts/json-schema";
import { renderDiagnosticsTable } from "../../scripts/diagnostics-table";

test("schema/keel.schema.json matches the zod schema (run `npm run schema` when this fails)", () => {
  assert.equal(readFileSync("schema/keel.schema.json", "utf8"), renderJsonSchema());
});

test("docs/diagnostics.md matches the codes table (run `npm run docs` when this fails)", () => {
  assert.equal(readFileSync("docs/diagnostics.md", "utf8"), renderDiagnosticsTable());
});

test("the JSON Schema keeps descriptions, patterns and strictness for other YAML tools", () => {
  const schema = JSON.parse(readFileSync("schema/keel.schema.json", "utf8"));
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(schema.required.sort(), ["keel", "name", "steps"]);
  assert.match(schema.properties.steps.description, /dependencies decide the order/);
  assert.equal(schema.properties.steps.propertyNames.pattern, "^[a-z][a-z0-9_]*$");
  assert.equal(
    schema.properties.defaults.properties.timeout.pattern,
    "^(0|[1-9][0-9]*)(\\.[0-9]+)?(ms|s|m|h)$",
  );
});
