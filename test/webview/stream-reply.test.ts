// A live run's streamed step: its inspector shows the reply so far, growing with each status
// message the extension sends from the `{"chunk": …}` lines of `keel run --events`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { DARK, closeBrowser, graph, open, send, startBrowser } from "./panel";

before(startBrowser);
after(closeBrowser);

test("the inspector of a running streamed step shows its reply growing", async () => {
  const page = await open(DARK, "stream-reply");
  await send(page, graph);
  await page.waitForSelector(".keel-node");
  const status = (reply: string | undefined) =>
    send(page, {
      type: "status",
      runId: "01LIVE",
      steps: {
        fetch_ticket: { status: "succeeded" },
        classify: { status: "running", ...(reply !== undefined ? { reply } : {}) },
      },
    });
  await status(undefined);
  await page.locator('[data-step="classify"]').click();
  await page.waitForSelector(".keel-inspector h2");
  assert.equal(await page.locator(".keel-reply").count(), 0);
  await status("The ticket is ");
  await page.waitForSelector(".keel-reply pre");
  assert.equal(await page.locator(".keel-reply pre").innerText(), "The ticket is ");
  await status("The ticket is about billing.");
  await page.waitForFunction(
    () => document.querySelector(".keel-reply pre")?.textContent === "The ticket is about billing.",
  );
  assert.equal(await page.locator(".keel-reply summary").innerText(), "Reply so far");
  await page.close();
});
