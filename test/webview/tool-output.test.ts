// The inspector shows what a tool printed during each attempt (recorded in its attempt's meta).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { DARK, closeBrowser, graph, open, send, startBrowser } from "./panel";

before(startBrowser);
after(closeBrowser);

test("a tool step's attempts show what the tool printed", async () => {
  const t = (s: number) => `2026-11-23T10:00:${String(s).padStart(2, "0")}.000Z`;
  const ev = (seq: number, type: string, attempt: number | null, data: object | null = null) => ({
    runId: "01RUN",
    seq,
    type,
    stepId: type.startsWith("run_") ? null : "lookup_kb",
    scope: null,
    attempt,
    at: t(seq),
    data,
  });
  const attempt = (n: number, over: object) => ({
    runId: "01RUN",
    stepId: "lookup_kb",
    scope: null,
    attempt: n,
    status: "succeeded",
    origin: "live",
    inputHash: '={"uses":"./kb.js#search"}',
    outputHash: '="kb"',
    errorKind: null,
    errorMessage: null,
    startedAt: t(n + 1),
    endedAt: t(n + 2),
    cacheKey: null,
    sourceRunId: null,
    meta: null,
    ...over,
  });
  const page = await open(DARK, "tool-output");
  await send(page, graph);
  await page.waitForSelector(".keel-node");
  await send(page, {
    type: "recording",
    runId: "01RUN",
    status: "succeeded",
    startedAt: t(0),
    events: [
      ev(1, "run_started", null, { inputs: {} }),
      ev(2, "step_started", null),
      ev(3, "attempt_failed", 1, { kind: "rate_limit", message: "slow down", next: "retry" }),
      ev(4, "step_succeeded", 2, { output: '="kb"', durationMs: 1000 }),
      ev(5, "run_finished", null, { status: "succeeded", error: null }),
    ],
    attempts: [
      attempt(1, {
        status: "failed",
        outputHash: null,
        errorKind: "rate_limit",
        errorMessage: "slow down",
        meta: { log: "searching the knowledge base\n" },
      }),
      attempt(2, { meta: { log: "found 3 articles\n" } }),
    ],
  });
  await page.waitForSelector('[data-step="lookup_kb"][data-status="succeeded"]');
  await page.locator('[data-step="lookup_kb"]').click();
  const inspector = page.locator(".keel-inspector");
  await inspector.getByText("attempt 2: succeeded").waitFor();
  const logs = await inspector.locator(".keel-log pre").allInnerTexts();
  assert.deepEqual(logs, ["searching the knowledge base\n", "found 3 articles\n"]);
  await page.close();
});
