// Every sample validates clean: no errors, no warnings, tool modules and all.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { validateBytes } from "@keel/core/index";
import { nodeHost } from "@keel/core/node/host";

const samples = readdirSync("samples").filter((f) => /\.keel\.ya?ml$/.test(f));

test("there are at least four samples", () => {
  assert.ok(samples.length >= 4, samples.join(", "));
});

for (const name of samples) {
  test(`sample ${name} validates without a diagnostic`, () => {
    const file = resolve(join("samples", name));
    const { diagnostics } = validateBytes(readFileSync(file), { file, host: nodeHost });
    assert.deepEqual(diagnostics, []);
  });
}
