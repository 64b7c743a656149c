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
const run = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", ...files],
  {
    stdio: "inherit",
    cwd: root,
  },
);
process.exit(run.status ?? 1);
