// `npm run bench:debug` (optionally a step count, default 5,000): see worker.ts for what is
// measured. The worker is bundled with esbuild and run with plain `node`, as the extension and the
// CLI run the session (see bench/replay/replay.bench.ts for why not under tsx).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../bundle";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "keel-bench-debug-worker-"));
  try {
    const outfile = await bundleWorker(
      join(ROOT, "bench/debug/worker.ts"),
      join(dir, "worker.cjs"),
    );
    const child = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], {
      cwd: ROOT,
      stdio: "inherit",
      env: { ...process.env, NODE_PATH: join(ROOT, "node_modules") },
    });
    if (child.status !== 0) process.exitCode = child.status ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
