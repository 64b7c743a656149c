// The graph panel and the replay debugger (#9): a stop of the debugger moves the step-through and
// selects the event's step; while a session follows, the panel's controls move the debugger;
// "Debug from here" asks for a session at the current event.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { DARK, closeBrowser, graph, open, posted, recordingOf, send, startBrowser } from "./panel";

before(startBrowser);
after(closeBrowser);

test("a debugger stop moves the step-through to its event and selects its step", async () => {
  const page = await open(DARK, "debug-follow");
  await send(page, graph);
  await send(page, recordingOf());
  await page.waitForSelector(".keel-stepper");
  await send(page, { type: "debug", runId: "01RUN", active: true, index: 4, stepId: "classify" });
  await page.waitForSelector('[data-step="classify"].selected');
  assert.match(
    await page.locator(".keel-position").innerText(),
    /^5\/9 · attempt failed · classify/,
  );
  assert.equal(await page.locator(".keel-following").count(), 1);
  await send(page, { type: "debug", runId: "01RUN", active: true, index: 7, stepId: "draft" });
  await page.waitForSelector('[data-step="draft"].selected');
  assert.match(await page.locator(".keel-position").innerText(), /^8\/9 · step failed · draft/);
});

test("while the debugger follows, the step-through controls move it; Debug from here asks for a session", async () => {
  const page = await open(DARK, "debug-controls");
  await send(page, graph);
  await send(page, recordingOf());
  await page.waitForSelector(".keel-stepper");
  await page.getByRole("button", { name: "Back one event" }).click();
  const before = (await posted(page)).filter((m) => m.type === "debug");
  assert.deepEqual(before, [], "no session follows: the controls stay in the panel");
  await page.getByRole("button", { name: "Debug from here" }).click();
  assert.deepEqual(
    (await posted(page)).filter((m) => m.type === "debug"),
    [{ type: "debug", runId: "01RUN", seq: 8 }],
  );
  await send(page, { type: "debug", runId: "01RUN", active: true, index: 7, stepId: "draft" });
  await page.waitForSelector(".keel-following");
  await page.getByRole("button", { name: "Back one event" }).click();
  await page.getByRole("button", { name: "To the start" }).click();
  const moves = (await posted(page)).filter((m) => m.type === "debug").slice(1);
  assert.deepEqual(moves, [
    { type: "debug", runId: "01RUN", seq: 7 },
    { type: "debug", runId: "01RUN", seq: 1 },
  ]);
  await send(page, { type: "debug", runId: "01RUN", active: false });
  await page.waitForSelector(".keel-following", { state: "detached" });
});
