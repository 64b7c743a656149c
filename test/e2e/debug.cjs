// The replay debugger in the real VS Code (#9), driven through the DOM by driver.cjs once the
// support-triage sample has a recorded run and its graph panel is open: a breakpoint set inside a
// step shows on the step's line; "Keel: Step Through Run…" shows Step Back and Reverse Continue in
// the debug toolbar; Continue stops at the breakpoint with the step named in the Call Stack; Step
// Back twice and Reverse Continue land where they should; Variables show the output and the served
// model; the graph panel's selected node follows every move. Screenshot: debugger-dark.png.
/* global document */
"use strict";
const path = require("node:path");

const TOOLBAR = ".debug-toolbar";
const FRAME = ".debug-call-stack .monaco-list-row .stack-frame";
const VARIABLE = ".debug-variables .monaco-list-row";

/**
 * The one-based lines of the active editor that show a breakpoint glyph (verified or not), found
 * by matching each glyph's top with the line numbers' tops.
 */
function breakpointLines() {
  const editor = document.querySelector(".editor-group-container.active .monaco-editor");
  if (!editor) return [];
  // The editor's own line numbers (not the sticky scroll's), each with its vertical extent.
  const numbers = [...editor.querySelectorAll(".margin-view-overlays .line-numbers")].map((n) => {
    const r = n.getBoundingClientRect();
    return { top: r.top, bottom: r.bottom, line: Number(n.textContent.trim()) };
  });
  const out = [];
  for (const g of editor.querySelectorAll("[class*='codicon-debug-breakpoint']")) {
    const r = g.getBoundingClientRect();
    const mid = (r.top + r.bottom) / 2;
    const n = numbers.find((x) => x.top <= mid && mid < x.bottom);
    if (n) out.push({ line: n.line, verified: !/unverified/.test(g.className) });
  }
  return out;
}

/**
 * @param {import("playwright-core").Page} page
 * @param {{ palette: Function, check: Function, log: Function, shots: string, sample: string,
 *           stepLine: (id: string) => number }} h
 */
