// `npm run package`: the production build, then one .vsix for every platform. The extension
// bundles all its code; the one native module, better-sqlite3, stays out of the .vsix: in the
// editor the run store opens with Node's built-in node:sqlite (docs/editor.md, "Packaging"), so the
// same .vsix works on Linux, macOS and Windows. `--out <file>` names the file (default
// keel-<version>.vsix).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
const at = args.indexOf("--out");
const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const out = at >= 0 ? args[at + 1] : `keel-${version}.vsix`;

const run = (cmd, argv) => {
  const r = spawnSync(cmd, argv, { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run(process.execPath, ["esbuild.mjs", "--production"]);
run(process.execPath, [
  "node_modules/@vscode/vsce/vsce",
  "package",
  "--no-dependencies",
  "--allow-missing-repository",
  "--skip-license",
  "--no-rewrite-relative-links",
  "--out",
  out,
]);
