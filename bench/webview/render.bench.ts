// `npm run bench:webview`: the graph panel (#7) in headless Chromium — the built webview
// (dist/webview.js, .css) in a page like VS Code's with a fake host, as the webview tests load it.
//
// The bundle is built here as `npm run package` ships it: minified, React's production build.
// `--profile <shape>` instead profiles the moves on that shape (CPU profile, top self times).
// `--shape <shape>` and `--part render|move` measure a part of the tables only (`--help`).
//
// - First full render of generated 100- and 1,000-node graphs (chain, layered, the 1 → N → 1
//   fan-out): from posting the graph message in the page to the paint after the last change in
//   the number of nodes in the DOM before the refined layout replaces the first one (a MutationObserver; the count settles once React Flow has
//   fitted the view and drawn the nodes on screen; "after the paint" is a message posted from
//   the next animation frame). The message's structured clone, zod's check, the layered
//   placement, the mapping to React Flow and React's render are all inside. A fresh page each.
//   Then, on the same page: the time to the refined layout (the layout worker's, layout/) drawn
//   and at rest, and posting the same shape again (an edit that keeps it) to its paint, which
//   must draw the refined layout at once (cached by shape).
// - One step-through move on a 1,000-step recorded run (every step started then succeeded: 2,002
//   events), once the refined layout is drawn: the key (→ or ←) dispatched at the start of an animation frame, to the end of that
//   frame's task (React's commit, React Flow's update, style, layout and paint), checked to show
//   the new position. Median and p95 over 120 moves each way, from the middle of the log.
// Targets (#7): 1,000 nodes rendered ≤ 1 s; a move ≤ 16 ms (p95 too).
import { cpus } from "node:os";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import type { GraphMessage, RecordingMessage } from "@keel/core/protocol/webview";
import { dependencies, Random } from "../plan";
import { build } from "esbuild";
import { CHROMIUM, DARK, panelPage } from "../../test/webview/panel";

const TARGET_RENDER_MS = 1000;
const TARGET_MOVE_MS = 16;
const RENDER_REPS = 3;
const MOVES = Number(process.env.KEEL_BENCH_MOVES ?? 120);
type Shape = "chain" | "layered" | "fanout";
const TYPES = ["llm", "transform", "http", "shell", "assert"] as const;

/** A graph message of `n` steps in the shape (fan-out: 1 → n → 1, so n + 2 steps). */
function graphOf(shape: Shape, n: number): GraphMessage {
  const total = shape === "fanout" ? n + 2 : n;
  const deps = dependencies(shape, total, 20, new Random(0x6b65656c + total));
  return {
    type: "graph",
    uri: `file:///bench/${shape}-${n}.keel.yaml`,
    name: `${shape}-${n}`,
    steps: deps.map((_, i) => ({
      id: `s${i}`,
      type: TYPES[i % TYPES.length]!,
      line: i * 4,
      conditional: i % 7 === 3,
    })),
    edges: deps.flatMap((ds, i) => ds.map((d) => ({ from: `s${i}`, to: `s${d}` }))),
    errors: 0,
  };
}

/** A recorded run of the graph in which every step started, then succeeded, one after another. */
function recordingOf(graph: GraphMessage): RecordingMessage {
  const runId = "01BENCHRUN";
  const t = (k: number) => new Date(Date.UTC(2026, 10, 23, 10) + k * 10).toISOString();
  const ev = (seq: number, type: string, stepId: string | null, attempt: number | null) =>
    ({
      runId,
      seq,
      type,
      stepId,
      attempt,
      at: t(seq),
      data: null,
    }) as RecordingMessage["events"][number];
  const events = [ev(1, "run_started", null, null)];
  const attempts: RecordingMessage["attempts"] = [];
  for (const s of graph.steps) {
    const start = events.length + 1;
    events.push(ev(start, "step_started", s.id, null));
    events.push({ ...ev(start + 1, "step_succeeded", s.id, 1), data: { output: '="ok"' } });
    attempts.push({
      runId,
      scope: null,
      stepId: s.id,
      attempt: 1,
      status: "succeeded",
      origin: "live",
      inputHash: '={"x":1}',
      outputHash: '="ok"',
      errorKind: null,
      errorMessage: null,
      startedAt: t(start),
      endedAt: t(start + 1),
      cacheKey: null,
      sourceRunId: null,
      meta: null,
    });
  }
  events.push({
    ...ev(events.length + 1, "run_finished", null, null),
    data: { status: "succeeded" },
  });
  return { type: "recording", runId, status: "succeeded", startedAt: t(0), events, attempts };
}

