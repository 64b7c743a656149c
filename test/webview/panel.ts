// What every webview test shares: Chromium with the built panel (dist/webview.js and .css) in a
// page like VS Code's, a fake host that records what the panel posts, themes, a sample graph and
// a recorded run of it.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import type { GraphMessage, HostMessage, PanelMessage } from "@keel/core/protocol/webview";

export const DIST = resolve("dist");
export const SHOTS = resolve("docs/screenshots");

/** The page VS Code would give the webview, with `acquireVsCodeApi` answered by the test. */
export function panelPage(theme: Record<string, string>, dist = DIST): string {
  const vars = Object.entries(theme)
    .map(([k, v]) => `${k}: ${v};`)
    .join(" ");
  return `<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="${pathToFileURL(join(dist, "webview.css")).href}">
<style>body { ${vars} }</style>
<script>
  window.__posted = [];
  window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m) });
</script></head>
<body><div id="root"></div>
<script src="${pathToFileURL(join(dist, "webview.js")).href}"></script></body></html>`;
}

export const DARK = {
  "--vscode-editor-background": "#1e1e1e",
  "--vscode-foreground": "#cccccc",
  "--vscode-editorWidget-background": "#252526",
  "--vscode-editorWidget-foreground": "#cccccc",
};
export const LIGHT = {
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
  "--vscode-button-background": "#005fb8",
  "--vscode-button-foreground": "#ffffff",
  "--vscode-focusBorder": "#005fb8",
  "--vscode-list-inactiveSelectionBackground": "#e4e6f1",
  "--vscode-textCodeBlock-background": "#f2f2f2",
  "--vscode-editorCursor-foreground": "#000000",
  "--vscode-gitDecoration-modifiedResourceForeground": "#895503",
  "--vscode-gitDecoration-addedResourceForeground": "#587c0c",
  "--vscode-gitDecoration-deletedResourceForeground": "#ad0707",
};

export const graph: GraphMessage = {
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

/** The flags every webview test and the bench launch Debian's Chromium with. */
export const CHROMIUM = {
  executablePath: "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    // The page is a file: the layout worker beside webview.js is started from its file.
    "--allow-file-access-from-files",
  ],
};

export async function startBrowser(): Promise<void> {
  browser = await chromium.launch(CHROMIUM);
  dir = mkdtempSync(join(tmpdir(), "keel-webview-"));
  mkdirSync(SHOTS, { recursive: true });
}

export async function closeBrowser(): Promise<void> {
  await browser?.close();
}

/** A fresh panel page in the theme, told nothing yet but listening (it has posted `ready`). */
export async function open(theme: Record<string, string>, name: string): Promise<Page> {
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

/**
 * Posts a host message to the panel. After a graph, waits for the refined layout from the layout
 * worker to be drawn and the nodes to come to rest there, so that nothing moves under a click.
 */
export async function send(page: Page, message: HostMessage | Record<string, unknown>) {
  await page.evaluate((m) => window.postMessage(m, "*"), message);
  const steps = (message as { type?: string; steps?: unknown[] }).steps;
  if (message.type === "graph" && Array.isArray(steps) && steps.length > 0)
    await page.waitForSelector('.keel-graph:not([data-layout="layered"]):not(.keel-settling)', {
      state: "attached",
    });
}
/**
 * Waits until a node stays where it is: a recording opens the inspector and the timeline, and the
 * graph is fitted again to its smaller area (graph/fit-on-resize.tsx) after a short delay.
 */
export async function atRest(page: Page, selector: string): Promise<void> {
  let last = "";
  for (;;) {
    const box = JSON.stringify(await page.locator(selector).boundingBox());
    if (box === last) return;
    last = box;
    await page.waitForTimeout(150);
  }
}

/**
 * Answers the panel's requests for values, once it has asked for each of `refs`, with their texts
 * as the host reads them (`blob`: the run's store).
 */
export async function answerValues(
  page: Page,
  refs: readonly string[],
  blob: (ref: string) => Promise<string | null | undefined>,
): Promise<void> {
  await page.waitForFunction(
    (refs) => refs.every((r) => window.__posted.some((m) => m.type === "value" && m.ref === r)),
    refs,
  );
  for (const ref of refs) await send(page, { type: "value", ref, text: (await blob(ref)) ?? null });
}

export const posted = (page: Page) =>
  page.evaluate(() => window.__posted) as Promise<PanelMessage[]>;
export const states = (page: Page) =>
  page.$$eval(".keel-node", (els) =>
    Object.fromEntries(
      els.map((e) => [e.getAttribute("data-step"), e.getAttribute("data-status")]),
    ),
  );

/** A recorded run of the sample graph: classify fails once (rate limit) then succeeds, draft fails. */
export function recordingOf(): Record<string, unknown> {
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
    scope: null,
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
    scope: null,
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
