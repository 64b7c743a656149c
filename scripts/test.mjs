// The test command (npm test): builds the bundles, then runs every test file under test/ with
// node's test runner (TypeScript through tsx), so the output ends with the runner's summary.
// Lint, format and type checks are tests too (test/lint.test.ts). Benchmarks are not tests.
// `npm test -- <part>` runs only the files whose path contains a part, and builds only the bundles
// those files use (see `needs`).
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const only = process.argv.slice(2);

/**
 * The bundles (esbuild.mjs's targets) a test file runs, by the folder it lives in. The tests of
 * test/cli, test/core/debug and test/core/protocol start bin/keel.js (dist/cli.js), the language
 * server's start dist/server.js, the webview's load dist/webview.js in Chromium; the core folders
 * listed with none, and the lint and architecture tests, import TypeScript sources only. A file in a folder not
 * listed gets every bundle: test/e2e, test/extension (its tests check and start the bundles), and
 * any new folder until it is listed here, so a new test cannot run on a stale dist/. A test that
 * starts to use dist/ in a folder listed without it needs its entry changed (grep the folder for
 * `dist/` and `bin/keel`).
 */
const SOURCES_ONLY = "check expr graph model node otel record replay runner service store"
  .split(" ")
  .map((folder) => [`test/core/${folder}/`, []]);
const needs = [
  ["test/cli/", ["cli"]],
  ["test/core/debug/", ["cli"]],
  ["test/core/protocol/", ["cli"]],
  ...SOURCES_ONLY,
  ["test/core/generated-files.test.ts", []],
  ["test/lint.test.ts", []],
  ["test/architecture.test.ts", []],
  ["test/language-server/", ["server"]],
  ["test/webview/", ["webview"]],
];
const ALL = null;
const bundlesFor = (file) => needs.find(([prefix]) => file.startsWith(prefix))?.[1] ?? ALL;

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

// The whole suite builds everything, as `npm run build` does; a part builds what its files need.
const perFile = only.length === 0 ? [ALL] : files.map(bundlesFor);
const targets = perFile.includes(ALL) ? [] : [...new Set(perFile.flat())].sort();
if (perFile.includes(ALL) || targets.length > 0) {
  const build = spawnSync(process.execPath, [join(root, "esbuild.mjs"), ...targets], {
    stdio: "inherit",
    cwd: root,
  });
  if (build.status !== 0) {
    console.error("build failed");
    process.exit(build.status ?? 1);
  }
}

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
