// Bundles a benchmark's worker with esbuild as the CLI is bundled, so that benchmarks measure the
// code users run: plain `node`, without tsx's transpiler or its keep-names wrappers.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Bundles `entry` to `outfile` (CommonJS for Node 20); the native module and the peers stay outside. */
export async function bundleWorker(entry: string, outfile: string): Promise<string> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    // Loaded from the project's node_modules (run the bundle with NODE_PATH pointing there).
    external: ["better-sqlite3", "@langchain/*"],
    logLevel: "warning",
  });
  return outfile;
}

/**
 * Bundles the worker at `entry` (relative to the project) into a temporary folder and runs it
 * with plain `node` and this process's arguments; its exit code becomes this process's.
 */
export async function runBundledWorker(entry: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "keel-bench-worker-"));
  try {
    const outfile = await bundleWorker(join(ROOT, entry), join(dir, "worker.cjs"));
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
