// The timeline of a recorded run in the built panel: a row per step that ran or was skipped, a
// bar per attempt placed by its times, the step-through's cursor on it, and a click on a bar that
// selects the step at its first event.
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

/** The sample run, with `escalate` skipped just before the run finishes. */
function withSkip(): Record<string, unknown> {
  const r = recordingOf() as { events: Record<string, unknown>[] };
  const finished = r.events.at(-1)!;
  r.events.splice(-1, 0, {
    ...finished,
    seq: 9,
    type: "step_skipped",
    stepId: "escalate",
    data: { reason: "if false" },
  });
  finished.seq = 10;
  return r;
}

async function shown(page: Page): Promise<void> {
  await send(page, graph);
  await page.waitForSelector(".keel-node");
  await send(page, withSkip());
  await page.waitForSelector(".keel-timeline .keel-bar");
}

const box = async (page: Page, selector: string) => (await page.locator(selector).boundingBox())!;

test("the timeline has a row per step that ran or was skipped, a bar per attempt in time order", async () => {
  const page = await open(DARK, "timeline");
  await shown(page);
  const rows = await page.$$eval(".keel-trow", (els) => els.map((e) => e.getAttribute("data-row")));
  // The graph's order; steps that never ran (lookup_kb, check) have no row.
  assert.deepEqual(rows, ["fetch_ticket", "classify", "draft", "escalate"]);
  const classify = page.locator('.keel-trow[data-row="classify"] .keel-bar');
  assert.equal(await classify.count(), 2);
  assert.match((await classify.nth(0).getAttribute("class"))!, /bar-failed/);
  assert.match((await classify.nth(1).getAttribute("class"))!, /bar-succeeded/);
  assert.equal(
    await classify.nth(1).getAttribute("aria-label"),
    "classify attempt 2: succeeded, 1.0 s, from 5.0 s",
  );
  // Placed by time: fetch_ticket 2–3 s, classify 4–5 s then 5–6 s, draft 7–8 s, of a 9 s run.
  const fetch = await box(page, '.keel-trow[data-row="fetch_ticket"] .keel-bar');
  const a1 = await box(page, '.keel-trow[data-row="classify"] .keel-bar[data-attempt="1"]');
  const a2 = await box(page, '.keel-trow[data-row="classify"] .keel-bar[data-attempt="2"]');
  assert.ok(fetch.x + fetch.width <= a1.x);
  assert.ok(Math.abs(a1.x + a1.width - a2.x) < 2, "attempt 2 starts where attempt 1 ended");
  assert.ok(Math.abs(fetch.width - a1.width) < 2, "one second is one second on every row");
  assert.equal(await page.locator('.keel-trow[data-row="escalate"] .bar-skipped').count(), 1);
  await page.screenshot({ path: join(SHOTS, "timeline-dark.png") });
  await page.close();
});

test("the step-through's position is a cursor on the timeline that moves back and forth with it", async () => {
  const page = await open(DARK, "timeline-cursor");
  await shown(page);
  const cursorX = async () => (await box(page, ".keel-cursor")).x;
  const end = await cursorX();
  const draft = await box(page, '.keel-trow[data-row="draft"] .keel-bar');
  assert.ok(end > draft.x + draft.width - 1, "at the end the cursor is past the last attempt");
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("ArrowLeft");
  // Event 7: draft started, at the start of its bar.
  assert.match(await page.locator(".keel-position").innerText(), /^7\/10 · step started · draft/);
  assert.ok(Math.abs((await cursorX()) - draft.x) < 2);
  await page.keyboard.press("ArrowRight");
  assert.ok(Math.abs((await cursorX()) - (draft.x + draft.width)) < 2);
  // Before the first event there is no position to show.
  await page.keyboard.press("Home");
  assert.equal(await page.locator(".keel-cursor").count(), 0);
  await page.close();
});

test("a click on a bar selects the step at its first event; selecting a node marks its row", async () => {
  const page = await open(LIGHT, "timeline-pick");
  await shown(page);
  await page.locator('.keel-trow[data-row="classify"] .keel-bar[data-attempt="2"]').click();
  assert.deepEqual((await posted(page)).at(-1), { type: "select", id: "classify" });
  assert.match(
    await page.locator(".keel-position").innerText(),
    /^4\/10 · step started · classify/,
  );
  await page.waitForSelector('[data-step="classify"].selected');
  assert.equal(await page.locator('[data-step="classify"]').getAttribute("data-status"), "running");
  assert.equal(await page.locator(".keel-trow.selected").getAttribute("data-row"), "classify");
  // The other way: a node (or the editor's cursor) selects the row.
  await page.locator('[data-step="draft"]').click();
  await page.waitForSelector('.keel-trow.selected[data-row="draft"]');
  await send(page, { type: "select", id: "fetch_ticket" });
  await page.waitForSelector('.keel-trow.selected[data-row="fetch_ticket"]');
  assert.equal(await page.locator(".keel-trow.selected").count(), 1);
  await page.screenshot({ path: join(SHOTS, "timeline-light.png") });
  // The timeline can be hidden and shown again.
  const toggle = page.getByRole("button", { name: "Timeline" });
  assert.equal(await toggle.getAttribute("aria-pressed"), "true");
  await toggle.click();
  assert.equal(await page.locator(".keel-timeline").count(), 0);
  assert.equal(await toggle.getAttribute("aria-pressed"), "false");
  await toggle.click();
  await page.waitForSelector(".keel-timeline");
  await page.close();
});

test("a live run has no timeline and no toggle", async () => {
  const page = await open(DARK, "timeline-live");
  await send(page, graph);
  await page.waitForSelector(".keel-node");
  await send(page, withSkip());
  await page.waitForSelector(".keel-timeline");
  await send(page, { type: "status", runId: "r9", steps: { fetch_ticket: { status: "running" } } });
  await page.waitForSelector('[data-step="fetch_ticket"][data-status="running"]');
  assert.equal(await page.locator(".keel-timeline").count(), 0);
  assert.equal(await page.getByRole("button", { name: "Timeline" }).count(), 0);
  await page.close();
});
