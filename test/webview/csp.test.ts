// The layout worker under the panel's Content-Security-Policy, as VS Code serves the panel: the
// page on one origin, its files (webview.js, .css, layout-worker.js) on another, and the policy
// of extension/panel/graph-panel.ts — scripts by nonce, `connect-src` to the worker's file only,
// `worker-src blob:`. The worker cannot be started from its file (another origin), so the panel
// must fetch it and start it from a blob; the refined layout then arrives.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { chromium, type Browser } from "playwright-core";
import { CHROMIUM, DIST, DARK, graph, panelPage } from "./panel";

let server: Server;
let browser: Browser;
let port = 0;
const violations: string[] = [];

const TYPES: Record<string, string> = {
  js: "text/javascript",
  css: "text/css",
  html: "text/html",
};

before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/panel.html") {
      // The page, on 127.0.0.1; its files from localhost: another origin, as in VS Code.
      const files = `http://localhost:${port}`;
      const nonce = "bm9uY2U=";
      const csp = [
        "default-src 'none'",
        `style-src ${files} 'unsafe-inline'`,
        `script-src 'nonce-${nonce}'`,
        `img-src ${files} data:`,
        `font-src ${files}`,
        `connect-src ${files}/layout-worker.js`,
        "worker-src blob:",
      ].join("; ");
      const page = panelPage(DARK)
        .replace(/file:\/\/[^"]*\/(webview\.(js|css))/g, `${files}/$1`)
        .replace("<head>", `<head><meta http-equiv="Content-Security-Policy" content="${csp}">`)
        .replace(/<script>/, `<script nonce="${nonce}">`)
        .replace(/<script src=/, `<script nonce="${nonce}" src=`);
      res.writeHead(200, { "content-type": TYPES.html });
      res.end(page);
      return;
    }
    const name = url.pathname.slice(1);
    if (!/^(webview\.(js|css)|layout-worker\.js)$/.test(name)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      "content-type": TYPES[name.split(".").pop()!]!,
      // VS Code's service worker answers the page's fetch of its own resources.
      "access-control-allow-origin": "*",
    });
    res.end(readFileSync(join(DIST, name)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  browser = await chromium.launch(CHROMIUM);
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

test("under the panel's CSP the layout worker starts from a blob and the refined layout is drawn", async () => {
  const page = await browser.newPage({ viewport: { width: 1000, height: 420 } });
  page.on("console", (m) => {
    if (/Content Security Policy|Refused/.test(m.text())) violations.push(m.text());
  });
  await page.goto(`http://127.0.0.1:${port}/panel.html`);
  await page.waitForFunction("window.__posted.length > 0");
  await page.evaluate((m) => window.postMessage(m, "*"), graph);
  await page.waitForSelector(".keel-node", { state: "attached" });
  await page.waitForSelector('.keel-graph[data-layout="refined"]', {
    state: "attached",
    timeout: 30_000,
  });
  assert.deepEqual(violations, []);
  await page.close();
});
