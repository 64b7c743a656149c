// `keel validate` as a user runs it: the built CLI in a child process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { keel, workspace } from "../helpers/cli";

const GOOD = "keel: 1\nname: good\nsteps:\n  a:\n    type: transform\n    expr: '\"x\"'\n";
const BAD =
  "keel: 1\nname: bad\nsteps:\n  a:\n    type: transform\n    expr: steps.b.output\n    needs: [c]\n";

test("human output: file:line:col severity code message, grouped per file, exit 1 on errors", () => {
  const dir = workspace({
    "flows/bad.keel.yaml": BAD,
    "flows/good.keel.yaml": GOOD,
    "notes.yaml": "x: 1",
  });
  const r = keel(["validate", "flows"], dir);
  assert.equal(r.code, 1);
  assert.equal(
    r.stdout,
    [
      "flows/bad.keel.yaml",
      "flows/bad.keel.yaml:6:17 error KEEL201 unknown step 'b'",
      "flows/bad.keel.yaml:7:13 error KEEL201 unknown step 'c' in needs",
      "",
      "2 errors, 0 warnings in 1 of 2 files",
      "",
    ].join("\n"),
  );
});

test("--json prints one array with zero-based LSP ranges", () => {
  const dir = workspace({ "bad.keel.yaml": BAD });
  const r = keel(["validate", "--json", "bad.keel.yaml"], dir);
  assert.equal(r.code, 1);
  assert.deepEqual(JSON.parse(r.stdout), [
    {
      file: "bad.keel.yaml",
      range: { start: { line: 5, character: 16 }, end: { line: 5, character: 17 } },
      severity: "error",
      code: "KEEL201",
      message: "unknown step 'b'",
    },
    {
      file: "bad.keel.yaml",
      range: { start: { line: 6, character: 12 }, end: { line: 6, character: 13 } },
      severity: "error",
      code: "KEEL201",
      message: "unknown step 'c' in needs",
    },
  ]);
});

test("a clean file exits 0 and says so; --json prints an empty array", () => {
  const dir = workspace({ "good.keel.yaml": GOOD });
  assert.deepEqual(keel(["validate", "good.keel.yaml"], dir), {
    code: 0,
    stdout: "1 workflow file valid\n",
    stderr: "",
  });
  assert.equal(keel(["validate", "--json", "."], dir).stdout, "[]\n");
});

test("bad usage exits 2 with a message", () => {
  const dir = workspace({});
  for (const args of [
    ["validate"],
    ["validate", "--nope", "x"],
    ["validate", "missing.keel.yaml"],
    ["frobnicate"],
  ]) {
    const r = keel(args, dir);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, /^keel: /);
  }
});

test("colour only when asked for or on a terminal", () => {
  const dir = workspace({ "bad.keel.yaml": BAD });
  assert.doesNotMatch(keel(["validate", "bad.keel.yaml"], dir).stdout, /\[3\dm/);
  const forced = keel(["validate", "bad.keel.yaml"], dir, { FORCE_COLOR: "1" }).stdout;
  assert.ok(forced.includes("\u001b[31merror\u001b[39m"), forced);
});

test(".keel/settings.json changes severities by code or name, and turns codes off", () => {
  const dir = workspace({
    "bad.keel.yaml": BAD,
    ".keel/settings.json": JSON.stringify({ severity: { KEEL201: "warning" } }),
  });
  const r = keel(["validate", "--json", "bad.keel.yaml"], dir);
  assert.equal(r.code, 0);
  assert.deepEqual(
    JSON.parse(r.stdout).map((d: { severity: string }) => d.severity),
    ["warning", "warning"],
  );
  writeFileSync(
    join(dir, ".keel/settings.json"),
    JSON.stringify({ severity: { "unknown-step": "off", KEEL999: "off" } }),
  );
  const off = keel(["validate", "--json", "bad.keel.yaml"], dir);
  assert.equal(off.stdout, "[]\n");
  assert.match(off.stderr, /unknown diagnostic code 'KEEL999'/);
});

test("tool modules are resolved next to the workflow file, whatever the current folder", () => {
  const flow = "keel: 1\nname: t\nsteps:\n  a:\n    type: tool\n    uses: ./lib/tool.js#go\n";
  const dir = workspace({
    "sub/t.keel.yaml": flow,
    "sub/lib/tool.js": "export function go() { return 1; }\n",
  });
  assert.equal(keel(["validate", "sub/t.keel.yaml"], dir).code, 0);
  writeFileSync(join(dir, "sub/lib/tool.js"), "export function gone() {}\n");
  const r = keel(["validate", "sub/t.keel.yaml"], dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /KEEL502 '\.\/lib\/tool\.js' has no export 'go': it exports gone$/m);
});
