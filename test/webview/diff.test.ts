// Diff mode in the built panel: the host sends the core's diff of two runs; the changed steps are
// marked on the graph (with a badge, not colour alone), the first divergence is selected and has
// the keyboard focus, the inspector tells how the selected step differs, and the user can leave.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { diffRuns } from "@keel/core/replay/diff";
import { recordedRun } from "@keel/core/replay/record";
import type { AttemptRecord, EventRecord, RunRecord } from "@keel/core/record/records";
import { DiffMessage, type RecordingMessage } from "@keel/core/protocol/webview";
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

const A = "01RUNAAAAAAAAAAAAAAAAAAAAA";
const B = "01RUNBBBBBBBBBBBBBBBBBBBBB";
const row = (step: string, over: Partial<DiffMessage["steps"][number]> = {}) => ({
  step,
  status: ["succeeded", "succeeded"] as [string, string],
  inputEqual: true,
  outputEqual: true,
  latencyMs: [1000, 1000] as [number | null, number | null],
  costUsd: [null, null] as [number | null, number | null],
  model: [null, null] as [string | null, string | null],
  fingerprint: [null, null] as [string | null, string | null],
  differs: false,
  ...over,
});

/** classify changed model (the first divergence), draft failed then succeeded, lookup_kb is new, escalate gone. */
const diff: DiffMessage = {
  type: "diff",
  a: A,
  b: B,
  firstDivergence: "classify",
  steps: [
    row("classify", {
      model: ["gpt-x", "gpt-y"],
      outputEqual: false,
      latencyMs: [2000, 1500],
      costUsd: [0.002, 0.001],
      differs: true,
    }),
    row("fetch_ticket"),
    row("draft", { status: ["failed", "succeeded"], outputEqual: false, differs: true }),
    row("escalate", { status: ["skipped", "absent"], latencyMs: [null, null], differs: true }),
    row("lookup_kb", { status: ["absent", "succeeded"], inputEqual: false, differs: true }),
  ],
};

async function diffShown(page: Page): Promise<void> {
  await send(page, graph);
  await page.waitForSelector(".keel-node");
  await send(page, recordingOf());
  await page.waitForSelector(".keel-stepper");
  await send(page, diff);
  await page.waitForSelector(".keel-diffbar");
  // Diff mode brings the first divergence into view: let the view come to rest before clicking.
  await page.waitForFunction(
    () => {
      const w = window as unknown as { __keelLast?: string; __keelSame?: number };
      const now = document.querySelector(".react-flow__viewport")?.getAttribute("style") ?? "";
      w.__keelSame = now === w.__keelLast ? (w.__keelSame ?? 0) + 1 : 0;
      w.__keelLast = now;
      return w.__keelSame >= 3;
    },
    null,
    { polling: 100 },
  );
}

const marks = (page: Page) =>
  page.$$eval(".keel-node", (els) =>
    Object.fromEntries(els.map((e) => [e.getAttribute("data-step"), e.getAttribute("data-diff")])),
  );

test("the message the host builds from the core's diffRuns is accepted as it is", () => {
  const r = recordingOf() as unknown as RecordingMessage;
  // A RecordedRun as the host reads one (recordedRun), over the recording's events and attempts.
  const run = (id: string) =>
    recordedRun({
      run: { id, sourceHash: "", inputsHash: "" } as unknown as RunRecord,
      events: r.events.map((e) => ({ ...e, runId: id })) as unknown as EventRecord[],
      attempts: r.attempts.map((a) => ({ ...a, runId: id })) as unknown as AttemptRecord[],
      findings: [],
      texts: new Map(),
    });
  const parsed = DiffMessage.safeParse({ type: "diff", ...diffRuns(run(A), run(B)) });
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  assert.equal(parsed.data.firstDivergence, null);
  assert.deepEqual(parsed.data.steps.find((s) => s.step === "classify")?.status, [
    "succeeded",
    "succeeded",
  ]);
});

test("changed steps are marked, the first divergence is selected and focused, with a legend", async () => {
  const page = await open(DARK, "diff");
  await diffShown(page);
  // `check` ran in neither run: no mark (it may be off screen once the view moves to classify).
  const { check, ...marked } = await marks(page);
  assert.equal(check ?? null, null);
  assert.deepEqual(marked, {
    fetch_ticket: "same",
    classify: "changed",
    lookup_kb: "added",
    draft: "changed",
    escalate: "removed",
  });
  // The nodes show the second run's states; the stepper and the timeline give way to the diff.
  assert.equal(await page.locator('[data-step="draft"]').getAttribute("data-status"), "succeeded");
  assert.equal(await page.locator(".keel-stepper").count(), 0);
  assert.equal(await page.locator(".keel-timeline").count(), 0);
  await page.waitForSelector('[data-step="classify"].selected.first-divergence');
  await page.waitForFunction(() => document.activeElement?.getAttribute("data-id") === "classify");
  const name = "classify, llm step, succeeded, 1.5 s, changed between the runs, first divergence";
  assert.equal(
    await page.getByRole("treeitem", { name, exact: true }).getAttribute("data-id"),
    "classify",
  );
  assert.equal(await page.locator('[data-step="classify"] .keel-diff-badge').innerText(), "≠");
  const bar = await page.locator(".keel-diffbar").innerText();
  assert.match(bar, /run AAAAAAAA ↔ run BBBBBBBB/);
  assert.match(bar, /4 steps differ/);
  assert.match(bar, /≠ changed[\s\S]*= same[\s\S]*\+ only in BBBBBBBB[\s\S]*− only in AAAAAAAA/);
  const inspector = await page.locator(".keel-inspector").innerText();
  assert.match(inspector, /model gpt-x → gpt-y/);
  assert.match(inspector, /output changed/);
  assert.match(inspector, /1\.5 s \(−500 ms\)/);
  assert.match(inspector, /\(−\$0\.001000\)/);
  await page.setViewportSize({ width: 1200, height: 480 });
  await page.screenshot({ path: join(SHOTS, "graph-diff-dark.png") });
  await page.close();
});

test("another step's differences in the inspector; leaving diff mode brings the stepper back", async () => {
  const page = await open(LIGHT, "diff-leave");
  await diffShown(page);
  await page.locator('[data-step="draft"]').click();
  assert.deepEqual((await posted(page)).at(-1), { type: "select", id: "draft" });
  await page.locator(".keel-inspector").getByText("status failed → succeeded").waitFor();
  await page.locator('[data-step="fetch_ticket"]').click();
  await page.locator(".keel-inspector").getByText("The same in both runs.").waitFor();
  await page.setViewportSize({ width: 1200, height: 480 });
  await page.screenshot({ path: join(SHOTS, "graph-diff-light.png") });
  await page.getByRole("button", { name: "Leave diff" }).click();
  await page.waitForSelector(".keel-stepper");
  assert.deepEqual(Object.values(await marks(page)), [null, null, null, null, null, null]);
  assert.equal(await page.locator('[data-step="draft"]').getAttribute("data-status"), "failed");
  // A new diff, left with Escape; its first divergence's button focuses it again.
  await send(page, diff);
  await page.waitForSelector(".keel-diffbar");
  await page.locator('[data-step="draft"]').click();
  await page.getByRole("button", { name: "first divergence: classify" }).click();
  await page.waitForSelector('[data-step="classify"].selected');
  await page.keyboard.press("Escape");
  await page.waitForSelector(".keel-stepper");
  assert.equal(await page.locator(".keel-diffbar").count(), 0);
  await page.close();
});
