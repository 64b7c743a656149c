// The built graph panel (dist/webview.js and .css) in headless Chromium, with a fake host in
// place of VS Code's: it records what the panel posts and sends it the host's messages.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import type { GraphMessage, HostMessage, PanelMessage } from "@keel/core/protocol/webview";

// The page's globals, as the callbacks given to page.evaluate see them: this file is compiled for
// Node, without the DOM library.
declare const window: {
  postMessage(message: unknown, origin: string): void;
  __posted: { type: string; ref?: string }[];
};
declare const document: {
  querySelectorAll(selector: string): ArrayLike<{ getAttribute(name: string): string | null }>;
};

const DIST = resolve("dist");
const SHOTS = resolve("docs/screenshots");

/** The page VS Code would give the webview, with `acquireVsCodeApi` answered by the test. */
function panelPage(theme: Record<string, string>): string {
  const vars = Object.entries(theme)
    .map(([k, v]) => `${k}: ${v};`)
    .join(" ");
  return `<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="${pathToFileURL(join(DIST, "webview.css")).href}">
<style>body { ${vars} }</style>
<script>
  window.__posted = [];
  window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m) });
</script></head>
<body><div id="root"></div>
<script src="${pathToFileURL(join(DIST, "webview.js")).href}"></script></body></html>`;
}

const DARK = {
  "--vscode-editor-background": "#1e1e1e",
  "--vscode-foreground": "#cccccc",
  "--vscode-editorWidget-background": "#252526",
  "--vscode-editorWidget-foreground": "#cccccc",
};
const LIGHT = {
  "--vscode-editor-background": "#ffffff",
  "--vscode-foreground": "#3b3b3b",
  "--vscode-editorWidget-background": "#f8f8f8",
  "--vscode-editorWidget-foreground": "#3b3b3b",
  "--vscode-descriptionForeground": "#717171",
  "--vscode-panel-border": "#c8c8c8",
  "--vscode-editorLineNumber-foreground": "#8a8a8a",
  "--vscode-badge-background": "#c4c4c4",
  "--vscode-badge-foreground": "#333333",
  "--vscode-testing-iconPassed": "#388a34",
  "--vscode-testing-iconFailed": "#e51400",
  "--vscode-button-secondaryBackground": "#e5e5e5",
  "--vscode-button-secondaryForeground": "#3b3b3b",
};

const graph: GraphMessage = {
  type: "graph",
  uri: "file:///w/support-triage.keel.yaml",
  name: "support triage",
  steps: [
    { id: "fetch_ticket", type: "http", line: 20, conditional: false },
    { id: "classify", type: "llm", line: 30, conditional: false },
    { id: "lookup_kb", type: "tool", line: 40, conditional: false },
    { id: "draft", type: "llm", line: 50, conditional: false },
    { id: "escalate", type: "shell", line: 60, conditional: true },
    { id: "check", type: "assert", line: 70, conditional: false },
  ],
  edges: [
    { from: "classify", to: "fetch_ticket" },
    { from: "lookup_kb", to: "classify" },
    { from: "draft", to: "lookup_kb" },
    { from: "draft", to: "classify" },
    { from: "escalate", to: "classify" },
    { from: "check", to: "draft" },
  ],
  errors: 0,
};

let browser: Browser;
let dir: string;

before(async () => {
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
    ],
  });
  dir = mkdtempSync(join(tmpdir(), "keel-webview-"));
});

after(async () => {
  await browser?.close();
});

async function open(theme: Record<string, string>, name: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1000, height: 420 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  const file = join(dir, `${name}.html`);
  writeFileSync(file, panelPage(theme));
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction(() => window.__posted.length > 0);
  assert.deepEqual(errors, []);
  return page;
}

const send = (page: Page, message: HostMessage | Record<string, unknown>) =>
  page.evaluate((m) => window.postMessage(m, "*"), message);
const posted = (page: Page) => page.evaluate(() => window.__posted) as Promise<PanelMessage[]>;
const states = (page: Page) =>
  page.$$eval(".keel-node", (els) =>
    Object.fromEntries(
      els.map((e) => [e.getAttribute("data-step"), e.getAttribute("data-status")]),
    ),
  );

