// The built graph panel (dist/webview.js and .css) in headless Chromium, with a fake host in
// place of VS Code's: it records what the panel posts and sends it the host's messages.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
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
  states,
} from "./panel";

before(startBrowser);
after(closeBrowser);

test("the panel says it is ready, then draws every step of the graph it is sent, left to right", async () => {
  const page = await open(DARK, "draw");
  assert.deepEqual(await posted(page), [{ type: "ready" }]);
  await send(page, graph);
  await page.waitForSelector(".keel-node");
  assert.deepEqual(Object.keys(await states(page)).sort(), graph.steps.map((s) => s.id).sort());
  const x = async (id: string) => (await page.locator(`[data-step="${id}"]`).boundingBox())!.x;
  assert.ok((await x("fetch_ticket")) < (await x("classify")));
  assert.ok((await x("classify")) < (await x("draft")));
  assert.ok((await x("draft")) < (await x("check")));
  // One edge per dependency; the one into a conditional step is dashed.
  assert.equal(await page.locator(".react-flow__edge").count(), graph.edges.length);
  assert.equal(await page.locator(".react-flow__edge.conditional").count(), 1);
  await page.close();
});

test("status messages colour the nodes live; a bad message is dropped, not thrown", async () => {
  const page = await open(DARK, "status");
  await send(page, graph);
  await page.waitForSelector(".keel-node");
  await send(page, { type: "status", runId: "r1", steps: { fetch_ticket: { status: "running" } } });
  await page.waitForSelector('[data-step="fetch_ticket"][data-status="running"]');
  await send(page, { type: "status", runId: "r1", steps: "nonsense" });
  await send(page, {
    type: "status",
    runId: "r1",
    steps: {
      fetch_ticket: { status: "succeeded", durationMs: 120 },
      classify: { status: "succeeded", durationMs: 2300, attempts: 2 },
      lookup_kb: { status: "succeeded", durationMs: 5, cached: true },
      draft: { status: "failed", durationMs: 800 },
      escalate: { status: "skipped" },
    },
  });
  await page.waitForSelector('[data-step="draft"][data-status="failed"]');
  assert.deepEqual(await states(page), {
    fetch_ticket: "succeeded",
    classify: "succeeded",
    lookup_kb: "succeeded",
    draft: "failed",
    escalate: "skipped",
    check: "pending",
  });
  // A screen reader hears the focusable node's accessible name (computed by Chromium).
  const name = "classify, llm step, succeeded, 2.3 s, 2 attempts";
  const node = page.getByRole("treeitem", { name, exact: true });
  assert.equal(await node.getAttribute("data-id"), "classify");
  assert.match(await page.locator('[data-step="lookup_kb"]').innerText(), /cached/);
  await page.screenshot({ path: join(SHOTS, "graph-dark.png") });
  await page.close();
});

test("selection goes both ways: a click tells the host, the host's choice selects the node", async () => {
  const page = await open(LIGHT, "select");
  await send(page, graph);
  await page.waitForSelector(".keel-node");
  await page.locator('[data-step="draft"]').click();
  assert.deepEqual((await posted(page)).at(-1), { type: "select", id: "draft" });
  await send(page, { type: "select", id: "classify" });
  await page.waitForSelector('[data-step="classify"].selected');
  assert.equal(await page.locator(".keel-node.selected").count(), 1);
  await send(page, {
    type: "status",
    runId: "r2",
    steps: {
      fetch_ticket: { status: "succeeded", durationMs: 90 },
      classify: { status: "running" },
    },
  });
  await page.waitForSelector('[data-step="classify"][data-status="running"]');
  await page.screenshot({ path: join(SHOTS, "graph-light.png") });
  await page.close();
});

test("a recorded run steps backwards and forwards, to a failure, and the inspector shows the step then", async () => {
  const page = await open(DARK, "stepper");
  await send(page, graph);
  await page.waitForSelector(".keel-node");
  await send(page, recordingOf());
  await page.waitForSelector(".keel-stepper");
  // At the end of the log.
  await page.waitForSelector('[data-step="draft"][data-status="failed"]');
  assert.match(await page.locator(".keel-position").innerText(), /^9\/9 · run finished/);
  // Two events back: draft is running again; two more: classify is back at its failed attempt.
  await page.locator('button[aria-label="Back one event"]').click();
  await page.locator('button[aria-label="Back one event"]').click();
  await page.waitForSelector('[data-step="draft"][data-status="running"]');
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("ArrowLeft");
  assert.match(
    await page.locator(".keel-position").innerText(),
    /^5\/9 · attempt failed · classify · attempt 1 \(rate_limit\)/,
  );
  assert.equal(await page.locator('[data-step="classify"]').getAttribute("data-status"), "running");
  assert.equal(await page.locator('[data-step="draft"]').getAttribute("data-status"), "pending");
  assert.equal(await page.locator(".keel-node.current").getAttribute("data-step"), "classify");
  // To the start: nothing has run.
  await page.keyboard.press("Home");
  await page.waitForFunction(() =>
    Array.from(document.querySelectorAll(".keel-node")).every(
      (n) => n.getAttribute("data-status") === "pending",
    ),
  );
  // The next failure from the start is classify's failed attempt; the one after, draft's failure.
  await page.locator('button[aria-label="Next failure"]').click();
  assert.match(await page.locator(".keel-position").innerText(), /^5\/9/);
  await page.keyboard.press("f");
  assert.match(await page.locator(".keel-position").innerText(), /^8\/9 · step failed · draft/);
  // The inspector: classify at this point, with both attempts, the provider's metadata, its output.
  await page.locator('[data-step="classify"]').click();
  const inspector = page.locator(".keel-inspector");
  await inspector.getByText("attempt 2: succeeded").waitFor();
  const text = await inspector.innerText();
  assert.match(text, /attempt 1: failed/);
  assert.match(text, /rate_limit: 429/);
  assert.match(text, /model gpt-x/);
  assert.match(text, /tokens 12 in \/ 3 out/);
  assert.match(text, /"billing"/);
  // A value stored by hash is asked of the host, and shown when it answers.
  await page.locator('[data-step="fetch_ticket"]').click();
  await page.waitForFunction(() =>
    window.__posted.some((m) => m.type === "value" && m.ref === "a".repeat(64)),
  );
  await send(page, {
    type: "value",
    ref: "a".repeat(64),
    text: '{"ticket":"T-1","body":"charged twice"}',
  });
  await inspector.getByText("charged twice").waitFor();
  await page.setViewportSize({ width: 1200, height: 480 });
  await page.screenshot({ path: join(SHOTS, "graph-stepper-dark.png") });
  await page.close();
});
