// An agent step in the graph panel: its node counts turns and tool calls (and their cost, when a
// provider says), and expanded it hangs one lane per turn under the node, the turn's model call
// then a chip per tool call (name, status, latency; a refused call says so), at the
// step-through's position and in a live run; a chip or a turn opens that unit in the inspector
// (its resolved input, output or error). The recording is a real run of a scripted agent
// (agent-run.ts), its values answered from its store.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import type { GraphMessage } from "@keel/core/protocol/webview";
import { liveStatus } from "../../extension/runs/live-status";
import { startProviderServer } from "../helpers/provider-server";
import { agentGraph, agentRun, pricedAgentRun, UNITS, type AgentRun } from "./agent-run";
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

let run: AgentRun;
let graph: GraphMessage;

before(async () => {
  await startBrowser();
  run = await agentRun();
  graph = agentGraph();
});
after(closeBrowser);

const NODE = '[data-step="research"]';

/** Answers the panel's requests for values (the host reads them from the run's store). */
const answerValues = (page: Page, refs: readonly string[]) =>
  answerWith(page, refs, (ref) => run.store.blob(ref));

/** The lanes as shown: per turn, each button's unit, status and whether it says "refused". */
const lanes = (page: Page) =>
  page.$$eval(`${NODE} .keel-agent-lane`, (rows) =>
    rows.map((row) =>
      [...row.querySelectorAll("button")].map(
        (b) =>
          `${b.getAttribute("data-unit")} ${b.getAttribute("data-status")}${b.classList.contains("refused") ? " refused" : ""}`,
      ),
    ),
  );

const attemptOf = (scope: string) => {
  const attempts = (run.recording as { attempts: { scope: string | null }[] }).attempts;
  return attempts.find((a) => a.scope === scope) as unknown as {
    inputHash: string;
    outputHash: string;
  };
};

const indexOf = (type: string, scope: string) =>
  run.events.findIndex((e) => e.type === type && e.stepId === "research" && e.scope === scope);