test("the panel says it is ready, then draws every step of the graph it is sent, left to right", async () => {
  const page = await open(DARK, "draw");
  assert.deepEqual(await posted(page), [{ type: "ready" }]);
  await send(page, graph);
  await page.waitForSelector(".keel-node");
  assert.deepEqual(Object.keys(await states(page)).sort(), graph.steps.map((s) => s.id).sort());
  const x = async (id: string) => (await page.locator(`[data-step="${id}"]`).boundingBox())!.x;
  assert.ok((await x("fetch_ticket")) < (await x("classify")));
  assert.ok((await x("classify")) < (await x("draft")));
  assert.ok((await x("draft")) < (await x("check")));
  // One edge per dependency; the one into a conditional step is dashed.
  assert.equal(await page.locator(".react-flow__edge").count(), graph.edges.length);
  assert.equal(await page.locator(".react-flow__edge.conditional").count(), 1);
  await page.close();
});

test("status messages colour the nodes live; a bad message is dropped, not thrown", async () => {
  const page = await open(DARK, "status");
  await send(page, graph);
  await page.waitForSelector(".keel-node");
  await send(page, { type: "status", runId: "r1", steps: { fetch_ticket: { status: "running" } } });
  await page.waitForSelector('[data-step="fetch_ticket"][data-status="running"]');
  await send(page, { type: "status", runId: "r1", steps: "nonsense" });
  await send(page, {
    type: "status",
    runId: "r1",
    steps: {
      fetch_ticket: { status: "succeeded", durationMs: 120 },
      classify: { status: "succeeded", durationMs: 2300, attempts: 2 },
      lookup_kb: { status: "succeeded", durationMs: 5, cached: true },
      draft: { status: "failed", durationMs: 800 },
      escalate: { status: "skipped" },
    },
  });
  await page.waitForSelector('[data-step="draft"][data-status="failed"]');
  assert.deepEqual(await states(page), {
    fetch_ticket: "succeeded",
    classify: "succeeded",
    lookup_kb: "succeeded",
    draft: "failed",
    escalate: "skipped",
    check: "pending",
  });
  const label = await page.locator('[data-step="classify"]').getAttribute("aria-label");
  assert.equal(label, "classify, llm step, succeeded, 2.3 s, 2 attempts");
  assert.match(await page.locator('[data-step="lookup_kb"]').innerText(), /cached/);
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, "graph-dark.png") });
  await page.close();
});

test("selection goes both ways: a click tells the host, the host's choice selects the node", async () => {
  const page = await open(LIGHT, "select");
  await send(page, graph);
  await page.waitForSelector(".keel-node");
  await page.locator('[data-step="draft"]').click();
  assert.deepEqual((await posted(page)).at(-1), { type: "select", id: "draft" });
  await send(page, { type: "select", id: "classify" });
  await page.waitForSelector('[data-step="classify"].selected');
  assert.equal(await page.locator(".keel-node.selected").count(), 1);
  await send(page, {
    type: "status",
    runId: "r2",
    steps: {
      fetch_ticket: { status: "succeeded", durationMs: 90 },
      classify: { status: "running" },
    },
  });
  await page.waitForSelector('[data-step="classify"][data-status="running"]');
  await page.screenshot({ path: join(SHOTS, "graph-light.png") });
  await page.close();
});

