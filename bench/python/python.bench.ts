// Python tools benchmark (docs/benchmarks.md, "Python tools (#19)"): `npm run bench:python`.
// 1. The persistent worker: one call after another of `def echo(x): return x` through the workers
//    Keel's runs use (core/runner/python/workers.ts), after a warm-up; each call's round trip is
//    all overhead (the function itself takes microseconds).
// 2. A fresh `python3 -c` process per call doing the same, as a `shell` step would.
// 3. In a run: a map of N items, one at a time (`concurrency: 1`), calling the Python tool, beside
//    the same map as a `transform` (no effect at all) and as a `shell` step running `python3 -c`
//    per item: the per-item difference is what a Python tool call costs inside a run.
// Figures only: a miss of the target (≤ 2 ms of overhead per call) is printed as `miss`.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { PythonWorkers } from "../../core/runner/python/workers";
import { chooseInterpreter } from "../../core/runner/python/interpreter";
import { loadWorkflow } from "../../core/runner/load";
import { createNodeEffects } from "../../core/runner/node-effects";
import { MemoryStore } from "../../core/store/memory-store";
import { fail, median, table } from "../figures";
import { runLoaded } from "../runner/keel";

const TARGET_MS = 2;
const CALLS = 2000;
const FRESH = 50;
const ITEMS = 300;
const SHELL_ITEMS = 50;

const dir = mkdtempSync(join(tmpdir(), "keel-bench-python-"));
const module = join(dir, "t.py");
writeFileSync(module, "def echo(x):\n    return x\n");
// The executable itself, not a launcher in front of it (a pyenv shim costs ~300 ms a start).
const chosen = chooseInterpreter(undefined, dir, "bench").path;
const interpreter = spawnSync(chosen, ["-c", "import sys; print(sys.executable)"], {
  encoding: "utf8",
}).stdout.trim();

function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function workerCalls(): Promise<number[]> {
  const workers = new PythonWorkers();
  const signal = new AbortController().signal;
  const call = (i: number) =>
    workers.call({ module, exportName: "echo", args: { x: i }, dir, interpreter }, signal);
  for (let i = 0; i < 200; i++) await call(i);
  const times: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    const r = await call(i);
    times.push(performance.now() - t);
    if (r.value !== i) fail(`echo(${i}) gave ${JSON.stringify(r.value)}`);
  }
  await workers.close();
  return times;
}

function freshCalls(): number[] {
  const code = `import json, sys\nsys.path.insert(0, ${JSON.stringify(dir)})\nfrom t import echo\nprint(json.dumps(echo(**json.loads(sys.argv[1]))))`;
  const times: number[] = [];
  for (let i = 0; i < FRESH; i++) {
    const t = performance.now();
    const r = spawnSync(interpreter, ["-c", code, JSON.stringify({ x: i })], { encoding: "utf8" });
    times.push(performance.now() - t);
    if (r.stdout.trim() !== String(i)) fail(`python3 -c gave ${r.stdout}${r.stderr}`);
  }
  return times;
}

async function mapRun(step: string, n: number): Promise<number> {
  const path = join(dir, `map-${Math.random().toString(36).slice(2)}.keel.yaml`);
  writeFileSync(
    path,
    `keel: 1
name: bench
steps:
  list: { type: transform, expr: '[0..${n - 1}]' }
  each:
    for_each: steps.list.output
    concurrency: 1
${step}
`,
  );
  const r = loadWorkflow(path);
  if (!r.ok) fail(r.diagnostics.map((d) => d.message).join("; "));
  const effects = createNodeEffects({ providers: {}, dir });
  const python = effects.python!;
  let first = true;
  const { ms } = await runLoaded(r.loaded, new MemoryStore(), {
    ...effects,
    // Each call's own time inside the run (the first, the worker's start, left out).
    python: async (call, signal, scope) => {
      const t = performance.now();
      const result = await python(call, signal, scope);
      if (first) first = false;
      else callsInRun.push(performance.now() - t);
      return result;
    },
  });
  return ms;
}

const callsInRun: number[] = [];

const TOOL = "    type: tool\n    uses: ./t.py#echo\n    with: { x: '${{ item }}' }";
const TRANSFORM = "    type: transform\n    expr: item";
const SHELL = `    type: shell\n    command: [${JSON.stringify(interpreter)}, -c, "import json, sys; print(json.dumps(int(sys.argv[1])))", "\${{ $string(item) }}"]`;

async function main(): Promise<void> {
  console.log(`interpreter: ${interpreter} (chosen: ${chosen})`);
  const worker = await workerCalls();
  const fresh = freshCalls();
  const rows = [
    ["", "median ms", "p95 ms", "calls"],
    [
      "persistent worker",
      median(worker).toFixed(3),
      percentile(worker, 95).toFixed(3),
      String(CALLS),
    ],
    ["fresh python3 -c", median(fresh).toFixed(3), percentile(fresh, 95).toFixed(3), String(FRESH)],
  ];
  console.log("\nOne call after another, outside a run:\n");
  console.log(table(rows));

  const reps = 5;
  const tool: number[] = [];
  const transform: number[] = [];
  const shell: number[] = [];
  const start: number[] = [];
  await mapRun(TOOL, 50); // warm-up
  await mapRun(TRANSFORM, 50);
  // Per item: (a run of N items − a run of 1 item) / (N − 1), so that the run's own start and the
  // worker's start (the first call of a run) are counted apart.
  const perItem = async (step: string, n: number) => {
    const one = await mapRun(step, 1);
    return { one, item: ((await mapRun(step, n)) - one) / (n - 1) };
  };
  for (let i = 0; i < reps; i++) {
    const t = await perItem(TOOL, ITEMS);
    const x = await perItem(TRANSFORM, ITEMS);
    tool.push(t.item);
    transform.push(x.item);
    start.push(t.one - x.one);
    shell.push((await perItem(SHELL, SHELL_ITEMS)).item);
  }
  const overhead = median(tool) - median(transform);
  console.log(`\nIn a run: a map, one item at a time (median of ${reps} runs):\n`);
  console.log(
    table([
      ["map item", "ms per item", "items"],
      ["transform (no effect)", median(transform).toFixed(3), String(ITEMS)],
      ["Python tool (worker)", median(tool).toFixed(3), String(ITEMS)],
      ["shell: python3 -c", median(shell).toFixed(3), String(SHELL_ITEMS)],
    ]),
  );
  console.log(
    `\nOne Python call inside those runs: median ${median(callsInRun).toFixed(3)} ms, ` +
      `p90 ${percentile(callsInRun, 90).toFixed(3)} ms, mean ${(callsInRun.reduce((a, b) => a + b, 0) / callsInRun.length).toFixed(3)} ms`,
  );
  const verdict = (ms: number) => (ms <= TARGET_MS ? "ok" : "miss");
  console.log(
    `\nworker round trip ${median(worker).toFixed(3)} ms (target ≤ ${TARGET_MS} ms: ${verdict(median(worker))}); ` +
      `a Python tool item costs ${overhead.toFixed(3)} ms more than a transform item (${verdict(overhead)}); ` +
      `the worker's start, once per run, ${median(start).toFixed(1)} ms; ` +
      `a fresh python3 per call costs ${median(fresh).toFixed(1)} ms`,
  );
}

main().catch((e: unknown) => fail(String((e as Error).stack ?? e)));
