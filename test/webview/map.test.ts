// A map step in the graph panel: its node counts its items by status (a strip of coloured
// segments and the same in words for screen readers) in a recorded run at the step-through's
// position and in a live run, and a step-through move over an item's event tells only that node.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import type { RecordingMessage } from "@keel/core/protocol/webview";
import { StepViews } from "../../webview/graph/step-views";
import { follow, viewOfStep, type Followed } from "../../webview/stepper/fold-views";
import { foldOf } from "../../webview/stepper/recording";
import { DARK, LIGHT, SHOTS, atRest, closeBrowser, open, send, startBrowser } from "./panel";
import { at, mapGraph, mapRecording } from "./map-run";

before(startBrowser);
after(closeBrowser);

const ids = mapGraph.steps.map((s) => s.id);

test("an item's event moves its step's tally and tells the map's node only", () => {
  const recording = mapRecording(42) as unknown as RecordingMessage;
  const fold = foldOf(recording, ids);
  const views = new StepViews();
  const told: string[] = [];
  for (const id of ids) views.subscribe(id, () => told.push(id));
  fold.seek(at.expanded);
  let last: Followed | undefined = follow(views, mapGraph, fold, undefined);
  assert.equal(views.get("summarize").items, 42);
  assert.equal(views.get("summarize").tally?.pending, 42);
  for (let i = 0; i < 5; i++) {
    told.length = 0;
    fold.seek(at.itemStarted(i));
    last = follow(views, mapGraph, fold, last);
    assert.deepEqual(told, ["summarize"], `item ${i} started`);
    assert.equal(views.get("summarize").tally?.running, 1);
    told.length = 0;
    fold.seek(at.itemEnded(i));
    last = follow(views, mapGraph, fold, last);
    assert.deepEqual(told, ["summarize"], `item ${i} ended`);
    assert.equal(views.get("summarize").tally?.succeeded, i + 1);
  }
  // Back and forth, the views are a fresh fold's at every position.
  for (const k of [at.itemEnded(3), at.itemStarted(1), at.expanded, fold.length - 1, 2]) {
    fold.seek(k);
    last = follow(views, mapGraph, fold, last);
    const fresh = foldOf(recording, ids);
    fresh.seek(k);
    const current = fresh.current?.stepId ?? null;
    for (const id of ids)
      assert.deepEqual(views.get(id), viewOfStep(fresh.step(id), id === current), `${id} at ${k}`);
  }
});

const label = (page: Page, id: string) =>
  page.$eval(`#keel-label-${id}`, (e) => e.textContent ?? "");
const waitLabel = (page: Page, id: string, text: string) =>
  page.waitForFunction(
    ([id, text]) => document.querySelector(`#keel-label-${id}`)?.textContent === text,
    [id, text] as const,
  );
const segments = (page: Page, id: string) =>
  page.$$eval(`[data-step="${id}"] .keel-seg`, (els) =>
    Object.fromEntries(
      els.map((e) => [e.className.replace(/.*seg-/, ""), Number(e.getAttribute("data-count"))]),
    ),
  );