for (const [theme, name] of [
  [DARK, "dark"],
  [LIGHT, "light"],
] as const) {
  test(`an agent's node counts its turns and tool calls; expanded, a lane per turn with a chip per call that opens it in the inspector (${name})`, async () => {
    const page = await open(theme, `agent-${name}`);
    await send(page, graph);
    await page.waitForSelector(".keel-node");
    assert.equal(await page.locator(`${NODE} .keel-type`).textContent(), "AGENT");
    await send(page, run.recording);
    const summary = page.locator(`${NODE} .keel-agent-summary`);
    await summary.waitFor();
    // A scripted provider's turns cost nothing: no cost part.
    assert.equal(await summary.textContent(), "4 turns · 6 tool calls");
    assert.equal(await summary.getAttribute("title"), "research · 4 turns · 6 tool calls");
    assert.equal(
      await page.locator("#keel-label-research").textContent(),
      "research, agent step, succeeded, 4 turns, 6 tool calls",
    );
    // Collapsed until the toggle is pressed; the node itself is not grown by its lanes.
    assert.equal(await page.locator(`${NODE} .keel-agent-lanes`).count(), 0);
    await atRest(page, NODE);
    const box = await page.locator(NODE).boundingBox();
    const toggle = page.locator(`${NODE} .keel-expand`);
    assert.equal(await toggle.getAttribute("aria-expanded"), "false");
    await toggle.click();
    await page.locator(`${NODE} .keel-agent-lanes`).waitFor();
    assert.equal(await toggle.getAttribute("aria-expanded"), "true");
    assert.deepEqual(await page.locator(NODE).boundingBox(), box);
    // Toggling selects nothing: the inspector is for what a cell or chip opens.
    assert.equal(
      (await posted(page)).some((m) => m.type === "select"),
      false,
    );
    assert.deepEqual(await lanes(page), [
      [
        "research#1 succeeded",
        "research#1/search.0 succeeded",
        "research#1/search.1 failed refused",
      ],
      [
        "research#2 succeeded",
        "research#2/fetch_page.0 succeeded",
        "research#2/lookup.1 failed refused",
      ],
      [
        "research#3 succeeded",
        "research#3/search.0 succeeded",
        "research#3/fetch_page.1 succeeded",
      ],
      ["research#4 succeeded"],
    ]);
    assert.deepEqual(
      (await lanes(page)).flat().map((s) => s.split(" ")[0]),
      UNITS,
    );
    // The lanes hang over the node drawn under the agent's, and are on top of it (the agent
    // not even selected): what is at a chip's middle is that chip.
    const notes = (await page.locator('[data-step="notes"]').boundingBox())!;
    const hung = (await page.locator(`${NODE} .keel-agent-lanes`).boundingBox())!;
    assert.ok(hung.y + hung.height > notes.y && hung.y < notes.y + notes.height);
    const over = page.locator(`${NODE} .keel-chip[data-unit="research#3/search.0"]`);
    const c = (await over.boundingBox())!;
    assert.ok(c.x + c.width / 2 < notes.x + notes.width && c.y + c.height / 2 > notes.y);
    assert.equal(
      await page.evaluate(
        ([x, y]) => document.elementFromPoint(x!, y!)?.closest("button")?.getAttribute("data-unit"),
        [c.x + c.width / 2, c.y + c.height / 2],
      ),
      "research#3/search.0",
    );
    // A chip: the tool's name, its mark, its latency; a refused one says so instead.
    const chip = page.locator(`${NODE} .keel-chip[data-unit="research#1/search.0"]`);
    assert.match(await chip.innerText(), /^search\s*✓\s*\d+ ms$/);
    const refused = page.locator(`${NODE} .keel-chip[data-unit="research#1/search.1"]`);
    assert.match(await refused.innerText(), /^search\s*✗\s*refused$/);
    assert.equal(
      await refused.getAttribute("aria-label"),
      "call search.1 of turn 1: refused (invalid arguments)",
    );

    // The step-through: at turn 2's start, two lanes, turn 2 running and no call yet.
    const range = page.locator('input[type="range"]');
    await range.fill(String(indexOf("step_started", "#2")));
    await page.waitForSelector(`${NODE} .keel-turn[data-status="running"]`);
    assert.deepEqual(await lanes(page), [
      [
        "research#1 succeeded",
        "research#1/search.0 succeeded",
        "research#1/search.1 failed refused",
      ],
      ["research#2 running"],
    ]);
    assert.equal(await summary.textContent(), "2 turns · 2 tool calls");
    await range.fill(String(run.events.length - 1));
    await page.waitForFunction(
      (sel) => document.querySelectorAll(sel).length === 4,
      `${NODE} .keel-agent-lane`,
    );
    await atRest(page, NODE);

    // A chip opens its call: the step selected, the call under the inspector's list.
    await chip.click();
    assert.deepEqual(
      (await posted(page)).find((m) => m.type === "select"),
      { type: "select", id: "research" },
    );
    const unit = page.locator(".keel-inspector .keel-unit");
    await unit.locator("h3", { hasText: "research#1/search.0" }).waitFor();
    assert.equal(await chip.getAttribute("aria-pressed"), "true");
    assert.equal(
      await page
        .locator('.keel-unit-list [data-unit="research#1/search.0"]')
        .getAttribute("aria-selected"),
      "true",
    );
    assert.equal(await page.locator(".keel-units h3").textContent(), "Turns and tool calls (10)");
    assert.match(await unit.locator(".keel-attempt").innerText(), /attempt 1: succeeded/);
    const call = attemptOf("#1/search.0");
    await answerValues(page, [call.inputHash]);
    const input = unit.locator(".keel-value", { hasText: "Resolved input" });
    const output = unit.locator(".keel-value", { hasText: "Output" });
    await input.locator("pre", { hasText: '"query": "keel"' }).waitFor();
    // A small output is inline in its reference: no request.
    await output.locator("pre", { hasText: '"doc-keel"' }).waitFor();
    await page.screenshot({ path: join(SHOTS, `agent-call-${name}.png`) });

    // A refused call: its error, and what the model sent, read from its turn's output.
    await refused.click();
    await unit.locator("h3", { hasText: "research#1/search.1" }).waitFor();
    assert.equal(
      await unit.locator(".keel-error").innerText(),
      "invalid_arguments: the arguments of search do not fit its parameters: at /query must be string",
    );
    assert.equal(await unit.locator(".keel-attempt").count(), 0);
    await answerValues(page, [attemptOf("#1").outputHash]);
    const sent = unit.locator(".keel-sent pre");
    await sent.filter({ hasText: '"arguments"' }).waitFor();
    assert.deepEqual(JSON.parse(await sent.innerText()), {
      name: "search",
      arguments: '{"query":3}',
    });

    // A turn: its model call's input is the conversation so far and the tools offered.
    await page.locator(`${NODE} .keel-turn[data-unit="research#2"]`).click();
    await unit.locator("h3", { hasText: "research#2" }).waitFor();
    await answerValues(page, [attemptOf("#2").inputHash, attemptOf("#2").outputHash]);
    await input.locator("pre", { hasText: '"tools"' }).waitFor();
    const request = JSON.parse(await input.locator("pre").innerText()) as {
      messages: { role: string }[];
      tools: { name: string }[];
    };
    assert.deepEqual(
      request.messages.map((m) => m.role),
      ["user", "assistant", "tool", "tool"],
    );
    assert.deepEqual(
      request.tools.map((t) => t.name),
      ["search", "fetch_page"],
    );
    await output.locator("pre", { hasText: '"fetch_page"' }).waitFor();

    // The node with its lanes out.
    const node = (await page.locator(NODE).boundingBox())!;
    const drawer = (await page.locator(`${NODE} .keel-agent-lanes`).boundingBox())!;
    const x = Math.min(node.x, drawer.x) - 8;
    const y = node.y - 8;
    await page.screenshot({
      path: join(SHOTS, `agent-node-${name}.png`),
      clip: {
        x,
        y,
        width: Math.max(node.x + node.width, drawer.x + drawer.width) + 8 - x,
        height: drawer.y + drawer.height + 8 - y,
      },
    });
    // Collapsed again.
    await toggle.click();
    await page.locator(`${NODE} .keel-agent-lanes`).waitFor({ state: "detached" });
    await page.close();
  });
}

