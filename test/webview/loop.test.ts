// A `repeat` step in the graph panel: its node shows its iterations as a lane of cells (#1 ✓ #2 ▸
// …), coloured by status like a map's strip, at the step-through's position and in a live run;
// a cell opens that iteration in the inspector (its attempts, resolved input, output and child
// run). The recording is a real run of samples/digest.keel.yaml (a map of child runs, then a
// draft–grade loop that ends at its second iteration), its values answered from its store.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import type { GraphMessage } from "@keel/core/protocol/webview";
import type { RunStore } from "@keel/core/store/run-store";
import { runText } from "../core/runner/harness";
import {
  DARK,
  LIGHT,
  SHOTS,
  answerValues as answerWith,
  atRest,
  closeBrowser,
  open,
  posted,
  send,
  startBrowser,
} from "./panel";

const graph: GraphMessage = {
  type: "graph",
  uri: "file:///w/digest.keel.yaml",
  name: "Weekly digest",
  steps: [
    { id: "split", type: "transform", line: 33, conditional: false },
    { id: "summarize", type: "workflow", line: 46, conditional: false, map: true },
    { id: "reduce", type: "transform", line: 56, conditional: false },
    { id: "refine", type: "workflow", line: 64, conditional: false, repeat: true },
  ],
  edges: [
    { from: "summarize", to: "split" },
    { from: "reduce", to: "summarize" },
    { from: "refine", to: "reduce" },
  ],
  errors: 0,
};

interface Digest {
  readonly store: RunStore;
  readonly recording: Record<string, unknown>;
  readonly events: { type: string; stepId: string | null; scope: string | null }[];
  readonly attempts: {
    stepId: string;
    scope: string | null;
    inputHash: string;
    outputHash: string | null;
  }[];
  /** The child run each iteration started. */
  readonly children: Map<string, string>;
}

let digest: Digest;

before(async () => {
  await startBrowser();
  const run = await runText("", { path: resolve("samples/digest.keel.yaml") });
  assert.equal(run.result.status, "succeeded", run.result.error ?? "");
  const id = run.result.runId;
  const events = await run.store.events(id);
  const attempts = await run.store.attempts(id);
  const children = new Map<string, string>();
  for (const e of events)
    if (e.type === "child_started" && e.stepId === "refine")
      children.set(`refine${e.scope}`, String(e.data?.childRun));
  const record = (await run.store.getRun(id))!;
  digest = {
    store: run.store,
    events,
    attempts,
    children,
    recording: {
      type: "recording",
      runId: id,
      status: record.status,
      startedAt: record.startedAt,
      events,
      attempts,
    },
  };
});
after(closeBrowser);

/** Answers the panel's requests for values (the host reads them from the run's store). */
const answerValues = (page: Page, refs: readonly string[]) =>
  answerWith(page, refs, (ref) => digest.store.blob(ref));

const cells = (page: Page) =>
  page.$$eval('[data-step="refine"] .keel-lane .keel-cell', (els) =>
    els.map((e) => `${e.textContent} ${e.getAttribute("data-status") ?? ""}`.trim()),
  );

const indexOf = (type: string, scope: string) =>
  digest.events.findIndex((e) => e.type === type && e.stepId === "refine" && e.scope === scope);

