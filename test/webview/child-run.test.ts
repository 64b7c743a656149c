// A workflow step in the graph panel: its node's badge is stacked, the inspector names the child
// run it started (the step's own, or an item's) with a button that asks the host to open it, and a
// child run's recording shows a way back to its parent run.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { GraphMessage } from "@keel/core/protocol/webview";
import {
  DARK,
  LIGHT,
  SHOTS,
  atRest,
  closeBrowser,
  open,
  posted,
  send,
  startBrowser,
} from "./panel";

before(startBrowser);
after(closeBrowser);

const graph: GraphMessage = {
  type: "graph",
  uri: "file:///w/triage-all.keel.yaml",
  name: "triage all",
  steps: [
    { id: "tickets", type: "transform", line: 3, conditional: false },
    { id: "one", type: "workflow", line: 6, conditional: false },
    { id: "per_ticket", type: "workflow", line: 10, conditional: false, map: true },
  ],
  edges: [
    { from: "one", to: "tickets" },
    { from: "per_ticket", to: "tickets" },
  ],
  errors: 0,
};

function recording(over: Record<string, unknown> = {}): Record<string, unknown> {
  const events: Record<string, unknown>[] = [];
  const ev = (
    type: string,
    stepId: string | null,
    scope: string | null,
    data: Record<string, unknown> | null = null,
  ) =>
    events.push({
      runId: "01PARENT",
      seq: events.length + 1,
      type,
      stepId,
      scope,
      attempt: type.startsWith("step_") && type !== "step_started" && scope !== null ? 1 : null,
      at: new Date(Date.parse("2026-11-23T10:00:00.000Z") + events.length * 100).toISOString(),
      data,
    });
  ev("run_started", null, null, { inputs: {} });
  ev("step_started", "tickets", null);
  ev("step_succeeded", "tickets", null, { output: '=["t1","t2"]' });
  ev("step_started", "one", null);
  ev("child_started", "one", null, { childRun: "01CHILDONE", uses: "./child.keel.yaml" });
  ev("child_finished", "one", null, { childRun: "01CHILDONE", status: "succeeded" });
  ev("step_succeeded", "one", null, { output: '="one"' });
  ev("step_started", "per_ticket", null);
  ev("expanded", "per_ticket", null, { count: 2, keys: ["t1", "t2"], concurrency: 2 });
  for (const key of ["t1", "t2"]) {
    ev("step_started", "per_ticket", `[${key}]`);
    ev("child_started", "per_ticket", `[${key}]`, { childRun: `01CHILD${key.toUpperCase()}` });
    ev("child_finished", "per_ticket", `[${key}]`, {
      childRun: `01CHILD${key.toUpperCase()}`,
      status: "succeeded",
    });
    ev("step_succeeded", "per_ticket", `[${key}]`, { output: `="${key}"` });
  }
  ev("step_succeeded", "per_ticket", null, { output: '=["t1","t2"]' });
  ev("run_finished", null, null, { status: "succeeded" });
  return {
    type: "recording",
    runId: "01PARENT",
    status: "succeeded",
    startedAt: "2026-11-23T10:00:00.000Z",
    events,
    attempts: [],
    ...over,
  };
}

for (const [theme, name] of [
  [DARK, "dark"],
  [LIGHT, "light"],
] as const) {
  test(`a workflow step names its child run and asks the host to open it (${name})`, async () => {
    const page = await open(theme, `child-${name}`);
    await send(page, graph);
    await page.waitForSelector(".keel-node");
    await send(page, recording());
    await page.waitForSelector(".keel-timeline");
    await atRest(page, '[data-step="one"]');
    assert.equal(
      await page.locator('[data-step="one"] .keel-type.type-workflow').innerText(),
      "FLOW",
    );
    // The step's own child run.
    await page.locator('[data-step="one"]').click();
    const child = page.locator(".keel-inspector .keel-child");
    assert.match(await child.innerText(), /child run\s+01CHILDONE/);
    await child.getByRole("button", { name: "Open child run" }).click();
    assert.deepEqual((await posted(page)).at(-1), { type: "open", runId: "01CHILDONE" });
    await page.screenshot({ path: join(SHOTS, `child-run-${name}.png`) });
    // A map of workflow steps: each item's child run, once the item is chosen.
    await page.locator('[data-step="per_ticket"]').click();
    assert.equal(await page.locator(".keel-inspector .keel-child").count(), 0);
    await page.locator('.keel-unit-list [data-unit="per_ticket[t2]"]').click();
    await page
      .locator(".keel-unit .keel-child")
      .getByRole("button", { name: "Open child run" })
      .click();
    assert.deepEqual((await posted(page)).at(-1), { type: "open", runId: "01CHILDT2" });
    await page.close();
  });
}

test("a child run's recording has a way back to the parent run", async () => {
  const page = await open(DARK, "child-back");
  await send(page, graph);
  await page.waitForSelector(".keel-node");
  await send(page, recording());
  assert.equal(await page.locator(".keel-parent").count(), 0);
  await send(
    page,
    recording({ runId: "01CHILDT2", parentId: "01PARENT", parentScope: "per_ticket[t2]" }),
  );
  const back = page.getByRole("button", { name: "↩ Parent run (per_ticket[t2])" });
  await back.click();
  assert.deepEqual((await posted(page)).at(-1), { type: "open", runId: "01PARENT" });
  await page.close();
});