/** A recorded run of the sample graph: classify fails once (rate limit) then succeeds, draft fails. */
function recordingOf(): Record<string, unknown> {
  const t = (s: number) => `2026-11-23T10:00:${String(s).padStart(2, "0")}.000Z`;
  const ev = (
    seq: number,
    type: string,
    stepId: string | null,
    attempt: number | null,
    data: Record<string, unknown> | null = null,
  ) => ({
    runId: "01RUN",
    seq,
    type,
    stepId,
    attempt,
    at: t(seq),
    data,
  });
  const at = (
    stepId: string,
    attempt: number,
    from: number,
    to: number,
    over: Record<string, unknown> = {},
  ) => ({
    runId: "01RUN",
    stepId,
    attempt,
    status: "succeeded",
    origin: "live",
    inputHash: '={"prompt":"hi"}',
    outputHash: '="ok"',
    errorKind: null,
    errorMessage: null,
    startedAt: t(from),
    endedAt: t(to),
    cacheKey: null,
    sourceRunId: null,
    meta: null,
    ...over,
  });
  const HASH = "a".repeat(64);
  return {
    type: "recording",
    runId: "01RUN",
    status: "failed",
    startedAt: t(0),
    events: [
      ev(1, "run_started", null, null, { inputs: {} }),
      ev(2, "step_started", "fetch_ticket", null),
      ev(3, "step_succeeded", "fetch_ticket", 1, { output: HASH, durationMs: 1000 }),
      ev(4, "step_started", "classify", null),
      ev(5, "attempt_failed", "classify", 1, { kind: "rate_limit", message: "429", next: "retry" }),
      ev(6, "step_succeeded", "classify", 2, { output: '="billing"', durationMs: 2000 }),
      ev(7, "step_started", "draft", null),
      ev(8, "step_failed", "draft", 1, { kind: "server_error", message: "500 from the provider" }),
      ev(9, "run_finished", null, null, { status: "failed", error: "draft failed" }),
    ],
    attempts: [
      at("fetch_ticket", 1, 2, 3, { outputHash: HASH }),
      at("classify", 1, 4, 5, {
        status: "failed",
        outputHash: null,
        errorKind: "rate_limit",
        errorMessage: "429",
      }),
      at("classify", 2, 5, 6, {
        outputHash: '="billing"',
        meta: { provider: "openai", model: "gpt-x", usage: { input: 12, output: 3 } },
      }),
      at("draft", 1, 7, 8, {
        status: "failed",
        outputHash: null,
        errorKind: "server_error",
        errorMessage: "500 from the provider",
      }),
    ],
  };
}

test("a recorded run steps backwards and forwards, to a failure, and the inspector shows the step then", async () => {
  const page = await open(DARK, "stepper");
  await send(page, graph);
  await page.waitForSelector(".keel-node");
  await send(page, recordingOf());
  await page.waitForSelector(".keel-stepper");
  // At the end of the log.
  await page.waitForSelector('[data-step="draft"][data-status="failed"]');
  assert.match(await page.locator(".keel-position").innerText(), /^9\/9 · run finished/);
  // Two events back: draft is running again; two more: classify is back at its failed attempt.
  await page.locator('button[aria-label="Back one event"]').click();
  await page.locator('button[aria-label="Back one event"]').click();
  await page.waitForSelector('[data-step="draft"][data-status="running"]');
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("ArrowLeft");
  assert.match(
    await page.locator(".keel-position").innerText(),
    /^5\/9 · attempt failed · classify · attempt 1 \(rate_limit\)/,
  );
  assert.equal(await page.locator('[data-step="classify"]').getAttribute("data-status"), "running");
  assert.equal(await page.locator('[data-step="draft"]').getAttribute("data-status"), "pending");
  assert.equal(await page.locator(".keel-node.current").getAttribute("data-step"), "classify");
  // To the start: nothing has run.
  await page.keyboard.press("Home");
  await page.waitForFunction(() =>
    Array.from(document.querySelectorAll(".keel-node")).every(
      (n) => n.getAttribute("data-status") === "pending",
    ),
  );
  // The next failure from the start is classify's failed attempt; the one after, draft's failure.
  await page.locator('button[aria-label="Next failure"]').click();
  assert.match(await page.locator(".keel-position").innerText(), /^5\/9/);
  await page.keyboard.press("f");
  assert.match(await page.locator(".keel-position").innerText(), /^8\/9 · step failed · draft/);
  // The inspector: classify at this point, with both attempts, the provider's metadata, its output.
  await page.locator('[data-step="classify"]').click();
  const inspector = page.locator(".keel-inspector");
  await inspector.getByText("attempt 2: succeeded").waitFor();
  const text = await inspector.innerText();
  assert.match(text, /attempt 1: failed/);
  assert.match(text, /rate_limit: 429/);
  assert.match(text, /model gpt-x/);
  assert.match(text, /tokens 12 in \/ 3 out/);
  assert.match(text, /"billing"/);
  // A value stored by hash is asked of the host, and shown when it answers.
  await page.locator('[data-step="fetch_ticket"]').click();
  await page.waitForFunction(() =>
    window.__posted.some((m) => m.type === "value" && m.ref === "a".repeat(64)),
  );
  await send(page, {
    type: "value",
    ref: "a".repeat(64),
    text: '{"ticket":"T-1","body":"charged twice"}',
  });
  await inspector.getByText("charged twice").waitFor();
  await page.setViewportSize({ width: 1200, height: 480 });
  await page.screenshot({ path: join(SHOTS, "graph-stepper-dark.png") });
  await page.close();
});