/** Installed in the page: timed posting of a message, and timed step-through moves. */
const HARNESS = `
window.__render = (message, selector) => new Promise((resolve) => {
  const count = () => document.querySelectorAll(selector).length;
  let seen = 0, painted = 0, quiet;
  const t0 = performance.now();
  window.__t0 = t0;
  const done = () => { observer.disconnect(); resolve({ ms: painted - t0, count: count() }); };
  const observer = new MutationObserver(() => {
    // The refined layout (drawn when the layout worker answers) is timed apart, not as this one.
    const layout = document.querySelector(".keel-graph")?.getAttribute("data-layout");
    if (seen > 0 && layout && layout !== "layered") return;
    const now = count();
    if (now === seen) return;
    seen = now;
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => { painted = performance.now(); clearTimeout(quiet); quiet = setTimeout(done, 800); };
      ch.port2.postMessage(0);
    });
  });
  observer.observe(document.getElementById("root"), { childList: true, subtree: true });
  window.postMessage(message, "*");
});
window.__again = (message) => new Promise((resolve) => {
  const t0 = performance.now();
  window.postMessage(message, "*");
  const check = () => {
    if (document.querySelector(".keel-title")?.textContent !== message.name) return requestAnimationFrame(check);
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => resolve({
        ms: performance.now() - t0,
        layout: document.querySelector(".keel-graph").getAttribute("data-layout"),
      });
      ch.port2.postMessage(0);
    });
  };
  check();
});
window.__move = (key) => new Promise((resolve) => {
  requestAnimationFrame(() => {
    const t0 = performance.now();
    window.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true }));
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve({
      ms: performance.now() - t0,
      text: document.querySelector(".keel-position").textContent,
    });
    ch.port2.postMessage(0);
  });
});
`;

interface Rendered {
  readonly ms: number;
  readonly count: number;
}

let browser: Browser;
const dir = mkdtempSync(join(tmpdir(), "keel-webview-bench-"));
const pageFile = join(dir, "panel.html");

async function freshPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
  page.on("pageerror", (e) => console.error("page error:", e.message));
  page.on("console", (m) => {
    if (m.type() === "warning" || m.type() === "error") console.error("page:", m.text());
  });
  await page.goto(pathToFileURL(pageFile).href);
  await page.waitForSelector(".keel-empty");
  await page.addScriptTag({ content: HARNESS });
  return page;
}

const render = (page: Page, message: unknown, selector: string) =>
  page.evaluate(
    `window.__render(${JSON.stringify(message)}, ${JSON.stringify(selector)})`,
  ) as Promise<Rendered>;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)]!;
}

/**
 * The panel at rest: the refined layout drawn (or the layered one for good, when the library
 * could not refine the graph) and the nodes done gliding to it.
 */
const REFINED = '.keel-graph:not([data-layout="layered"]):not(.keel-settling)';

async function refined(page: Page): Promise<number> {
  await page.waitForSelector(REFINED, { state: "attached", timeout: 120_000 });
  return (await page.evaluate("performance.now() - window.__t0")) as number;
}

interface FirstRender {
  readonly ms: number;
  readonly nodes: number;
  /** From posting the graph to the refined layout drawn, at rest. */
  readonly refinedMs: number;
  /** The same shape posted again (an edit that keeps it): to the paint, refined at once. */
  readonly againMs: number;
}

async function firstRender(graph: GraphMessage): Promise<FirstRender> {
  const times: number[] = [];
  const refinedTimes: number[] = [];
  const again: number[] = [];
  let nodes = 0;
  for (let i = 0; i < RENDER_REPS; i++) {
    const page = await freshPage();
    const r = await render(page, graph, ".keel-node");
    times.push(r.ms);
    nodes = r.count;
    refinedTimes.push(await refined(page));
    const a = (await page.evaluate(
      `window.__again(${JSON.stringify({ ...graph, name: `${graph.name} edited` })})`,
    )) as { ms: number; layout: string };
    if (a.layout === "layered")
      throw new Error("same shape again: drawn layered, not from the cache");
    again.push(a.ms);
    await page.close();
  }
  return { ms: median(times), nodes, refinedMs: median(refinedTimes), againMs: median(again) };
}

