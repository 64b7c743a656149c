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
import { runText } from "../../test/core/runner/harness";

const TARGET_RENDER_MS = 1000;
const TARGET_MOVE_MS = 16;
const RENDER_REPS = 3;
const MOVES = Number(process.env.KEEL_BENCH_MOVES ?? 120);
/** Items of the map case (#18's target: a map of 10,000 items moves at ≤ 16 ms a move). */
const MAP_ITEMS = Number(process.env.KEEL_BENCH_MAP_ITEMS ?? 10_000);
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
      scope: null,
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
window.__keyOn = (selector, key, shown) => new Promise((resolve) => {
  requestAnimationFrame(() => {
    const t0 = performance.now();
    document.querySelector(selector).dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true }));
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve({
      ms: performance.now() - t0,
      text: document.querySelector(shown)?.textContent ?? "",
    });
    ch.port2.postMessage(0);
  });
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

/** Sets the scrubber to event index `k` (as a user dragging it would). */
const scrub = (page: Page, k: number) =>
  page.evaluate(`(() => {
    const input = document.querySelector('input[type="range"]');
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(input, "${k}");
    input.dispatchEvent(new Event("input", { bubbles: true }));
  })()`);

/**
 * MOVES step-through moves with `key` (→ or ←) from event index `from`, each timed to the end of
 * its frame and checked to show the position it should (`step`: +1 or −1 a move).
 */
async function stepThrough(
  page: Page,
  key: string,
  from: number,
  step: number,
  events: number,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 1; i <= MOVES; i++) {
    const r = (await page.evaluate(`window.__move(${JSON.stringify(key)})`)) as {
      ms: number;
      text: string;
    };
    const want = `${from + step * i + 1}/${events}`;
    if (!r.text.startsWith(want)) throw new Error(`move ${key}: shows ${r.text}, wanted ${want}`);
    out.push(r.ms);
  }
  return out;
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
  await scrub(page, middle);
  const run = (key: string, from: number, step: number) =>
    stepThrough(page, key, from, step, recording.events.length);
  await beforeMoves?.();
  const forward = await run("ArrowRight", middle, 1);
  const backward = await run("ArrowLeft", middle + MOVES, -1);
  if (!drawn) await page.close();
  return { recordingMs: shown.ms, forward, backward };
}

/** The map case's graph: a list, a pure map over it (`each`), a step reading the map's output. */
const MAP_GRAPH: GraphMessage = {
  type: "graph",
  uri: "file:///bench/pure-map.keel.yaml",
  name: "pure map",
  steps: [
    { id: "list", type: "transform", line: 3, conditional: false },
    { id: "each", type: "transform", line: 6, conditional: false, map: true },
    { id: "total", type: "transform", line: 10, conditional: false },
  ],
  edges: [
    { from: "each", to: "list" },
    { from: "total", to: "each" },
  ],
  errors: 0,
};

/**
 * A recorded run of a pure map of `n` items, run for real by the local runner (MemoryStore): its
 * log (each item's step_started and step_succeeded, 2n + 9 events) and attempts, as the panel gets
 * them.
 */
async function mapRun(n: number): Promise<RecordingMessage> {
  const { result, store } = await runText(`keel: 1
name: pure map
steps:
  list:
    type: transform
    expr: "[1..${n}]"
  each:
    type: transform
    for_each: steps.list.output
    expr: item * 2
  total:
    type: transform
    expr: $sum(steps.each.output)
`);
  if (result.status !== "succeeded")
    throw new Error(`the map run ${result.status}: ${result.error}`);
  const run = (await store.getRun(result.runId))!;
  return {
    type: "recording",
    runId: result.runId,
    status: run.status,
    startedAt: run.startedAt,
    events: (await store.events(result.runId)) as RecordingMessage["events"],
    attempts: (await store.attempts(result.runId)) as RecordingMessage["attempts"],
  };
}

interface MapFigures {
  readonly events: number;
  /** From posting the recording to the paint of the map's strip, list and timeline (median). */
  readonly drawMs: number;
  readonly forward: number[];
  readonly backward: number[];
  /** The same moves with the map step selected: its inspector lists the items at each position. */
  readonly listedForward: number[];
  readonly listedBackward: number[];
  /** ↓ in the inspector's virtualised item list: the next item chosen and shown. */
  readonly choose: number[];
}