test("a live run's status gives an agent's node its turns and calls so far, expanded as they come", async () => {
  const page = await open(DARK, "agent-live");
  await send(page, graph);
  await page.waitForSelector(".keel-node");
  const ids = graph.steps.map((s) => s.id);
  const agents = new Set(["research"]);
  // The moment turn 3's first call started: its turn succeeded, the call running.
  const upTo = indexOf("step_started", "#3/search.0");
  await send(page, liveStatus("01LIVE", run.events.slice(0, upTo + 1), ids, new Map(), agents));
  const summary = page.locator(`${NODE} .keel-agent-summary`);
  await summary.waitFor();
  assert.equal(await summary.textContent(), "3 turns · 5 tool calls");
  await atRest(page, NODE);
  await page.locator(`${NODE} .keel-expand`).click();
  await page.locator(`${NODE} .keel-chip[data-status="running"]`).waitFor();
  assert.deepEqual((await lanes(page)).at(-1), [
    "research#3 succeeded",
    "research#3/search.0 running",
  ]);
  // The rest of the run: the lanes stay out and take the new turn.
  await send(page, liveStatus("01LIVE", run.events, ids, new Map(), agents));
  await page.waitForFunction(
    (sel) => document.querySelectorAll(sel).length === 4,
    `${NODE} .keel-agent-lane`,
  );
  assert.equal(await summary.textContent(), "4 turns · 6 tool calls");
  // A chip of a live run selects the step (the inspector lists units of a recorded run only).
  await page.locator(`${NODE} .keel-turn[data-unit="research#4"]`).click();
  assert.deepEqual((await posted(page)).at(-1), { type: "select", id: "research" });
  await page.close();
});

test("a priced model's turns add their cost to the node, which still fits, and to each turn", async (t) => {
  const server = await startProviderServer();
  t.after(() => server.close());
  const priced = await pricedAgentRun(server);
  const page = await open(DARK, "agent-priced");
  await send(page, graph);
  await page.waitForSelector(".keel-node");
  await send(page, priced.recording);
  const summary = page.locator(`${NODE} .keel-agent-summary`);
  await summary.waitFor();
  // The cost on the state line, the counts under it (all three do not fit one line); the whole
  // summary is the counts' title.
  assert.equal(await summary.textContent(), "4 turns · 6 tool calls");
  assert.equal(await page.locator(`${NODE} .keel-state`).textContent(), "succeeded · $0.018");
  assert.equal(await summary.getAttribute("title"), "research · 4 turns · 6 tool calls · $0.018");
  // Neither is cut short by the node's width.
  for (const line of [summary, page.locator(`${NODE} .keel-state`)])
    assert.ok(
      await line.evaluate((e) => {
        const box = e as unknown as { scrollWidth: number; clientWidth: number };
        return box.scrollWidth <= box.clientWidth;
      }),
    );
  assert.equal(
    await page.locator("#keel-label-research").textContent(),
    "research, agent step, succeeded, 4 turns, 6 tool calls, $0.018",
  );
  await atRest(page, NODE);
  await page.locator(`${NODE} .keel-expand`).click();
  const turn = page.locator(`${NODE} .keel-turn[data-unit="research#1"]`);
  assert.match(await turn.innerText(), /^#1\s*✓\s*\d+ ms · \$0\.0045$/);
  await page.screenshot({ path: join(SHOTS, "agent-priced-dark.png") });
  await page.close();
});
