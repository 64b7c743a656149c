// A map and a loop in the real VS Code (#18), driven through the DOM by driver.cjs: the sample
// samples/digest.keel.yaml (a `for_each` map of a child workflow over four documents, one of which
// fails and is kept going with `on_item_error: continue`, then a `repeat` loop of drafts, on the
// offline `scripted` provider) is run from the editor with its graph panel open. The map's node
// counts its items (3/4 · 1 ✗) with a status strip; the inspector lists its items and opens one
// (its key, resolved input and output, read from the run store by the extension); the loop's node
// shows its iterations as a lane of cells, and a cell opens its iteration. In the light theme the
// panel, opened again, shows the same recorded run. Screenshots: graph-map-dark.png and
// graph-map-light.png.
"use strict";
const path = require("node:path");
const { setTimeout: sleep } = require("node:timers/promises");

const FILE = "digest.keel.yaml";

/** Waits until an element stays where it is (the panel fits the graph again as it resizes). */
async function atRest(locator) {
  let last = "";
  for (let i = 0; i < 50; i++) {
    const box = JSON.stringify(await locator.boundingBox());
    if (box === last) return;
    last = box;
    await sleep(200);
  }
}

/**
 * @param {import("playwright-core").Page} page
 * @param {{ palette: Function, check: Function, log: Function, shots: string,
 *           openFromExplorer: Function, closePanel: Function, theme: "dark" | "light",
 *           run: boolean }} h
 */
async function checkMap(page, h) {
  const { palette, check, log, theme } = h;
  const panel = page.frameLocator("iframe.webview.ready").frameLocator("#active-frame");
  // the file and its panel side by side, each half the editor area, nothing under them: the
  // four steps in a row then draw at a readable zoom (not the zoomed-out boxes of graph/far.ts)
  await palette(page, "View: Single Column Editor Layout");
  await h.closePanel(page);
  // ("digest" is on screen whether the file shows its top or, after a node was clicked, a step)
  await h.openFromExplorer(page, FILE, "digest");
  // without the side bar, the panel is wider (it comes back at the end)
  await palette(page, "View: Close Primary Side Bar");
  await palette(page, "Keel: Open Graph");
  const node = (id) => panel.locator(`.keel-node[data-step="${id}"]`);
  await panel.locator(".keel-graph:not(.keel-far)").waitFor({ timeout: 30000 });
  await node("summarize").waitFor({ timeout: 30000 });
  if (h.run) {
    // run from the palette: the graph panel has the focus, and the command runs its workflow
    await palette(page, "Keel: Run Workflow");
    await panel
      .locator('.keel-node[data-step="refine"][data-status="succeeded"]')
      .waitFor({ timeout: 90000 });
    check(true, `${theme}: "Keel: Run Workflow" ran ${FILE}: its loop 'refine' succeeded`);
  }
  // the recorded run, at its end (after the run, or the newest run when the panel opens)
  const position = panel.locator(`input[aria-label="Position in the run's log"]`);
  await position.waitFor({ timeout: 30000 });
  const label = panel.locator("#keel-label-summarize");
  await label.waitFor({ state: "attached", timeout: 15000 });
  const spoken = await label.textContent();
  check(
    spoken === "summarize, workflow step, succeeded, 3 of 4 items succeeded, 1 failed",
    `${theme}: the map node's spoken label counts its items: "${spoken}"`,
  );
  const count = await node("summarize").locator(".keel-count").innerText();
  const segments = await node("summarize")
    .locator(".keel-seg")
    .evaluateAll((els) =>
      els.map((e) => `${e.className.replace(/.*seg-/, "")}:${e.getAttribute("data-count")}`),
    );
  check(
    count.replace(/\s+/g, " ") === "3/4 · 1 ✗" &&
      JSON.stringify(segments) === JSON.stringify(["succeeded:3", "failed:1"]),
    `${theme}: the map node shows "${count}" and a strip of ${segments.join(", ")}`,
  );
  const cells = await node("refine")
    .locator(".keel-cell")
    .evaluateAll((els) => els.map((e) => `${e.textContent}:${e.getAttribute("data-status")}`));
  check(
    JSON.stringify(cells) === JSON.stringify(["#1✓:succeeded", "#2✓:succeeded"]),
    `${theme}: the loop node shows its iterations as a lane of cells: ${cells.join(" ")}`,
  );

  // one item, opened from the inspector's item list
  await atRest(node("summarize"));
  await node("summarize").click();
  const list = panel.locator(".keel-units", { hasText: "Items (4)" });
  await list.waitFor({ timeout: 15000 });
  await panel.locator('.keel-unit-list [data-unit="summarize[doc-1]"]').click();
  const unit = panel.locator(".keel-inspector .keel-unit");
  await unit.locator("h3", { hasText: "summarize[doc-1]" }).waitFor({ timeout: 15000 });
  // the values come from the run store through the extension
  const input = unit.locator(".keel-value", { hasText: "Resolved input" }).locator("pre");
  const output = unit.locator(".keel-value", { hasText: "Output" }).locator("pre");
  await input.filter({ hasText: '"title": "Release 3.8"' }).waitFor({ timeout: 15000 });
  await output.filter({ hasText: "3.8 ships on December 2nd" }).waitFor({ timeout: 15000 });
  check(
    (await unit.locator(".keel-status").first().innerText()).startsWith("succeeded"),
    `${theme}: clicking the item doc-1 in the inspector's list shows summarize[doc-1]: succeeded, its resolved input (the document "Release 3.8") and its output (its summary)`,
  );
  // the failed item says why
  await panel.locator('.keel-unit-list [data-unit="summarize[doc-3]"]').click();
  await unit.locator("h3", { hasText: "summarize[doc-3]" }).waitFor({ timeout: 15000 });
  const error = await unit.locator(".keel-error").first().innerText();
  check(/has no text/.test(error), `${theme}: the failed item doc-3 shows its error: ${error}`);
  await panel.locator('.keel-unit-list [data-unit="summarize[doc-1]"]').click();
  await unit.locator("h3", { hasText: "summarize[doc-1]" }).waitFor({ timeout: 15000 });
  await output.filter({ hasText: "3.8 ships on December 2nd" }).waitFor({ timeout: 15000 });
  await unit.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(h.shots, `graph-map-${theme}.png`) });
  log(`screenshot graph-map-${theme}.png: the digest's map with the item doc-1 open`);

  // an iteration, opened from its cell on the loop's node
  await atRest(node("refine"));
  await node("refine").locator('.keel-cell[data-unit="refine#2"]').click();
  await unit.locator("h3", { hasText: "refine#2" }).waitFor({ timeout: 15000 });
  await output.filter({ hasText: '"score": 9' }).waitFor({ timeout: 15000 });
  check(
    (await unit.locator(".keel-child code").innerText()).length > 0,
    `${theme}: the loop's cell #2 opens iteration refine#2 in the inspector: its output (score 9) and its child run`,
  );
  await palette(page, "View: Show Explorer");
}

module.exports = { checkMap };
