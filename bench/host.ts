// What a benchmark's main process uses beside bench/figures.ts, kept apart because the workers
// bundle figures.ts and these read `import.meta.url`, which a CommonJS bundle lacks.
import { spawn, spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * Starts a bundled local server (a provider test server) in a process of its own, so that its work
 * does not share the measured process's event loop. The script prints `URL <url>` once listening;
 * when its standard input closes it prints `REQUESTS <counts>` and exits: stop() returns the
 * counts' text.
 */
export async function startServerProcess(
  script: string,
  args: readonly string[] = [],
): Promise<{ url: string; stop(): Promise<string> }> {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, NODE_PATH: join(ROOT, "node_modules") },
  });
  const exited = new Promise<number | null>((r) => child.once("exit", r));
  const lines = createInterface({ input: child.stdout });
  const next = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      lines.on("line", (l) => {
        if (l.startsWith(prefix)) resolve(l.slice(prefix.length));
      });
      void exited.then((code) => reject(new Error(`server process exited (${code})`)));
    });
  const url = await next("URL ");
  return {
    url,
    async stop() {
      const counts = next("REQUESTS ");
      child.stdin.end();
      const text = await counts;
      await exited;
      return text;
    },
  };
}

/**
 * A benchmark's header: the commit the bundles were built from and whether `core/` differed from
 * it (they are built from the working tree), then Node, the date, the cores and the load average.
 */
export function benchHeader(title: string): string {
  const git = (...a: string[]) =>
    spawnSync("git", a, { cwd: ROOT, encoding: "utf8" }).stdout.trim();
  const dirty = git("status", "--porcelain", "core").split("\n").filter(Boolean).length;
  const cpu = cpus();
  return [
    `tree: ${git("rev-parse", "--short", "HEAD")}` +
      (dirty ? `, ${dirty} files of core/ changed since` : ", core/ as committed"),
    `${title} — Node ${process.version}, ${new Date().toISOString()}, ${cpu.length} cores ` +
      `(${cpu[0]?.model.trim() ?? "unknown"}), load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(" ")}`,
  ].join("\n");
}