for (const [theme, name] of [
  [DARK, "dark"],
  [LIGHT, "light"],
] as const) {
  test(`a loop's node shows its iterations as a lane of cells; a cell opens the iteration in the inspector (${name})`, async () => {
    const page = await open(theme, `loop-${name}`);
    await send(page, graph);
    await page.waitForSelector(".keel-node");
    await send(page, digest.recording);
    await page.waitForSelector('[data-step="refine"] .keel-lane');
    // At the end: two iterations, both succeeded (the second draft's grade reaches 8).
    assert.deepEqual(await cells(page), ["#1✓ succeeded", "#2✓ succeeded"]);
    // The map beside it keeps its strip, and no lane.
    assert.equal(await page.locator('[data-step="summarize"] .keel-lane').count(), 0);
    assert.equal(await page.locator('[data-step="summarize"] .keel-strip').count(), 1);
    // At the moment iteration 2 started: #1 done, #2 running; before the loop, no lane.
    const range = page.locator('input[type="range"]');
    await range.fill(String(indexOf("step_started", "#2")));
    await page.waitForSelector('[data-step="refine"] .keel-cell[data-status="running"]');
    assert.deepEqual(await cells(page), ["#1✓ succeeded", "#2▸ running"]);
    await range.fill(String(indexOf("step_started", "#1") - 1));
    await page.waitForSelector('[data-step="refine"] .keel-lane', { state: "detached" });
    await range.fill(String(digest.events.length - 1));
    await atRest(page, '[data-step="refine"]');
    // A cell opens its iteration: the step is selected and the iteration shown under the list.
    await page.locator('[data-step="refine"] .keel-cell[data-unit="refine#1"]').click();
    assert.deepEqual(
      (await posted(page)).find((m) => m.type === "select"),
      {
        type: "select",
        id: "refine",
      },
    );
    const unit = page.locator(".keel-inspector .keel-unit");
    await unit.locator("h3", { hasText: "refine#1" }).waitFor();
    assert.equal(
      await page.locator('.keel-unit-list [data-unit="refine#1"]').getAttribute("aria-selected"),
      "true",
    );
    assert.equal(
      await page.locator('[data-step="refine"] .keel-cell.chosen').getAttribute("data-unit"),
      "refine#1",
    );
    assert.match(await unit.locator(".keel-attempt").innerText(), /attempt 1: succeeded/);
    // The loop's own output (it has no attempt of its own) starts folded, the iteration's open.
    const own = page.locator(".keel-inspector > details.keel-value");
    assert.equal(await own.count(), 1);
    assert.equal(await own.locator("summary").innerText(), "Output");
    assert.equal(await own.getAttribute("open"), null);
    assert.notEqual(await unit.locator("details.keel-value").first().getAttribute("open"), null);
    const first = digest.attempts.find((a) => a.stepId === "refine" && a.scope === "#1")!;
    await answerValues(page, [first.inputHash, first.outputHash!]);
    const input = unit.locator(".keel-value", { hasText: "Resolved input" });
    const output = unit.locator(".keel-value", { hasText: "Output" });
    await input.locator("pre", { hasText: '"round": 1' }).waitFor();
    assert.match(await input.innerText(), /3\.8 ships on December 2nd/);
    await output.locator("pre", { hasText: '"score": 6' }).waitFor();
    // Its child run, with the way to open it.
    await unit.getByRole("button", { name: "Open child run" }).click();
    assert.deepEqual((await posted(page)).at(-1), {
      type: "open",
      runId: digest.children.get("refine#1"),
    });
    await page.locator('[data-step="refine"]').screenshot({
      path: join(SHOTS, `loop-node-${name}.png`),
    });
    await page.screenshot({ path: join(SHOTS, `loop-iteration-${name}.png`) });
    // The other cell moves the choice to iteration 2.
    await page.locator('[data-step="refine"] .keel-cell[data-unit="refine#2"]').click();
    await unit.locator("h3", { hasText: "refine#2" }).waitFor();
    const second = digest.attempts.find((a) => a.stepId === "refine" && a.scope === "#2")!;
    await answerValues(page, [second.outputHash!]);
    await output.locator("pre", { hasText: '"score": 9' }).waitFor();
    await page.close();
  });
}

test("a live run's status gives a loop's node its lane: the last iterations after a … cell that selects the step", async () => {
  const page = await open(DARK, "loop-live");
  await send(page, graph);
  await page.waitForSelector(".keel-node");
  const iterations = ["succeeded", "succeeded", "succeeded", "succeeded", "succeeded", "failed"];
  const tally = { pending: 0, running: 0, succeeded: 5, failed: 1, skipped: 0, cancelled: 0 };
  await send(page, {
    type: "status",
    runId: "01LIVE",
    steps: { refine: { status: "failed", tally, iterations } },
  });
  await page.waitForSelector('[data-step="refine"] .keel-lane');
  // The last three fit after "…", which stands for #1–#3.
  assert.deepEqual(await cells(page), ["…", "#4✓ succeeded", "#5✓ succeeded", "#6✗ failed"]);
  assert.equal(
    await page
      .locator('[data-step="refine"] .keel-cell[data-status="failed"]')
      .getAttribute("aria-label"),
    "iteration 6 of refine: failed",
  );
  assert.equal(
    await page.locator("#keel-label-refine").textContent(),
    "refine, workflow step, failed, 5 of 6 iterations succeeded, 1 failed",
  );
  await atRest(page, '[data-step="refine"]');
  const more = page.locator('[data-step="refine"] .keel-cell-more');
  assert.equal(
    await more.getAttribute("aria-label"),
    "iterations 1 to 3 of refine: list them in the inspector",
  );
  await more.click();
  assert.deepEqual((await posted(page)).at(-1), { type: "select", id: "refine" });
  await page.close();
});
