// The extension manifest: the `keel` language, its grammars and the files they point at.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";

const manifest = JSON.parse(readFileSync("package.json", "utf8"));

test("the keel language covers *.keel.yaml and *.keel.yml with a configuration", () => {
  const keel = manifest.contributes.languages.find((l: { id: string }) => l.id === "keel");
  assert.deepEqual(keel.extensions, [".keel.yaml", ".keel.yml"]);
  assert.ok(existsSync(keel.configuration));
  JSON.parse(readFileSync(keel.configuration, "utf8"));
});

test("the grammars exist, embed YAML, and inject ${{ }} expression highlighting", () => {
  const grammars = manifest.contributes.grammars as {
    path: string;
    scopeName: string;
    injectTo?: string[];
  }[];
  const base = grammars.find((g) => g.scopeName === "source.keel")!;
  assert.deepEqual(JSON.parse(readFileSync(base.path, "utf8")).patterns, [
    { include: "source.yaml" },
  ]);
  const injection = grammars.find((g) => g.injectTo?.includes("source.keel"))!;
  const grammar = JSON.parse(readFileSync(injection.path, "utf8"));
  assert.equal(grammar.scopeName, injection.scopeName);
  const template = grammar.repository.template;
  assert.ok(new RegExp(template.begin).test("${{"));
  assert.ok(new RegExp(template.end).test("}}"));
  for (const p of grammar.repository.expression.patterns as {
    match?: string;
    begin?: string;
    end?: string;
  }[]) {
    for (const source of [p.match, p.begin, p.end]) if (source) new RegExp(source);
  }
  const fn = grammar.repository.expression.patterns.find(
    (p: { name: string }) => p.name === "entity.name.function.jsonata",
  );
  assert.deepEqual("$count(steps.a.output)".match(new RegExp(fn.match, "g")), ["$count"]);
});

test("the manifest's entry points and bin are where the build puts them", () => {
  assert.equal(manifest.main, "./dist/extension.js");
  assert.ok(existsSync(manifest.main), "run npm run build");
  assert.equal(manifest.bin.keel, "bin/keel.js");
  assert.ok(
    existsSync("dist/server.js") && existsSync("dist/cli.js") && existsSync("dist/webview.js"),
  );
});

test("better-sqlite3 is pinned to a 12.x release (13 needs Node 22)", () => {
  assert.match(manifest.dependencies["better-sqlite3"], /^12\.\d+\.\d+$/);
  assert.equal(manifest.engines.node, ">=20");
});
