// Bundles a benchmark's worker with esbuild as the CLI is bundled, so that benchmarks measure the
// code users run: plain `node`, without tsx's transpiler or its keep-names wrappers.
import { build } from "esbuild";

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
