// `npm run bench`: every benchmark, one after the other, each in its own process (they measure
// time and memory, so none runs beside another). `npm run bench:<name>` runs one of them.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const BENCHES = [
  ["validation (#3)", "bench/validate.bench.ts"],
  ["runner (#4)", "bench/runner/runner.bench.ts"],
  ["language server (#6)", "bench/lsp.bench.ts"],
  ["extension activation (#7)", "bench/extension/activation.bench.ts"],
  ["graph panel (#7)", "bench/webview/render.bench.ts"],
  ["replay (#5)", "bench/replay/replay.bench.ts"],
  ["replay debugger (#9)", "bench/debug/debug.bench.ts"],
  ["workers on PostgreSQL (#10)", "bench/workers/workers.bench.ts"],
  ["maps (#18)", "bench/scopes/scopes.bench.ts"],
  ["Python tools (#19)", "bench/python/python.bench.ts"],
  ["agents (#20)", "bench/agents/agents.bench.ts"],
];

let failed = 0;
for (const [name, file] of BENCHES) {
  if (!existsSync(file)) continue;
  console.log(`\n=== ${name}: ${file}\n`);
  const r = spawnSync(process.execPath, ["--import", "tsx", file], { stdio: "inherit" });
  if (r.status !== 0) {
    failed++;
    console.error(`${file} failed (${r.status ?? r.signal})`);
  }
}
process.exit(failed ? 1 : 0);