for (const [theme, name] of [
  [DARK, "dark"],
  [LIGHT, "light"],
] as const) {
  test(`a recorded map step's node counts its items at the step-through's position (${name})`, async () => {
    const page = await open(theme, `map-${name}`);
    await send(page, mapGraph);
    await page.waitForSelector(".keel-node");
    await send(page, mapRecording(42));
    await page.waitForSelector('[data-step="summarize"] .keel-strip');
    // At the end: items 21 and 42 failed (on_item_error: continue), the step succeeded.
    assert.equal(
      await label(page, "summarize"),
      "summarize, llm step, succeeded, 40 of 42 items succeeded, 2 failed",
    );
    assert.deepEqual(await segments(page, "summarize"), { succeeded: 40, failed: 2 });
    assert.match(
      await page.locator('[data-step="summarize"] .keel-count').innerText(),
      /40\/42 · 2 ✗/,
    );
    // The other steps have no strip.
    assert.equal(await page.locator('[data-step="digest"] .keel-strip').count(), 0);
    // Back to the moment item 10 ended, then one event on: item 11 running.
    await page.locator('input[type="range"]').fill(String(at.itemEnded(9)));
    await waitLabel(
      page,
      "summarize",
      "summarize, llm step, running, 10 of 42 items succeeded, 32 pending",
    );
    assert.deepEqual(await segments(page, "summarize"), { succeeded: 10, pending: 32 });
    await page.keyboard.press("ArrowRight");
    await waitLabel(
      page,
      "summarize",
      "summarize, llm step, running, 10 of 42 items succeeded, 1 running, 31 pending",
    );
    await page.locator('[data-step="summarize"]').screenshot({
      path: join(SHOTS, `map-node-${name}.png`),
    });
    await page.screenshot({ path: join(SHOTS, `map-graph-${name}.png`) });
    // Before the list is known the node has no strip.
    await page.locator('input[type="range"]').fill(String(at.expanded - 1));
    await page.waitForSelector('[data-step="summarize"]:not(.has-strip)');
    await page.close();
  });
}

test("a live run's status message gives a map step's node its items by status", async () => {
  const page = await open(DARK, "map-live");
  await send(page, mapGraph);
  await page.waitForSelector(".keel-node");
  const tally = { pending: 17, running: 4, succeeded: 20, failed: 1, skipped: 0, cancelled: 0 };
  await send(page, {
    type: "status",
    runId: "01LIVE",
    steps: {
      split: { status: "succeeded" },
      summarize: { status: "running", items: 42, tally },
    },
  });
  await waitLabel(
    page,
    "summarize",
    "summarize, llm step, running, 20 of 42 items succeeded, 1 failed, 4 running, 17 pending",
  );
  assert.deepEqual(await segments(page, "summarize"), {
    succeeded: 20,
    failed: 1,
    running: 4,
    pending: 17,
  });
  await page.close();
});

const rowsShown = (page: Page) => page.locator(".keel-unit-list .keel-unit-row").count();
const row = (page: Page, key: string) =>
  page.locator(`.keel-unit-list [data-unit="summarize[${key}]"]`);

for (const [theme, name] of [
  [DARK, "dark"],
  [LIGHT, "light"],
] as const) {
  test(`the inspector lists a map's 10,000 items with only the rows in view in the DOM (${name})`, async () => {
    const page = await open(theme, `items-${name}`);
    await send(page, mapGraph);
    await page.waitForSelector(".keel-node");
    await send(page, mapRecording(10_000, 6));
    await page.waitForSelector('[data-step="summarize"] .keel-strip');
    await atRest(page, '[data-step="summarize"]');
    await page.locator('[data-step="summarize"]').click();
    await page.waitForSelector(".keel-unit-list");
    assert.equal(await page.locator(".keel-units h3").innerText(), "Items (10000)");
    assert.ok((await rowsShown(page)) < 40, `${await rowsShown(page)} rows in the DOM`);
    // A row: key, status, attempts, latency, cost (the attempt's meta.costUsd).
    assert.deepEqual(await row(page, "doc-3").locator("span").allInnerTexts(), [
      "doc-3",
      "succeeded",
      "1",
      "100 ms",
      "$0.0012",
    ]);
    assert.equal(await row(page, "doc-5").locator(".keel-unit-status").innerText(), "failed");
    // Choosing an item shows its attempts, resolved input and output like a step's.
    await row(page, "doc-5").click();
    const unit = page.locator(".keel-unit");
    await unit.locator("h3", { hasText: "summarize[doc-5]" }).waitFor();
    assert.match(await unit.locator(".keel-attempt").innerText(), /attempt 1: failed/);
    assert.match(await unit.locator(".keel-error").first().innerText(), /server_error: 500/);
    assert.match(await unit.locator(".keel-value pre").first().innerText(), /"doc": "\[doc-5\]"/);
    await page.screenshot({ path: join(SHOTS, `map-items-${name}.png`) });
    // ↓ chooses the next item.
    await page.locator(".keel-unit-list").press("ArrowDown");
    await unit.locator("h3", { hasText: "summarize[doc-6]" }).waitFor();
    assert.match(
      await unit.locator(".keel-value", { hasText: "Output" }).innerText(),
      /summary of/,
    );
    // Scrolled to the end: the last items are drawn, still only a few rows.
    await page.locator(".keel-unit-list").hover();
    await page.mouse.wheel(0, 10_000 * 22);
    await row(page, "doc-9999").waitFor();
    assert.equal(await row(page, "doc-3").count(), 0);
    assert.ok((await rowsShown(page)) < 40);
    await page.close();
  });
}

