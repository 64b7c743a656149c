// The linter, the formatter and the type checker run as tests, so `npm test` gates them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

function run(bin: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [`node_modules/${bin}`, ...args], { encoding: "utf8" });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

test("eslint reports nothing", () => {
  const r = run("eslint/bin/eslint.js", ["."]);
  assert.equal(r.status, 0, r.output);
});

test("prettier finds every file formatted", () => {
  const r = run("prettier/bin/prettier.cjs", ["--check", "."]);
  assert.equal(r.status, 0, r.output);
});

test("the TypeScript projects type-check (node side and webview)", () => {
  const node = run("typescript/bin/tsc", ["-p", "tsconfig.json", "--noEmit"]);
  assert.equal(node.status, 0, node.output);
  const web = run("typescript/bin/tsc", ["-p", "webview/tsconfig.json", "--noEmit"]);
  assert.equal(web.status, 0, web.output);
});
