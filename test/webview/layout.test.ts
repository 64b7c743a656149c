// The graph is drawn at once in the core's layered placement, then in the refined layout that the
// layout worker (dagre) computes, cached by the graph's shape: an edit that keeps the shape, or a
// shape drawn before, is drawn refined at once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import type { GraphMessage } from "@keel/core/protocol/webview";
import { DARK, closeBrowser, open, send, startBrowser } from "./panel";

before(startBrowser);
after(closeBrowser);

/** Layers of 10 steps, each needing two steps of the layer before. */
function layers(n: number, name: string): GraphMessage {
  return {
    type: "graph",
    uri: "file:///w/layers.keel.yaml",
    name,
    steps: Array.from({ length: n }, (_, i) => ({
      id: `s${i}`,
      type: "transform" as const,
      line: i,
      conditional: false,
    })),
    edges: Array.from({ length: Math.max(0, n - 10) }, (_, k) => k + 10).flatMap((i) => [
      { from: `s${i}`, to: `s${i - 10}` },
      { from: `s${i}`, to: `s${i - 10 - (i % 10 === 0 ? 0 : 1)}` },
    ]),
    errors: 0,
  };
}

const layout = (page: Page) => page.locator(".keel-graph").getAttribute("data-layout");
/** Where a step's node is drawn (graph units, React Flow's transform of the node). */
const at = (page: Page, id: string) =>
  page.locator(`.react-flow__node[data-id="${id}"]`).getAttribute("style");
/** Posts a message without waiting for the layout (send() waits for the refined one). */
const post = (page: Page, m: GraphMessage) => page.evaluate((x) => window.postMessage(x, "*"), m);

test("drawn at once in the layered placement, then in the refined layout; a kept shape is refined at once", async () => {
  const page = await open(DARK, "layout");
  const first = layers(300, "v1");
  await post(page, first);
  await page.waitForSelector(".keel-node", { state: "attached" });
  assert.equal(await layout(page), "layered", "the first drawing is the cheap placement");
  const before = await at(page, "s12");
  await page.waitForSelector('.keel-graph[data-layout="refined"]:not(.keel-settling)', {
    state: "attached",
    timeout: 60_000,
  });
  assert.notEqual(await at(page, "s12"), before, "the refined layout moved the nodes");
  const refined = await at(page, "s12");
  // An edit that keeps the shape (here: the workflow's name): the same refined drawing, at once.
  await post(page, { ...first, name: "v2" });
  await page.waitForSelector('.keel-title:text("v2")');
  assert.equal(await layout(page), "refined");
  assert.equal(await at(page, "s12"), refined);
  // Another shape: layered first; then the first shape again is refined at once, from the cache.
  await send(page, layers(30, "other"));
  await post(page, first);
  await page.waitForSelector('.keel-title:text("v1")');
  assert.equal(await layout(page), "refined");
  await page.close();
});