async function checkDebugger(page, h) {
  const { palette, check, log } = h;
  const graph = page.frameLocator("iframe.webview.ready").frameLocator("#active-frame");
  const selected = (id) => graph.locator(`.keel-node.selected[data-step="${id}"]`);
  const top = () => page.locator(FRAME).first();
  const topIs = async (text) => {
    await page.locator(FRAME, { hasText: text }).first().waitFor({ timeout: 20000 });
    const name = (await top().innerText()).replace(/\s+/g, " ");
    check(name.includes(text), `the Call Stack's top frame is "${text}" (${name})`);
  };
  const click = async (codicon) => {
    const button = page.locator(`${TOOLBAR} .action-label.codicon-${codicon}`);
    await button.waitFor({ timeout: 15000 });
    await button.click();
  };

  /** Puts the active editor's cursor on a line (and the line on screen). */
  const goToLine = async (line) => {
    await palette(page, "Go to Line/Column...", true);
    await page.keyboard.type(String(line));
    await page.keyboard.press("Enter");
    await page.locator(".quick-input-widget").waitFor({ state: "hidden", timeout: 15000 });
  };
  // A breakpoint on a line inside the step draft_reply (its `type:` line), with F9.
  const key = h.stepLine("draft_reply");
  const inside = key + 1;
  await page.locator(".tabs-container .tab", { hasText: h.sample }).first().click();
  await goToLine(inside);
  await page.keyboard.press("F9");
  for (let i = 0; i < 50; i++) {
    if ((await page.evaluate(breakpointLines)).some((b) => b.line === inside)) break;
    await page.waitForTimeout(200);
  }
  log(`breakpoints before the session: ${JSON.stringify(await page.evaluate(breakpointLines))}`);
  // "Keel: Step Through Run…": the picker lists the recorded runs, newest first.
  await palette(page, "Keel: Step Through Run", true);
  const run = page.locator(".quick-input-list .monaco-list-row", {
    hasText: "Support ticket triage",
  });
  await run.first().waitFor({ timeout: 20000 });
  await run.first().click();
  await page.locator(TOOLBAR).waitFor({ timeout: 30000 });
  for (const c of [
    "debug-step-back",
    "debug-reverse-continue",
    "debug-continue",
    "debug-step-over",
  ])
    await page.locator(`${TOOLBAR} .action-label.codicon-${c}`).waitFor({ timeout: 15000 });
  check(true, "the debug toolbar shows Step Back and Reverse Continue");
  await palette(page, "View: Show Run and Debug");
  await topIs("run started");

  // The breakpoint moved to the step's key line once the adapter verified it (the entry stop
  // shows the workflow in the active editor; the debug toolbar covers its tab).
  await goToLine(key);
  await page.waitForFunction(
    (line) => {
      const editor = document.querySelector(".editor-group-container.active .monaco-editor");
      return [...(editor?.querySelectorAll(".margin-view-overlays .line-numbers") ?? [])].some(
        (n) => Number(n.textContent.trim()) === line,
      );
    },
    key,
    { timeout: 15000 },
  );
  let marks = [];
  for (let i = 0; i < 50; i++) {
    marks = await page.evaluate(breakpointLines);
    if (marks.some((b) => b.line === key && b.verified)) break;
    await page.waitForTimeout(200);
  }
  check(
    marks.some((b) => b.line === key && b.verified) && !marks.some((b) => b.line === inside),
    `the breakpoint set on line ${inside} shows on the step's line ${key} (${JSON.stringify(marks)})`,
  );

  // Continue: the breakpoint's step, in the Call Stack and selected in the graph.
  await click("debug-continue");
  await topIs("draft_reply · started");
  await selected("draft_reply").waitFor({ timeout: 15000 });
  check(true, "the graph panel selects draft_reply at the breakpoint");
  // Step Back twice: confidence_gate succeeded, then started.
  await click("debug-step-back");
  await topIs("confidence_gate · succeeded");
  await selected("confidence_gate").waitFor({ timeout: 15000 });
  await click("debug-step-back");
  await topIs("confidence_gate · started");
  await selected("confidence_gate").waitFor({ timeout: 15000 });
  check(true, "Step Back twice lands on confidence_gate's start, and the graph follows");
  // Reverse Continue: back to the start of the recording.
  await click("debug-reverse-continue");
  await topIs("run started");
  // Continue, then Step Over to draft_reply's end: its output and the model that served it.
  await click("debug-continue");
  await topIs("draft_reply · started");
  // escalate (a $failure() branch) and draft_reply end in either order in a recording: both
  // run once confidence_gate ended. Step Over goes to whichever comes next in this one.
  await click("debug-step-over");
  await page
    .locator(FRAME, { hasText: /escalate · skipped|draft_reply · succeeded/ })
    .first()
    .waitFor({ timeout: 20000 });
  if ((await top().innerText()).includes("escalate · skipped")) {
    await topIs("escalate · skipped");
    await selected("escalate").waitFor({ timeout: 15000 });
    await click("debug-step-over");
  }
  await topIs("draft_reply · succeeded");
  await selected("draft_reply").waitFor({ timeout: 15000 });
  check(true, "the graph panel's selected node follows each Step Over");
  // Variables refresh after the stop: wait for this step's scope, then find rows by their name.
  await page.locator(VARIABLE, { hasText: "Step draft_reply" }).first().waitFor({ timeout: 15000 });
  const row = (name) =>
    page
      .locator(VARIABLE)
      .filter({ hasText: new RegExp(`^\\s*${name}\\s*[=:]`) })
      .first();
  await row("output").waitFor({ timeout: 15000 });
  const output = (await row("output").innerText()).replace(/\s+/g, " ");
  check(!/= null/.test(output), `Variables show the step's output (${output})`);
  await row("provider").click();
  await row("model").waitFor({ timeout: 15000 });
  const model = (await row("model").innerText()).replace(/\s+/g, " ");
  check(/scripted-support-v1/.test(model), `Variables show the served model (${model})`);
  await page.screenshot({ path: path.join(h.shots, "debugger-dark.png") });
  log("screenshot debugger-dark.png");

  // Continue to the end of the recording (the graph panel shows the run's end again, as before
  // the session), stop, leave no breakpoint behind, and show the Runs view again.
  await click("debug-continue");
  await topIs("run finished (succeeded)");
  // The stop's description shows in the Call Stack's header.
  await page
    .locator(".pane-header", { hasText: "Call Stack" })
    .filter({ hasText: "end of recording" })
    .waitFor({ timeout: 15000 });
  check(true, "past the last breakpoint Continue stays paused at the end of the recording");
  await click("debug-stop");
  await page.locator(TOOLBAR).waitFor({ state: "hidden", timeout: 15000 });
  await palette(page, "Remove All Breakpoints");
  await palette(page, "Keel: Focus on Runs View");
}

module.exports = { checkDebugger, breakpointLines };
