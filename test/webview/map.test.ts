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
import { DARK, LIGHT, SHOTS, closeBrowser, open, send, startBrowser } from "./panel";
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
      await page.locator('[data-step="summarize"] .keel-state').innerText(),
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
