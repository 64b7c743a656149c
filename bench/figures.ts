// What the benchmarks share to measure in child processes and print their figures.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Rows as aligned columns: the first `left` columns padded on the right, the others on the left. */
export function table(rows: readonly string[][], left = 1): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r.map((cell, c) => (c < left ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))),
    )
    .map((r) => r.join("  "))
    .join("\n");
}

/**
 * Runs a bundled worker (bench/bundle.ts) with plain `node` and returns what it printed on its
 * `RESULT {json}` line; ends the benchmark, with the worker's error, when it failed. Writes
 * `label …` to stderr for progress: the caller ends that line.
 */
export function workerResult<T>(
  worker: string,
  args: readonly string[],
  label: string,
  nodeArgs: readonly string[] = [],
): T {
  process.stderr.write(`  ${label} …`);
  // Here, not at the top: a bundled worker imports this file too, and has no import.meta.url.
  const ROOT = fileURLToPath(new URL("..", import.meta.url));
  const child = spawnSync(process.execPath, [...nodeArgs, worker, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
    // The bundle lives in a temp folder: this is where its externals are found.
    env: { ...process.env, NODE_PATH: join(ROOT, "node_modules") },
  });
  const line = child.stdout?.split("\n").find((l) => l.startsWith("RESULT "));
  if (child.status !== 0 || !line) {
    process.stderr.write(" failed\n");
    fail(`${label}: ${child.error?.message ?? child.stderr?.trim() ?? `exit ${child.status}`}`);
  }
  return JSON.parse(line.slice("RESULT ".length)) as T;
}

/**
 * A bundled worker's main: `measure` runs with a fresh temporary folder (removed after) and its
 * result is printed as the `RESULT {json}` line workerResult reads; an error is printed and the
 * process exits with 1.
 */
export function workerMain(name: string, measure: (dir: string) => Promise<unknown>): void {
  const run = async () => {
    const dir = mkdtempSync(join(tmpdir(), `keel-${name}-bench-`));
    try {
      const result = await measure(dir);
      process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  run().catch((e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  });
}
