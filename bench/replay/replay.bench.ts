// `npm run bench:replay` (`-- --no-peer` skips LangGraph): see worker.ts for what is measured. The worker is bundled with esbuild
// (as the CLI and the extension are) and run with plain `node`, like the runner bench's: under
// `--import tsx` every closure the replay makes per step is wrapped by tsx's keep-names helper
// (a defineProperty each), which `keel replay` never pays.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../bundle";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "keel-bench-replay-worker-"));
  try {
    const outfile = await bundleWorker(
      join(ROOT, "bench/replay/worker.ts"),
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