test("the item list follows the step-through: an item's status is the one at the position", async () => {
  const page = await open(DARK, "items-step");
  await send(page, mapGraph);
  await page.waitForSelector(".keel-node");
  await send(page, mapRecording(42));
  await atRest(page, '[data-step="summarize"]');
  await page.locator('[data-step="summarize"]').click();
  await page.waitForSelector(".keel-unit-list");
  await page.locator('input[type="range"]').fill(String(at.itemEnded(2)));
  const status = (key: string) => row(page, key).locator(".keel-unit-status").innerText();
  await page.waitForFunction(
    () =>
      document.querySelector('.keel-unit-list [data-unit="summarize[doc-2]"] .keel-unit-status')
        ?.textContent === "succeeded",
  );
  assert.equal(await status("doc-3"), "pending");
  await page.keyboard.press("ArrowRight");
  await page.waitForFunction(
    () =>
      document.querySelector('.keel-unit-list [data-unit="summarize[doc-3]"] .keel-unit-status')
        ?.textContent === "running",
  );
  // Before the map's list is known it has no items to list.
  await page.locator('input[type="range"]').fill(String(at.expanded - 1));
  await page.waitForFunction(() => document.querySelector(".keel-unit-list") === null);
  await page.close();
});

test("a loop's node counts iterations, a map's items, in its spoken label", async () => {
  const { labelOf } = await import("../../webview/graph/to-flow");
  const tally = { pending: 0, running: 1, succeeded: 2, failed: 0, skipped: 0, cancelled: 0 };
  const view = { status: "running", tally, current: false, first: false } as const;
  assert.equal(
    labelOf({ id: "refine", type: "workflow", repeat: true }, view),
    "refine, workflow step, running, 2 of 3 iterations succeeded, 1 running",
  );
  // A map counts the items its list names, even those no event has reached.
  assert.equal(
    labelOf({ id: "each", type: "workflow", map: true }, { ...view, items: 5 }),
    "each, workflow step, running, 2 of 5 items succeeded, 1 running, 2 pending",
  );
});

test("the timeline draws a map's items on their step's lane, one bar each, named by item; a click moves to the item's first event", async () => {
  const page = await open(DARK, "items-lane");
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await send(page, mapGraph);
  await page.waitForSelector(".keel-node");
  await send(page, mapRecording(42));
  const lane = page.locator('.keel-trow[data-row="summarize"] .keel-bar');
  await lane.first().waitFor();
  assert.equal(await lane.count(), 42);
  assert.equal(
    await lane.nth(20).getAttribute("aria-label"),
    "summarize[doc-20] attempt 1: failed, 100 ms, from 4.5 s",
  );
  // In time order, the order the items ran in.
  const units = await page.$$eval('.keel-trow[data-row="summarize"] .keel-bar', (els) =>
    els.map((e) => e.getAttribute("data-unit")),
  );
  assert.deepEqual(
    units,
    Array.from({ length: 42 }, (_, i) => `summarize[doc-${i}]`),
  );
  await page.locator('.keel-bar[data-unit="summarize[doc-7]"]').click();
  assert.match(
    await page.locator(".keel-position").innerText(),
    new RegExp(`^${at.itemStarted(7) + 1}/\\d+ · step started · summarize`),
  );
  // React keys each bar apart (a repeated key is an error in the console).
  assert.deepEqual(errors, []);
  await page.close();
});
