// The panel without a mouse, and its inspector's buttons: nodes reached with Tab in the file's
// order, arrow keys between neighbouring nodes, Enter selects, a visible focus ring; the run and
// rerun buttons post what the host acts on; a high-contrast theme.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import {
  DARK,
  LIGHT,
  SHOTS,
  closeBrowser,
  graph,
  open,
  posted,
  recordingOf,
  send,
  startBrowser,
} from "./panel";

before(startBrowser);
after(closeBrowser);

const HIGH_CONTRAST = {
  "--vscode-editor-background": "#000000",
  "--vscode-foreground": "#ffffff",
  "--vscode-editorWidget-background": "#0c141f",
  "--vscode-editorWidget-foreground": "#ffffff",
  "--vscode-descriptionForeground": "#ffffff",
  "--vscode-contrastBorder": "#6fc3df",
  "--vscode-contrastActiveBorder": "#f38518",
  "--vscode-focusBorder": "#f38518",
  "--vscode-panel-border": "#6fc3df",
  "--vscode-badge-background": "#000000",
  "--vscode-badge-foreground": "#ffffff",
  "--vscode-button-background": "#000000",
  "--vscode-button-foreground": "#ffffff",
  "--vscode-button-border": "#6fc3df",
  "--vscode-button-secondaryBackground": "#000000",
  "--vscode-button-secondaryForeground": "#ffffff",
  "--vscode-testing-iconPassed": "#73c991",
  "--vscode-testing-iconFailed": "#f48771",
  "--vscode-list-inactiveSelectionBackground": "#000000",
  "--vscode-editorCursor-foreground": "#ffffff",
  "--vscode-textCodeBlock-background": "#000000",
};

const focused = (page: Page) =>
  page.evaluate(() => document.activeElement?.getAttribute("data-id") ?? null);

async function drawn(page: Page): Promise<void> {
  await send(page, graph);
  await page.waitForSelector(".keel-node");
}

test("Tab reaches the nodes in the file's order; arrows move to neighbours; Enter selects", async () => {
  const page = await open(DARK, "keys");
  await drawn(page);
  await page.keyboard.press("Tab");
  assert.equal(await focused(page), "fetch_ticket");
  await page.keyboard.press("Tab");
  assert.equal(await focused(page), "classify");
  // Right: the next column, the row nearest this one; down and up within the column.
  await page.keyboard.press("ArrowRight");
  assert.equal(await focused(page), "lookup_kb");
  // In the refined layout escalate is drawn above lookup_kb.
  await page.keyboard.press("ArrowUp");
  assert.equal(await focused(page), "escalate");
  await page.keyboard.press("ArrowUp");
  assert.equal(await focused(page), "escalate", "the first of its column stays");
  await page.keyboard.press("ArrowRight");
  assert.equal(await focused(page), "draft");
  await page.keyboard.press("ArrowLeft");
  assert.equal(await focused(page), "lookup_kb");
  // The focused node has a visible ring; Enter selects it and tells the host.
  const ring = await page
    .locator('.react-flow__node[data-id="lookup_kb"] .keel-node')
    .evaluate((e) => getComputedStyle(e).boxShadow);
  assert.notEqual(ring, "none");
  await page.keyboard.press("Enter");
  await page.waitForSelector('[data-step="lookup_kb"].selected');
  assert.deepEqual((await posted(page)).at(-1), { type: "select", id: "lookup_kb" });
  assert.equal(
    await page.locator('.react-flow__node[data-id="lookup_kb"]').getAttribute("aria-selected"),
    "true",
  );
  assert.equal(
    await page.locator('.react-flow__node[data-id="lookup_kb"]').getAttribute("role"),
    "treeitem",
  );
  await page.screenshot({ path: join(SHOTS, "graph-keyboard-dark.png") });
  await page.close();
});

test("after a click on a node the arrow keys still step through the recorded run", async () => {
  const page = await open(DARK, "keys-stepper");
  await drawn(page);
  await send(page, recordingOf());
  await page.waitForSelector(".keel-stepper");
  await page.locator('[data-step="classify"]').click();
  await page.keyboard.press("ArrowLeft");
  assert.match(await page.locator(".keel-position").innerText(), /^8\/9/);
  assert.equal(await focused(page), "classify");
  await page.close();
});

test("the inspector's buttons post run step, run up to here and, with a recorded run, rerun from here", async () => {
  const page = await open(LIGHT, "actions");
  await drawn(page);
  await page.locator('[data-step="draft"]').click();
  const inspector = page.locator(".keel-inspector");
  await inspector.getByRole("button", { name: "Run step" }).click();
  assert.deepEqual((await posted(page)).at(-1), { type: "run", what: "step", id: "draft" });
  await inspector.getByRole("button", { name: "Run up to here" }).click();
  assert.deepEqual((await posted(page)).at(-1), { type: "run", what: "to", id: "draft" });
  assert.equal(await inspector.getByRole("button", { name: "Rerun from here" }).count(), 0);
  await send(page, recordingOf());
  await inspector.getByRole("button", { name: "Rerun from here" }).click();
  assert.deepEqual((await posted(page)).at(-1), { type: "rerun", runId: "01RUN", from: "draft" });
  await page.close();
});

test("a high-contrast theme: borders in the contrast colour, the focused node ringed", async () => {
  const page = await open(HIGH_CONTRAST, "high-contrast");
  await drawn(page);
  await send(page, recordingOf());
  await page.waitForSelector(".keel-timeline");
  await page.locator('[data-step="classify"]').click();
  await page.keyboard.press("Tab");
  await page.keyboard.press("Shift+Tab");
  const border = await page
    .locator('[data-step="check"]')
    .evaluate((e) => getComputedStyle(e).borderTopColor);
  assert.equal(border, "rgb(111, 195, 223)");
  await page.setViewportSize({ width: 1200, height: 520 });
  await page.screenshot({ path: join(SHOTS, "graph-high-contrast.png") });
  await page.close();
});