interface Moves {
  readonly recordingMs: number;
  readonly forward: number[];
  readonly backward: number[];
}

async function moves(
  graph: GraphMessage,
  drawn?: Page,
  beforeMoves?: () => Promise<void>,
): Promise<Moves> {
  const page = drawn ?? (await freshPage());
  if (!drawn) await render(page, graph, ".keel-node");
  await refined(page);
  const recording = recordingOf(graph);
  const shown = await render(page, recording, ".keel-trow");
  // To the middle of the log (the scrubber), where the fitted view shows the steps concerned.
  const middle = Math.floor(recording.events.length / 2);
  await page.evaluate(`(() => {
    const input = document.querySelector('input[type="range"]');
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(input, "${middle}");
    input.dispatchEvent(new Event("input", { bubbles: true }));
  })()`);
  const run = async (key: string, from: number, step: number) => {
    const out: number[] = [];
    for (let i = 1; i <= MOVES; i++) {
      const r = (await page.evaluate(`window.__move(${JSON.stringify(key)})`)) as {
        ms: number;
        text: string;
      };
      const want = `${from + step * i + 1}/${recording.events.length}`;
      if (!r.text.startsWith(want)) throw new Error(`move ${key}: shows ${r.text}, wanted ${want}`);
      out.push(r.ms);
    }
    return out;
  };
  await beforeMoves?.();
  const forward = await run("ArrowRight", middle, 1);
  const backward = await run("ArrowLeft", middle + MOVES, -1);
  if (!drawn) await page.close();
  return { recordingMs: shown.ms, forward, backward };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => `| ${r.map((x, c) => x.padEnd(widths[c]!)).join(" | ")} |`;
  return [
    line(rows[0]!),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.slice(1).map(line),
  ].join("\n");
}

/** The webview bundle as the .vsix has it (esbuild.mjs --production). */
async function bundle(): Promise<void> {
  await build({
    bundle: true,
    platform: "browser",
    format: "iife",
    target: "chrome120",
    minify: true,
    // Profiles name the functions.
    minifyIdentifiers: !process.argv.includes("--profile"),
    entryPoints: { webview: "webview/main.tsx", "layout-worker": "webview/layout/worker.ts" },
    outdir: dir,
    tsconfig: "webview/tsconfig.json",
    logLevel: "warning",
  });
  writeFileSync(pageFile, panelPage(DARK, dir));
}

/**
 * Where the time of the moves (or with `render`, of the first render) on one shape goes: the
 * trace's events and the functions with the most self time.
 */
