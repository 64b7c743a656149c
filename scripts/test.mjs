// The test command (npm test): builds the bundles, then runs every test file under test/ with
// node's test runner (TypeScript through tsx), so the output ends with the runner's summary.
// Lint, format and type checks are tests too (test/lint.test.ts). Benchmarks are not tests.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const only = process.argv.slice(2);

const build = spawnSync(process.execPath, [join(root, "esbuild.mjs")], {
  stdio: "inherit",
  cwd: root,
});
if (build.status !== 0) {
  console.error("build failed");
  process.exit(build.status ?? 1);
}

function find(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "fixtures" && e.name !== "node_modules") out.push(...find(full));
    } else if (/\.test\.ts$/.test(e.name)) out.push(full);
  }
  return out;
}

const files = find(join(root, "test"))
  .map((f) => relative(root, f))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
const runTests = (node, list) =>
  spawnSync(node, ["--import", "tsx", "--test", "--test-reporter=spec", ...list], {
    stdio: "inherit",
    cwd: root,
  }).status ?? 1;

// With KEEL_NODE24 set (.ci/run sets it), the core and CLI tests run on Node 24 first; the whole
// suite then runs on this Node, so the output ends with its summary. Any failure fails the command.
let status = 0;
const node24 = process.env.KEEL_NODE24;
if (node24 && only.length === 0) {
  const portable = files.filter((f) => /^test\/(core|cli)\//.test(f));
  console.log(`\n# core and CLI tests on ${node24}\n`);
  status = runTests(node24, portable);
  console.log(`\n# all tests on ${process.execPath} (${process.version})\n`);
}
status = runTests(process.execPath, files) || status;
process.exit(status);
