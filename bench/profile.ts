// The CPU profile of a bundled benchmark worker (bench/bundle.ts), summarised: self time by
// source file and by function, and Keel's own code (core/) apart. Used by `--profile` of the maps
// and agents benchmarks.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The profile written into `profDir` by `node --cpu-prof` running `bundle`. The bundle keeps
 * esbuild's `// path/file.ts` markers, so a line of the bundle is attributed to the source file
 * whose marker comes before it.
 */
export function summariseProfile(profDir: string, bundle: string, title: string): string {
  const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) return "(no profile written)";
  const prof = JSON.parse(readFileSync(join(profDir, file), "utf8")) as {
    nodes: {
      id: number;
      callFrame: { functionName: string; url: string; lineNumber: number };
      hitCount?: number;
    }[];
    startTime: number;
    endTime: number;
    samples: number[];
  };
  const markers: [number, string][] = [];
  readFileSync(bundle, "utf8")
    .split("\n")
    .forEach((l, i) => {
      const m = /^\/\/ ((?:core|bench|node_modules)\/\S+)$/.exec(l);
      if (m) markers.push([i, m[1]!]);
    });
  const sourceOf = (url: string, line: number): string => {
    if (!url) return "(native)";
    if (!url.endsWith(".cjs")) return url.replace(/^.*node_modules\//, "node_modules/");
    let lo = 0;
    let hi = markers.length - 1;
    let found = "(bundle)";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (markers[mid]![0] <= line) {
        found = markers[mid]![1];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
  const msPerSample = (prof.endTime - prof.startTime) / 1000 / prof.samples.length;
  const byFile = new Map<string, number>();
  const byFn = new Map<string, number>();
  let total = 0;
  for (const node of prof.nodes) {
    const hits = node.hitCount ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    // Waiting is not work: the shares are of the busy time.
    if (!hits || functionName === "(idle)") continue;
    const src = sourceOf(url, lineNumber);
    const ms = hits * msPerSample;
    total += ms;
    byFile.set(src, (byFile.get(src) ?? 0) + ms);
    const fn = `${functionName || "(anonymous)"} ${src}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + ms);
  }
  let keel = 0;
  for (const [src, ms] of byFile) if (src.startsWith("core/")) keel += ms;
  const top = (m: Map<string, number>, k: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(
        ([name, ms]) =>
          `  ${ms.toFixed(0).padStart(6)} ms ${((ms / total) * 100).toFixed(1).padStart(5)}%  ${name}`,
      )
      .join("\n");
  return [
    `CPU profile: ${title}; ${total.toFixed(0)} ms busy (idle left out). Self time by source file:`,
    top(byFile, 12),
    "By function:",
    top(byFn, 20),
    // Keel's own code apart: what the runner, the recorder and the store cost themselves.
    `Keel's own code (core/): ${keel.toFixed(0)} ms, ${((keel / total) * 100).toFixed(1)}% of the busy time; its top functions:`,
    top(new Map([...byFn].filter(([name]) => / core\//.test(name))), 10),
  ].join("\n");
}