async function profile(shape: Shape, what: "move" | "render"): Promise<void> {
  const graph = graphOf(shape, 1000);
  const page = await freshPage();
  const cdp = await page.context().newCDPSession(page);
  const start = async () => {
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.start");
    await browser.startTracing(page, {
      path: join(dir, "trace.json"),
      categories: ["devtools.timeline"],
    });
  };
  let m: Moves = { recordingMs: 0, forward: [], backward: [] };
  if (what === "render") {
    await start();
    const r = await render(page, graph, ".keel-node");
    m = { recordingMs: 0, forward: [r.ms], backward: [] };
  } else {
    await render(page, graph, ".keel-node");
    // Only the moves are traced and profiled (not the recording's first render).
    m = await moves(graph, page, start);
  }
  await browser.stopTracing();
  const { profile: p } = await cdp.send("Profiler.stop");
  const trace = JSON.parse(readFileSync(join(dir, "trace.json"), "utf8")) as {
    traceEvents: { name: string; ph: string; dur?: number; tid: number }[];
  };
  const byName = new Map<string, number>();
  for (const e of trace.traceEvents)
    if (e.ph === "X" && e.dur) byName.set(e.name, (byName.get(e.name) ?? 0) + e.dur / 1000);
  const n = m.forward.length + m.backward.length;
  console.log(`trace: per ${what} (mean of ${n}), by event name`);
  for (const [name, ms] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 20))
    console.log(`trace ${(ms / n).toFixed(2).padStart(7)} ms  ${name}`);
  const self = new Map<string, number>();
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const dt = p.timeDeltas ?? [];
  (p.samples ?? []).forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    const name = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber}:${f.columnNumber}`;
    self.set(name, (self.get(name) ?? 0) + (dt[i] ?? 0) / 1000);
  });
  if (what === "render") console.log(`first render of ${shape}: ${m.forward[0]!.toFixed(0)} ms`);
  else
    console.log(
      `moves on ${shape}: → median ${median(m.forward).toFixed(1)} ms, ← ${median(m.backward).toFixed(1)} ms`,
    );
  for (const [name, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30))
    console.log(`${ms.toFixed(0).padStart(7)} ms  ${name}`);
}

const USAGE = `npm run bench:webview -- [options]
  --shape chain|layered|fanout   only this shape
  --part render|move             only the first renders or only the moves
  --profile <shape> [render]     profile the moves (or the first render) on that shape
  KEEL_BENCH_MOVES=n             moves each way (default 120)`;

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

async function main(): Promise<void> {
  if (process.argv.includes("--help")) {
    console.log(USAGE);
    return;
  }
  await bundle();
  browser = await chromium.launch(CHROMIUM);
  const at = process.argv.indexOf("--profile");
  if (at >= 0) {
    await profile(
      (process.argv[at + 1] ?? "layered") as Shape,
      process.argv.includes("render") ? "render" : "move",
    );
    await browser.close();
    return;
  }
  const cpu = cpus();
  console.log(
    `Keel graph panel benchmark — Node ${process.version}, Chromium ${browser.version()}, ` +
      `${new Date().toISOString()}, ${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown"})`,
  );
  const only = option("--shape");
  const part = option("--part");
  const shapes = (
    [
      ["chain", "chain"],
      ["layered", "layered (20 a layer)"],
      ["fanout", "fan-out 1 → N → 1"],
    ] as [Shape, string][]
  ).filter(([s]) => only === undefined || s === only);
  const renderRows = [
    [
      "shape",
      "N",
      "steps",
      "nodes in the DOM",
      "first full render",
      "target",
      "refined layout drawn",
      "same shape again",
    ],
  ];
  for (const [shape, label] of part === "move" ? [] : shapes) {
    for (const n of [100, 1000]) {
      const graph = graphOf(shape, n);
      const r = await firstRender(graph);
      const ok = n < 1000 || r.ms <= TARGET_RENDER_MS;
      renderRows.push([
        label,
        n.toLocaleString("en"),
        graph.steps.length.toLocaleString("en"),
        String(r.nodes),
        `${r.ms.toFixed(0)} ms`,
        n < 1000 ? "—" : ok ? "ok" : `miss >${TARGET_RENDER_MS} ms`,
        `${r.refinedMs.toFixed(0)} ms`,
        `${r.againMs.toFixed(0)} ms`,
      ]);
    }
  }
  console.log(`\nfirst full render, median of ${RENDER_REPS} fresh pages, viewport 1200×700\n`);
  console.log(table(renderRows));

  const moveRows = [
    [
      "shape",
      "steps",
      "events",
      "recording shown",
      "move → median",
      "p95",
      "move ← median",
      "p95",
      "target",
    ],
  ];
  for (const [shape, label] of part === "render" ? [] : shapes) {
    const graph = graphOf(shape, shape === "fanout" ? 998 : 1000);
    const m = await moves(graph);
    const worst = Math.max(p95(m.forward), p95(m.backward));
    moveRows.push([
      label,
      graph.steps.length.toLocaleString("en"),
      (graph.steps.length * 2 + 2).toLocaleString("en"),
      `${m.recordingMs.toFixed(0)} ms`,
      `${median(m.forward).toFixed(1)} ms`,
      `${p95(m.forward).toFixed(1)} ms`,
      `${median(m.backward).toFixed(1)} ms`,
      `${p95(m.backward).toFixed(1)} ms`,
      worst <= TARGET_MOVE_MS ? "ok" : `miss >${TARGET_MOVE_MS} ms`,
    ]);
  }
  console.log(
    `\none step-through move on a recorded run, ${MOVES} moves each way from the middle\n`,
  );
  console.log(table(moveRows));
  console.log(
    `\ntargets: 1,000 nodes rendered ≤ ${TARGET_RENDER_MS} ms; a move ≤ ${TARGET_MOVE_MS} ms (median and p95)`,
  );
  await browser.close();
}

void main().catch(async (e: unknown) => {
  console.error(e);
  await browser?.close();
  process.exit(1);
});