/**
 * The issue's case (#18): a recorded map of `n` items with a pure body. First draw: a fresh page
 * with the graph drawn at rest, from posting the recording to the paint after the last change (the
 * map node's strip and the timeline's bars). Moves: → then ← one event at a time from the middle of
 * the items' events, without and then with the map step selected (its item list redrawn at each
 * position), each timed like the moves above; then ↓ in the item list, one item at a time.
 */
async function mapCase(
  n: number,
  hooks?: { start: (page: Page) => Promise<void>; stop: () => Promise<void> },
): Promise<MapFigures> {
  const recording = await mapRun(n);
  const events = recording.events.length;
  const draws: number[] = [];
  let page: Page | undefined;
  for (let i = 0; i < RENDER_REPS; i++) {
    await page?.close();
    page = await freshPage();
    await render(page, MAP_GRAPH, ".keel-node");
    await refined(page);
    draws.push((await render(page, recording, ".keel-seg, .keel-bar")).ms);
  }
  page = page!;
  const middle = Math.floor(events / 2);
  const run = (key: string, from: number, step: number) =>
    stepThrough(page, key, from, step, events);
  await scrub(page, middle);
  await hooks?.start(page);
  const forward = await run("ArrowRight", middle, 1);
  const backward = await run("ArrowLeft", middle + MOVES, -1);
  // The map step selected: the inspector lists its items (virtualised) at every position.
  await page.evaluate(`document.querySelector('[data-step="each"]').click()`);
  await page.waitForSelector(".keel-unit-list");
  const listedForward = await run("ArrowRight", middle, 1);
  const listedBackward = await run("ArrowLeft", middle + MOVES, -1);
  // At the end (every item known), ↓ in the list from the item at its middle.
  await scrub(page, events - 1);
  const start = Math.floor(n / 2);
  await page.evaluate(`document.querySelector('.keel-unit-list [data-unit="each[0]"]').click()`);
  await page.evaluate(`(() => {
    const list = document.querySelector(".keel-unit-list");
    list.scrollTop = ${start} * 22;
    list.dispatchEvent(new Event("scroll"));
  })()`);
  await page.waitForSelector(`.keel-unit-list [data-unit="each[${start}]"]`);
  await page.evaluate(
    `document.querySelector('.keel-unit-list [data-unit="each[${start}]"]').click()`,
  );
  await page.waitForFunction(
    `document.querySelector(".keel-unit h3")?.textContent === "each[${start}]"`,
  );
  const choose: number[] = [];
  for (let i = 1; i <= MOVES; i++) {
    const r = (await page.evaluate(
      `window.__keyOn(".keel-unit-list", "ArrowDown", ".keel-unit h3")`,
    )) as { ms: number; text: string };
    if (r.text !== `each[${start + i}]`)
      throw new Error(`↓ shows ${r.text}, wanted each[${start + i}]`);
    choose.push(r.ms);
  }
  await hooks?.stop();
  await page.close();
  return {
    events,
    drawMs: median(draws),
    forward,
    backward,
    listedForward,
    listedBackward,
    choose,
  };
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

/** Starts the CPU profile and the trace of a page; `stop` ends both and gives the profile. */
async function startProfile(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.start");
  await browser.startTracing(page, {
    path: join(dir, "trace.json"),
    categories: ["devtools.timeline"],
  });
  return {
    stop: async () => {
      await browser.stopTracing();
      return (await cdp.send("Profiler.stop")).profile;
    },
  };
}

type CpuProfile = Awaited<ReturnType<Awaited<ReturnType<typeof startProfile>>["stop"]>>;

/** The trace's events by name (mean per timed action) and the functions with the most self time. */
function report(p: CpuProfile, n: number, what: string, headline: string): void {
  const trace = JSON.parse(readFileSync(join(dir, "trace.json"), "utf8")) as {
    traceEvents: { name: string; ph: string; dur?: number; tid: number }[];
  };
  const byName = new Map<string, number>();
  for (const e of trace.traceEvents)
    if (e.ph === "X" && e.dur) byName.set(e.name, (byName.get(e.name) ?? 0) + e.dur / 1000);
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
  console.log(headline);
  for (const [name, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30))
    console.log(`${ms.toFixed(0).padStart(7)} ms  ${name}`);
}

/**
 * Where the time of the moves (or with `render`, of the first render) on one shape goes: the
 * trace's events and the functions with the most self time. `map`: the map case's moves and
 * item choices (mapCase), from its first move on.
 */
async function profile(shape: Shape | "map", what: "move" | "render"): Promise<void> {
  if (shape === "map" && what === "render") {
    const recording = await mapRun(MAP_ITEMS);
    const page = await freshPage();
    await render(page, MAP_GRAPH, ".keel-node");
    await refined(page);
    const { stop } = await startProfile(page);
    const r = await render(page, recording, ".keel-seg, .keel-bar");
    report(
      await stop(),
      1,
      "first draw",
      `first draw of the map of ${MAP_ITEMS}: ${r.ms.toFixed(0)} ms`,
    );
    return;
  }
  if (shape === "map") {
    let stop: (() => Promise<CpuProfile>) | undefined;
    let p: CpuProfile | undefined;
    const m = await mapCase(MAP_ITEMS, {
      start: async (page) => void ({ stop } = await startProfile(page)),
      stop: async () => void (p = await stop!()),
    });
    const all = [m.forward, m.backward, m.listedForward, m.listedBackward, m.choose];
    const medians = all.map((xs) => median(xs).toFixed(1)).join(", ");
    report(
      p!,
      all.flat().length,
      "move or choice",
      `map of ${MAP_ITEMS}: medians → ← →listed ←listed ↓ ${medians} ms`,
    );
    return;
  }
  const graph = graphOf(shape, 1000);
  const page = await freshPage();
  let m: Moves = { recordingMs: 0, forward: [], backward: [] };
  let stop: (() => Promise<CpuProfile>) | undefined;
  if (what === "render") {
    ({ stop } = await startProfile(page));
    const r = await render(page, graph, ".keel-node");
    m = { recordingMs: 0, forward: [r.ms], backward: [] };
  } else {
    await render(page, graph, ".keel-node");
    // Only the moves are traced and profiled (not the recording's first render).
    m = await moves(graph, page, async () => void ({ stop } = await startProfile(page)));
  }
  const p = await stop!();
  report(
    p,
    m.forward.length + m.backward.length,
    what,
    what === "render"
      ? `first render of ${shape}: ${m.forward[0]!.toFixed(0)} ms`
      : `moves on ${shape}: → median ${median(m.forward).toFixed(1)} ms, ← ${median(m.backward).toFixed(1)} ms`,
  );
}

const USAGE = `npm run bench:webview -- [options]
  --shape chain|layered|fanout   only this shape
  --part render|move|map         only the first renders, the moves, or the map of 10,000 items
  --profile <shape> [render]     profile the moves (or the first render) on that shape
  --profile map [render]         profile the map case's moves and item choices (or its first draw)
  KEEL_BENCH_MOVES=n             moves each way (default 120)
  KEEL_BENCH_MAP_ITEMS=n         items of the map case (default 10,000)`;

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
      (process.argv[at + 1] ?? "layered") as Shape | "map",
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
  for (const [shape, label] of part === "move" || part === "map" ? [] : shapes) {
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
  if (renderRows.length > 1) {
    console.log(`\nfirst full render, median of ${RENDER_REPS} fresh pages, viewport 1200×700\n`);
    console.log(table(renderRows));
  }

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
  for (const [shape, label] of part === "render" || part === "map" ? [] : shapes) {
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
  if (moveRows.length > 1) {
    console.log(
      `\none step-through move on a recorded run, ${MOVES} moves each way from the middle\n`,
    );
    console.log(table(moveRows));
  }
  if (part === undefined || part === "map") {
    const n = MAP_ITEMS;
    const m = await mapCase(n);
    const figure = (xs: number[]) => `${median(xs).toFixed(1)} / ${p95(xs).toFixed(1)} ms`;
    const ok = (xs: number[]) => (p95(xs) <= TARGET_MOVE_MS ? "ok" : `miss >${TARGET_MOVE_MS} ms`);
    console.log(
      `\na recorded map of ${n.toLocaleString("en")} items with a pure body (${m.events.toLocaleString("en")} events), run by the local runner; ` +
        `first draw median of ${RENDER_REPS} fresh pages, then ${MOVES} moves each way (p50 / p95)\n`,
    );
    console.log(
      table([
        ["what", "p50 / p95", "target"],
        ["first draw of the recording", `${m.drawMs.toFixed(0)} ms`, "—"],
        ["move → over item events", figure(m.forward), ok(m.forward)],
        ["move ← over item events", figure(m.backward), ok(m.backward)],
        ["move →, map selected (items listed)", figure(m.listedForward), ok(m.listedForward)],
        ["move ←, map selected (items listed)", figure(m.listedBackward), ok(m.listedBackward)],
        ["↓ next item in the list", figure(m.choose), ok(m.choose)],
      ]),
    );
  }
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
