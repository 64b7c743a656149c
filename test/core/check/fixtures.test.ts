// Every fixture under test/fixtures/diagnostics carries its expected diagnostics as annotations;
// the validator must report exactly those (code, range and message) and nothing else.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CODES, validateBytes } from "@keel/core/index";
import { nodeHost } from "@keel/core/node/host";
import { formatActual, formatExpected, readExpectations } from "../../helpers/annotations";

const dir = resolve("test/fixtures/diagnostics");
const files = readdirSync(dir)
  .filter((f) => /\.keel\.ya?ml$/.test(f))
  .sort();
const seen = new Set<string>();

for (const name of files) {
  test(`fixture ${name} reports exactly its annotated diagnostics`, () => {
    const file = join(dir, name);
    const bytes = readFileSync(file);
    const { text, diagnostics } = validateBytes(bytes, { file, host: nodeHost });
    const expected = formatExpected(readExpectations(text)).sort();
    const actual = formatActual(text, diagnostics).sort();
    for (const d of diagnostics) seen.add(d.code);
    assert.deepEqual(actual, expected);
  });
}

/**
 * Codes no workflow can show today, each with the test that covers it: KEEL113 is an agent's
 * provider without tool calling, and every provider type calls tools.
 */
const NO_FIXTURE: Record<string, string> = {
  KEEL113: "test/core/check/agents.test.ts",
};

test("the fixtures cover every diagnostic code", () => {
  const missing = Object.keys(CODES).filter((c) => !seen.has(c) && !(c in NO_FIXTURE));
  assert.deepEqual(missing, [], `codes without a fixture: ${missing.join(", ")}`);
});
