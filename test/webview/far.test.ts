// The zoomed-out drawing (below 0.3 zoom) of a graph too big to read whole: nodes and edges on one
// canvas, in the status colours, with the node elements kept (invisible, textless) for the mouse,
// the keyboard and screen readers; zooming in brings the text back.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import type { GraphMessage } from "@keel/core/protocol/webview";
import { DARK, SHOTS, closeBrowser, open, posted, send, startBrowser } from "./panel";

before(startBrowser);
after(closeBrowser);

/** 12 layers of 20 steps, each needing two of the layer before; every 7th conditional. */
const big: GraphMessage = {
  type: "graph",
  uri: "file:///w/big.keel.yaml",
  name: "big",
  steps: Array.from({ length: 240 }, (_, i) => ({
    id: `s${i}`,
    type: "llm" as const,
    line: i,
    conditional: i % 7 === 3,
  })),
  edges: Array.from({ length: 220 }, (_, k) => k + 20).flatMap((i) => [
    { from: `s${i}`, to: `s${i - 20}` },
    { from: `s${i}`, to: `s${i - 20 + ((i + 1) % 20) - (i % 20)}` },
  ]),
  errors: 0,
};

/** The canvas pixel at the centre of a step's node element, as [r, g, b]. */
async function colourAt(page: Page, id: string): Promise<number[]> {
  const box = (await page.locator(`.react-flow__node[data-id="${id}"]`).boundingBox())!;
  // A string: the page's DOM types are not the tests' (page-globals.d.ts).
  return page.evaluate(`(() => {
    const canvas = document.querySelector(".keel-far-canvas");
    const r = canvas.getBoundingClientRect();
    const k = canvas.width / r.width;
    const x = (${box.x + box.width / 2} - r.left) * k;
    const y = (${box.y + box.height / 2} - r.top) * k;
    return [...canvas.getContext("2d").getImageData(x, y, 1, 1).data.slice(0, 3)];
  })()`);
}

const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) <= 2);
const frame = (page: Page) =>
  page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))");

test("zoomed out, a big graph is boxes in status colours on a canvas; clicks and Tab still reach its nodes", async () => {
  const page = await open(DARK, "far");
  await send(page, big);
  await page.waitForSelector(".keel-far .keel-far-canvas");
  // No edge elements: the canvas draws them; every node element is there, without its text.
  assert.equal(await page.locator(".react-flow__edge").count(), 0);
  assert.equal(await page.locator(".keel-node").count(), 240);
  assert.equal(await page.locator(".keel-node .keel-id").count(), 0);
  await send(page, {
    type: "status",
    runId: "r1",
    steps: { s0: { status: "succeeded" }, s1: { status: "failed" }, s2: { status: "running" } },
  });
  await page.waitForSelector('[data-step="s1"][data-status="failed"]', { state: "attached" });
  await frame(page);
  // The fallback colours of panel.css (the test page sets no testing colours).
  assert.ok(near(await colourAt(page, "s0"), [0x73, 0xc9, 0x91]), "succeeded is green");
  assert.ok(near(await colourAt(page, "s1"), [0xf1, 0x4c, 0x4c]), "failed is red");
  assert.ok(near(await colourAt(page, "s2"), [0x0e, 0x70, 0xc0]), "running is blue");
  // A screen reader still hears each node's name.
  assert.equal(
    await page.getByRole("treeitem", { name: "s1, llm step, failed", exact: true }).count(),
    1,
  );
  // A click on a box selects its step.
  await page.locator('.react-flow__node[data-id="s45"]').click();
  assert.deepEqual((await posted(page)).at(-1), { type: "select", id: "s45" });
  await page.waitForSelector('.react-flow__node[data-id="s45"] .keel-node.selected', {
    state: "attached",
  });
  // Tab reaches the first node; its ring is drawn around the box (the focus colour beside it).
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement?.getAttribute("data-id"));
  assert.ok(focused, "a node has the focus");
  await page.screenshot({ path: join(SHOTS, "graph-far-dark.png") });
  // Zoomed in past 0.3, the nodes are elements with their text and the canvas is gone.
  for (let i = 0; i < 8 && (await page.locator(".keel-far").count()) > 0; i++)
    await page.locator(".react-flow__controls-zoomin").click();
  await page.waitForSelector(".keel-node .keel-id");
  assert.equal(await page.locator(".keel-far-canvas").count(), 0);
  assert.ok((await page.locator(".react-flow__edge").count()) > 0);
  await page.close();
});
