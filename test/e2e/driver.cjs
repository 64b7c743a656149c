// The editor end-to-end test's browser side: drives a real VS Code workbench (code-server, started
// by test/e2e/run.sh with the packed Keel extension installed) in Debian's chromium through
// playwright-core. It waits on DOM states, never on fixed sleeps.
//
// usage: node driver.cjs   (everything comes from the environment, set by run.sh)
//   KEEL_E2E_URL       the workbench URL (with ?folder=<workspace>)
//   KEEL_E2E_EXPECTED  `keel validate --json` output for the broken file: the expected diagnostics
//   KEEL_E2E_BROKEN    the broken file's path in the workspace
//   KEEL_E2E_SHOTS     where the screenshots go; KEEL_E2E_FAILSHOT: the screenshot on failure
//   KEEL_E2E_PROVIDER_PORT  where the counting model server of provider.keel.yaml listens
//   PW_CORE            path to playwright-core; CHROMIUM (default /usr/bin/chromium)
/* global document, getComputedStyle */
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { chromium } = require(process.env.PW_CORE || "playwright-core");
const { checkDebugger } = require("./debug.cjs");
const { checkMap } = require("./map.cjs");

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run test/e2e/run.sh, not this file)`);
  return v;
};
const url = env("KEEL_E2E_URL");
const shots = env("KEEL_E2E_SHOTS");
const brokenPath = env("KEEL_E2E_BROKEN");
const failShot = process.env.KEEL_E2E_FAILSHOT || path.join(os.tmpdir(), "keel-e2e-fail.png");
const brokenName = path.basename(brokenPath);
const cleanName = "support-triage.keel.yaml";
const provider = startProvider(Number(env("KEEL_E2E_PROVIDER_PORT")));
const brokenLines = fs.readFileSync(brokenPath, "utf8").split("\n");
const expected = JSON.parse(fs.readFileSync(env("KEEL_E2E_EXPECTED"), "utf8")).map((d) => ({
  code: d.code,
  message: d.message,
  line: d.range.start.line + 1,
  col: d.range.start.character + 1,
  // the text the squiggle must cover (single-line ranges only)
  text: brokenLines[d.range.start.line].slice(d.range.start.character, d.range.end.character),
}));
if (expected.length === 0)
  throw new Error("the expected list is empty: the fixture has no errors?");

const t0 = Date.now();
const log = (m) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);
const assertions = [];
function check(cond, what) {
  if (!cond) throw new Error("assertion failed: " + what);
  assertions.push(what);
  log("ok: " + what);
}

/** The step ids of a workflow file, in file order (the keys under `steps:`). */
/** Polls `cond` until it holds; throws after `ms`. */
async function waitFor(cond, ms) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${cond}`);
    await require("node:timers/promises").setTimeout(100);
  }
}

/**
 * The model server of provider.keel.yaml: answers OpenAI chat completions on 127.0.0.1 and counts
 * them, so the test knows what ran live and that a replay called nothing.
 */
function startProvider(port) {
  const http = require("node:http");
  const state = { calls: 0, server: undefined };
  state.server = http
    .createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        if (req.method !== "POST" || !req.url.endsWith("/chat/completions")) {
          res.writeHead(404).end();
          return;
        }
        state.calls++;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            id: `chatcmpl-e2e-${state.calls}`,
            object: "chat.completion",
            created: Math.floor(Date.now() / 1000),
            model: "e2e-model-served",
            system_fingerprint: "fp_e2e",
            choices: [
              { index: 0, message: { role: "assistant", content: "hello" }, finish_reason: "stop" },
            ],
            usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
          }),
        );
      });
    })
    .listen(port, "127.0.0.1");
  return state;
}

/** Hovers the first on-screen occurrence of `text` in the active editor; waits for a hover holding `expect`. */
async function hoverText(page, text, expect) {
  const token = page
    .locator(".editor-group-container.active .monaco-editor .view-line span span", {
      hasText: text.replace(/:$/, ""),
    })
    .first();
  await token.waitFor({ timeout: 15000 });
  await token.hover();
  await page
    .locator(".monaco-hover:not(.hidden)", { hasText: expect })
    .first()
    .waitFor({ timeout: 15000 });
}

function stepIdsOf(file) {
  const ids = [];
  let inSteps = false;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (/^steps:/.test(line)) inSteps = true;
    else if (/^\S/.test(line)) inSteps = false;
    else if (inSteps && /^ {2}[A-Za-z_][\w-]*:/.test(line)) ids.push(line.trim().slice(0, -1));
  }
  return ids;
}

/** The one-based line of a step's key. */
function stepLine(file, id) {
  return (
    fs
      .readFileSync(file, "utf8")
      .split("\n")
      .findIndex((l) => l === `  ${id}:`) + 1
  );
}

const ROW = ".markers-panel .monaco-list-row";
const LIGHT_THEME = "Light 2026"; // this VS Code's default light theme
const PALETTE_INPUT = ".quick-input-widget .quick-input-filter input.input";

/**
 * Runs a command from the command palette: clicks the row with that label (the first row is not
 * always the one: ">Preferences: Color Theme" lists "Browse Color Themes in Marketplace" first).
 * With keepOpen, the quick input stays for the command's own picker.
 */
async function palette(page, command, keepOpen = false) {
  await page.keyboard.press("F1");
  const input = page.locator(PALETTE_INPUT);
  // generous: on a loaded machine the workbench can take seconds to answer a key
  await input.waitFor({ state: "visible", timeout: 30000 });
  await input.fill(">" + command);
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: command }).first();
  // On a loaded machine the palette can filter the text it had while its command list was still
  // loading, and keep that stale list (seen once: five other "Workspaces:" rows). Typing again
  // makes it filter anew.
  for (let tries = 0; ; tries++) {
    try {
      await row.waitFor({ timeout: tries < 2 ? 6000 : 15000 });
      break;
    } catch (e) {
      if (tries >= 2) throw e;
      await input.press("End");
      await input.press("Backspace");
      await input.type(command.slice(-1));
    }
  }
  await row.click();
  if (!keepOpen) await input.waitFor({ state: "hidden", timeout: 15000 });
}

async function openFromExplorer(page, file, mustContain) {
  await palette(page, "View: Show Explorer");
  const row = page.locator(".explorer-folders-view .monaco-list-row", { hasText: file }).first();
  await row.waitFor({ timeout: 30000 });
  await row.click();
  await page.locator(".tabs-container .tab.active", { hasText: file }).waitFor({ timeout: 20000 });
  await page
    .locator(".editor-group-container.active .monaco-editor .view-lines", { hasText: mustContain })
    .first()
    .waitFor({ timeout: 20000 });
  await palette(page, "View: Focus Active Editor Group");
}

/** Closes the graph panel's tab (a middle click: once the panel has the focus, keys go to it). */
async function closeGraph(page) {
  await page
    .locator(".tabs-container .tab", { hasText: "Graph:" })
    .first()
    .click({ button: "middle" });
  await page.locator("iframe.webview.ready").waitFor({ state: "detached", timeout: 15000 });
  await palette(page, "View: Focus Active Editor Group");
}

async function showProblems(page) {
  await palette(page, "View: Focus Problems");
  await page.locator(".markers-panel").waitFor({ state: "visible", timeout: 15000 });
}

async function closePanel(page) {
  if (!(await page.locator(".part.panel").isVisible())) return;
  await palette(page, "View: Toggle Panel Visibility");
  await page.locator(".part.panel").waitFor({ state: "hidden", timeout: 15000 });
}

/** The marker rows (not the file rows) of the Problems panel, as their text. */
async function markerRows(page) {
  const texts = await page.locator(ROW).allInnerTexts();
  return texts.map((t) => t.replace(/\s+/g, " ").trim()).filter((t) => /KEEL\d{3}/.test(t));
}

/** For each squiggle in the active editor: its kind and the characters it lies under. */
function squiggleTexts() {
  const editor = document.querySelector(".editor-group-container.active .monaco-editor");
  const lines = [...editor.querySelectorAll(".view-lines .view-line")];
  const out = [];
  for (const sq of editor.querySelectorAll(
    ".view-overlays [class*='squiggly-error'], .view-overlays [class*='squiggly-warning']",
  )) {
    const r = sq.getBoundingClientRect();
    const midY = r.top + r.height / 2;
    const line = lines.find((l) => {
      const lr = l.getBoundingClientRect();
      return lr.top <= midY && midY < lr.bottom;
    });
    let text = "";
    if (line) {
      const walker = document.createTreeWalker(line, 4 /* NodeFilter.SHOW_TEXT */);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        for (let i = 0; i < n.data.length; i++) {
          const range = document.createRange();
          range.setStart(n, i);
          range.setEnd(n, i + 1);
          const c = range.getBoundingClientRect();
          const mid = c.left + c.width / 2;
          if (mid >= r.left && mid <= r.right) text += n.data[i];
        }
      }
    }
    out.push({
      kind: /error/.test(sq.className) ? "error" : "warning",
      text: text.replace(/\u00a0/g, " "),
      line: line ? line.textContent.replace(/\u00a0/g, " ") : null,
    });
  }
  return out;
}

/** Every character of every rendered line in the active editor, with its colour. */
function lineColours() {
  const editor = document.querySelector(".editor-group-container.active .monaco-editor");
  const lines = [...editor.querySelectorAll(".view-lines .view-line")];
  lines.sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top);
  return lines.map((l) => {
    const chars = [];
    for (const span of l.querySelectorAll("span > span")) {
      const color = getComputedStyle(span).color;
      for (const ch of span.textContent.replace(/\u00a0/g, " ")) chars.push({ ch, color });
    }
    return chars;
  });
}

/**
 * Checks the ${{ }} highlighting of the broken file: inside each template the colours differ from
 * the string around it, and right after `}}` the string's colour is back (no bleeding).
 */
async function checkHighlighting(page, theme) {
  const lines = await page.evaluate(lineColours);
  let templates = 0;
  for (const chars of lines) {
    const text = chars.map((c) => c.ch).join("");
    for (let start = text.indexOf("${{"); start >= 0; start = text.indexOf("${{", start + 3)) {
      // the matching `}}`: skip nested braces of the expression
      let depth = 0;
      let end = -1;
      for (let i = start + 3; i < text.length; i++) {
        if (text.startsWith("}}", i) && depth === 0) {
          end = i;
          break;
        }
        if (text[i] === "{") depth++;
        if (text[i] === "}") depth--;
      }
      if (end < 0 || start === 0) continue;
      const before = chars[start - 1].color;
      const inside = new Set(chars.slice(start, end + 2).map((c) => c.color));
      if (text.trimStart().startsWith("#")) {
        // the injection leaves comments alone
        check(
          inside.size === 1 && inside.has(before),
          `${theme}: \${{ }} in a comment keeps the comment colour ${before}`,
        );
        continue;
      }
      templates++;
      let next = end + 2;
      while (next < chars.length && chars[next].ch === " ") next++;
      const after = chars[next];
      const snippet = text.slice(start, end + 2);
      const detail = chars
        .slice(Math.max(0, start - 4), Math.min(chars.length, end + 6))
        .reduce((acc, c) => {
          const last = acc[acc.length - 1];
          if (last && last.color === c.color) last.text += c.ch;
          else acc.push({ text: c.ch, color: c.color });
          return acc;
        }, [])
        .map((s) => `${JSON.stringify(s.text)}=${s.color}`)
        .join(" ");
      log(`${theme} colours around ${snippet}: ${detail}`);
      check(
        [...inside].some((c) => c !== before),
        `${theme}: ${snippet} is coloured differently from the text before it (${before})`,
      );
      if (after && after.ch.trim() !== "") {
        check(
          after.color === before,
          `${theme}: after ${snippet} the text ${JSON.stringify(after.ch)} is back to the string colour ${before} (got ${after.color})`,
        );
      }
    }
  }
  check(templates >= 4, `${theme}: found ${templates} \${{ }} templates on screen to check`);
}

async function checkBrokenFile(page, theme) {
  // squiggles: one per expected diagnostic, under exactly the characters of its range
  await page.waitForFunction(
    (n) =>
      document.querySelectorAll(
        ".editor-group-container.active .monaco-editor .view-overlays [class*='squiggly-error']",
      ).length >= n,
    expected.length,
    { timeout: 30000 },
  );
  const squiggles = await page.evaluate(squiggleTexts);
  log(
    `${theme} squiggles: ${squiggles.map((s) => `${s.kind} under ${JSON.stringify(s.text)}`).join(", ")}`,
  );
  check(
    squiggles.length === expected.length,
    `${theme}: ${expected.length} squiggles in the editor (got ${squiggles.length})`,
  );
  for (const d of expected) {
    check(
      squiggles.some((s) => s.kind === "error" && s.text === d.text),
      `${theme}: an error squiggle lies under exactly ${JSON.stringify(d.text)} (${d.code}, line ${d.line})`,
    );
  }
  await checkHighlighting(page, theme);
}

async function checkProblems(page, theme) {
  // wait until the Problems panel lists exactly the expected diagnostics
  await page.waitForFunction(
    ({ sel, n }) =>
      [...document.querySelectorAll(sel)].filter((r) => /KEEL\d{3}/.test(r.textContent)).length ===
      n,
    { sel: ROW, n: expected.length },
    { timeout: 30000 },
  );
  const rows = await markerRows(page);
  for (const r of rows) log(`${theme} problem row: ${r}`);
  check(
    rows.length === expected.length,
    `${theme}: Problems lists ${expected.length} Keel problems`,
  );
  for (const d of expected) {
    const row = rows.find((r) => r.includes(d.code));
    check(
      row !== undefined &&
        row.includes(d.message) &&
        new RegExp(`\\bkeel\\W*${d.code}\\b`).test(row) &&
        row.includes(`[Ln ${d.line}, Col ${d.col}]`),
      `${theme}: Problems row "${d.message}" keel ${d.code} [Ln ${d.line}, Col ${d.col}]`,
    );
  }
  const fileRow = page.locator(ROW, { hasText: brokenName }).first();
  check(
    (await fileRow.innerText()).includes(String(expected.length)),
    `${theme}: the file row ${brokenName} shows the count ${expected.length}`,
  );
}

/** Focuses the active editor and presses a key there (Control+Home: top of the file). */
async function inEditor(page, key) {
  await palette(page, "View: Focus Active Editor Group");
  await page.keyboard.press(key);
}

/**
 * In one theme: the Problems panel; then, with the panel closed and the cursor on line 1 so that
 * the whole file is on screen, the squiggles, the highlighting and the editor's screenshot; then
 * the Problems panel's screenshot, with the editor scrolled to the end of the file.
 */
async function checkTheme(page, theme) {
  await showProblems(page);
  await checkProblems(page, theme);
  await inEditor(page, "Control+Home");
  await closePanel(page);
  await page
    .locator(".editor-group-container.active .view-line", { hasText: brokenLines[0].trim() })
    .first()
    .waitFor({ timeout: 15000 });
  await checkBrokenFile(page, theme);
  await page.locator(".part.editor").screenshot({ path: path.join(shots, `editor-${theme}.png`) });
  await showProblems(page);
  await inEditor(page, "Control+End");
  for (const d of expected) {
    await page
      .locator(".editor-group-container.active .view-line", {
        hasText: brokenLines[d.line - 1].trim(),
      })
      .first()
      .waitFor({ timeout: 15000 });
  }
  await page.screenshot({ path: path.join(shots, `problems-${theme}.png`) });
  log(`screenshots editor-${theme}.png, problems-${theme}.png`);
}

(async () => {
  fs.mkdirSync(shots, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "keel-e2e-chromium-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      // only loopback names resolve: nothing leaves the machine
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE *.localhost, EXCLUDE 127.0.0.1",
    ],
  });
  const page = ctx.pages()[0] || (await ctx.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource"))
      errors.push("console: " + m.text());
  });
  let ok = true;
  try {
    log("goto " + url);
    await page.goto(url, { waitUntil: "domcontentloaded" });
    await page.locator(".monaco-workbench .part.statusbar").waitFor({ timeout: 60000 });
    await page.locator(".monaco-workbench .part.activitybar").waitFor({ timeout: 60000 });
    await page.waitForFunction(
      () => document.querySelector(".monaco-workbench").classList.contains("vs-dark"),
      null,
      { timeout: 30000 },
    );
    check(true, "the workbench is in the dark theme Dark 2026");
    log("workbench ready");

    // 0. the workspace opens untrusted (Restricted Mode): validation works, a workflow with
    //    shell steps is refused with the reason; then the user trusts the folder
    await openFromExplorer(page, "deploy-check.keel.yaml", "checkout-api");
    await palette(page, "Keel: Run Workflow");
    const refusal = page
      .locator(".notifications-toasts .notification-toast", {
        hasText: "This workspace is not trusted",
      })
      .first();
    await refusal.waitFor({ timeout: 30000 });
    const refusalText = await refusal.innerText();
    check(
      /toolchain/.test(refusalText) && /shell|reach outside/.test(refusalText),
      `in an untrusted workspace "Keel: Run Workflow" on deploy-check.keel.yaml is refused: ${refusalText.split("\n")[0]}`,
    );
    check(
      !fs.existsSync(path.join(path.dirname(brokenPath), ".keel", "runs.sqlite")),
      "nothing ran: no run store was created",
    );
    await palette(page, "Notifications: Clear All Notifications");
    await palette(page, "Workspaces: Manage Workspace Trust");
    await page
      .locator(".workspace-trust-editor .monaco-button", { hasText: /^Trust/ })
      .first()
      .click();
    await page
      .locator(".workspace-trust-editor", { hasText: "You trust this folder" })
      .first()
      .waitFor({ timeout: 15000 });
    check(true, "the folder is trusted from the Workspace Trust editor");
    await palette(page, "View: Close Editor");
    await page.locator(".workspace-trust-editor").waitFor({ state: "detached", timeout: 15000 });

    // 1. the broken file: diagnostics in the Problems panel, squiggles, highlighting
    await openFromExplorer(page, brokenName, "clasify");
    const mode = page.locator('.statusbar-item[id="status.editor.mode"]');
    await mode.filter({ hasText: "Keel workflow" }).waitFor({ timeout: 20000 });
    check(true, `the language mode of ${brokenName} is "Keel workflow"`);
    await checkTheme(page, "dark");

    // 2. a clean sample: the server validates it (a typed error shows up, and goes on revert),
    //    and as saved it has no Keel problem
    await openFromExplorer(page, cleanName, "Support ticket triage");
    await showProblems(page);
    await palette(page, "View: Focus Active Editor Group");
    await page.keyboard.press("Control+Home");
    // "nme: x " before the first comment: KEEL101 unknown key 'nme' (did you mean 'name'?)
    await page.keyboard.type("nme: x ");
    await page.keyboard.press("Escape"); // a suggestion list, if one opened
    const cleanRow = page.locator(ROW, { hasText: cleanName });
    await cleanRow.first().waitFor({ timeout: 30000 });
    await page.locator(ROW, { hasText: "unknown key 'nme'" }).first().waitFor({ timeout: 30000 });
    check(true, `an error typed into ${cleanName} shows up in Problems (the server validates it)`);
    await palette(page, "File: Revert File");
    await page
      .locator(".tabs-container .tab.active.dirty", { hasText: cleanName })
      .waitFor({ state: "detached", timeout: 15000 });
    await cleanRow.first().waitFor({ state: "detached", timeout: 30000 });
    await page.waitForFunction(
      () =>
        document.querySelectorAll(
          ".editor-group-container.active .monaco-editor .view-overlays [class*='squiggly-']",
        ).length === 0,
      null,
      { timeout: 30000 },
    );
    check(true, `${cleanName} as saved: no Keel problem in Problems and no squiggle`);
    check(
      (await markerRows(page)).length === expected.length,
      `Problems still lists only the ${expected.length} problems of ${brokenName}`,
    );

    // 2b. the graph panel of the clean sample: every step drawn, a click puts the cursor on it
    await palette(page, "Keel: Open Graph");
    const panel = page.frameLocator("iframe.webview.ready").frameLocator("#active-frame");
    const sampleSteps = stepIdsOf(path.join(__dirname, "..", "..", "samples", cleanName));
    await panel.locator(".keel-node").first().waitFor({ timeout: 30000 });
    const drawn = await panel
      .locator(".keel-node")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-step")).sort());
    check(
      JSON.stringify(drawn) === JSON.stringify([...sampleSteps].sort()),
      `the graph panel draws the ${sampleSteps.length} steps of ${cleanName} (${drawn.join(", ")})`,
    );
    // the refined layout comes from the layout worker, which must start under VS Code's webview
    // CSP (from a blob, its script fetched from the extension's files)
    await panel.locator('.keel-graph[data-layout="refined"]').waitFor({ timeout: 30000 });
    check(true, "the layout worker ran inside VS Code: the graph is drawn at its refined layout");
    const target = sampleSteps[sampleSteps.length - 1];
    await panel.locator(`[data-step="${target}"]`).click();
    const targetLine = stepLine(path.join(__dirname, "..", "..", "samples", cleanName), target);
    // The cursor's line number is drawn as the active one whether the focus ends in the editor or
    // stays in the panel (which of the two wins the click's focus is a race in the workbench; the
    // status bar shows "Ln" only for the first).
    await page
      .locator(".editor-group-container .monaco-editor .line-numbers.active-line-number", {
        hasText: new RegExp(`^${targetLine}$`),
      })
      .first()
      .waitFor({ timeout: 15000 });
    check(true, `clicking the node '${target}' puts the editor's cursor on its line ${targetLine}`);
    // run the workflow from the palette: the run is a child process; the graph shows each
    // step's end state and the server's code lenses the last run's status
    await palette(page, "Keel: Run Workflow");
    await panel
      .locator('.keel-node[data-step="ticket_update"][data-status="succeeded"]')
      .waitFor({ timeout: 60000 });
    const ended = await panel
      .locator(".keel-node")
      .evaluateAll((els) =>
        Object.fromEntries(
          els.map((e) => [e.getAttribute("data-step"), e.getAttribute("data-status")]),
        ),
      );
    check(
      Object.values(ended).every((st) => st === "succeeded" || st === "skipped") &&
        ended.classify === "succeeded",
      `after "Keel: Run Workflow" the graph shows the run's end: ${JSON.stringify(ended)}`,
    );
    await page
      .locator(".editor-group-container .contentWidgets .codelens-decoration", {
        hasText: "Last run:",
      })
      .first()
      .waitFor({ timeout: 30000 });
    check(true, "the steps' code lenses show the last run's status");
    await page.screenshot({ path: path.join(shots, "graph-vscode-dark.png") });
    log("screenshot graph-vscode-dark.png: the run's end in the graph beside the workflow");
    await palette(page, "Keel: Focus on Runs View");
    const runRow = page.locator(".pane-body .monaco-list-row", { hasText: "succeeded ·" }).first();
    await runRow.waitFor({ timeout: 30000 });
    await page
      .locator(".pane-body .monaco-list-row", { hasText: "support-triage.keel.yaml" })
      .first()
      .waitFor({ timeout: 15000 });
    check(true, "the Runs view lists the run under its workflow, succeeded");
    await page
      .locator(".part.sidebar")
      .screenshot({ path: path.join(shots, "runs-view-dark.png") });
    // replay the run from the Runs view: the record answers every effect, nothing runs
    await runRow.hover();
    await runRow.locator('.action-label[aria-label="Replay Run"]').click();
    const toast = (text) =>
      page.locator(".notifications-toasts .notification-toast", { hasText: text }).first();
    await toast("reproduces it exactly (0 effects executed)").waitFor({ timeout: 30000 });
    check(true, "Replay Run in the Runs view reproduces the run with 0 effects executed");
    await palette(page, "Notifications: Clear All Notifications");

    // the replay debugger on the recorded run (debug.cjs)
    await checkDebugger(page, {
      palette,
      check,
      log,
      shots,
      sample: cleanName,
      stepLine: (id) => stepLine(path.join(__dirname, "..", "..", "samples", cleanName), id),
    });

    // step backwards through the recorded run in the graph panel
    await runRow.hover();
    await runRow.locator('.action-label[aria-label="Show in Graph"]').click();
    const position = panel.locator(`input[aria-label="Position in the run's log"]`);
    await position.waitFor({ timeout: 30000 });
    const last = Number(await position.getAttribute("max"));
    check(
      Number(await position.inputValue()) === last,
      `Show in Graph opens the recording at its end (event ${last + 1})`,
    );
    const lastStep = panel.locator('.keel-node[data-step="ticket_update"]');
    check(
      (await lastStep.getAttribute("data-status")) === "succeeded",
      "at the end of the recording the last step shows succeeded",
    );
    await panel.locator('button[aria-label="Back one event"]').click();
    await panel.locator('button[aria-label="Back one event"]').click();
    await panel
      .locator(`.keel-position`, { hasText: `${last - 1}/${last + 1}` })
      .waitFor({ timeout: 15000 });
    await panel
      .locator('.keel-node[data-step="ticket_update"]:not([data-status="succeeded"])')
      .waitFor({ timeout: 15000 });
    check(
      true,
      `two steps back (event ${last - 1} of ${last + 1}): ticket_update is ${await lastStep.getAttribute("data-status")}, no longer succeeded`,
    );
    await panel.locator('button[aria-label="To the start"]').click();
    await panel.locator(`.keel-position`, { hasText: `0/${last + 1}` }).waitFor({ timeout: 15000 });
    const atStart = await panel
      .locator(".keel-node")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-status")));
    check(
      atStart.every((st) => st === "pending"),
      `back at the start of the recording every step is pending (${[...new Set(atStart)].join(", ")})`,
    );

    // a model call on the counting server: hover, the Run step lens, a run, and a replay that
    // calls nothing
    await openFromExplorer(page, "provider.keel.yaml", "e2e-model");
    await hoverText(page, "ask:", "llm");
    check(true, "hovering the step id 'ask' shows its type and what depends on it");
    // the "Run step" lens of `ask`, the first step: the topmost one once the file is at its top
    await page.locator(".editor-group-container.active .monaco-editor .view-lines").click();
    await page.keyboard.press("Control+Home");
    const lenses = page.locator(
      ".editor-group-container.active .contentWidgets .codelens-decoration a",
      {
        hasText: "Run step",
      },
    );
    await lenses.first().waitFor({ timeout: 15000 });
    const tops = await lenses.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().top));
    await lenses.nth(tops.indexOf(Math.min(...tops))).click();
    await page
      .locator(".editor-group-container.active .contentWidgets .codelens-decoration", {
        hasText: /Last run:.*succeeded/,
      })
      .first()
      .waitFor({ timeout: 60000 });
    check(
      provider.calls === 1,
      `the "Run step" lens ran 'ask' (${provider.calls} call to the model server) and the lens shows its status`,
    );
    await palette(page, "Keel: Run Workflow");
    await page
      .locator(".editor-group-container.active .contentWidgets .codelens-decoration", {
        hasText: /Last run:.*succeeded/,
      })
      .nth(1)
      .waitFor({ timeout: 60000 });
    await waitFor(() => provider.calls === 2, 30000);
    check(true, "Keel: Run Workflow called the model server once more (2 calls)");
    await palette(page, "Keel: Focus on Runs View");
    const workflowRow = page
      .locator(".pane-body .monaco-list-row", { hasText: "provider.keel.yaml" })
      .first();
    await workflowRow.waitFor({ timeout: 30000 });
    const index = Number(await workflowRow.getAttribute("data-index"));
    // the run under it: the next row of the same list
    const providerRun = workflowRow.locator(
      `xpath=../div[contains(@class, "monaco-list-row") and @data-index="${index + 1}"]`,
    );
    await providerRun.hover();
    await providerRun.locator('.action-label[aria-label="Replay Run"]').click();
    await toast("reproduces it exactly (0 effects executed)").waitFor({ timeout: 30000 });
    check(
      provider.calls === 2,
      `replaying the run called the model server ${provider.calls - 2} times (still ${provider.calls} calls)`,
    );
    await palette(page, "Notifications: Clear All Notifications");

    // a long run, cancelled from its progress notification: the run records the cancel
    await openFromExplorer(page, "slow.keel.yaml", "sleep");
    await palette(page, "Keel: Run Workflow");
    const running = toast("Keel: running slow.keel.yaml");
    await running.waitFor({ timeout: 30000 });
    await running.locator(".monaco-button", { hasText: "Cancel" }).click();
    await toast("the run of slow.keel.yaml cancelled").waitFor({ timeout: 30000 });
    check(true, "a long run is cancelled from its progress notification, and says so");
    await palette(page, "Notifications: Clear All Notifications");

    // a team's run (run.sh: team-db.ts): the Runs view reads the PostgreSQL store named by
    // keel.runs.postgresUrl; opening the run pulls it and shows it in the graph panel
    const teamRun = process.env.KEEL_E2E_TEAM_RUN;
    if (teamRun) {
      await palette(page, "Keel: Focus on Runs View");
      const teamGroup = page
        .locator(".pane-body .monaco-list-row", { hasText: "Team runs" })
        .first();
      await teamGroup.waitFor({ timeout: 30000 });
      if ((await teamGroup.getAttribute("aria-expanded")) !== "true") await teamGroup.click();
      // its workflow is the next row of the same list, and the run the one after
      const teamIndex = Number(await teamGroup.getAttribute("data-index"));
      const teamRow = (n) =>
        teamGroup.locator(
          `xpath=../div[contains(@class, "monaco-list-row") and @data-index="${teamIndex + n}"]`,
        );
      await teamRow(1).filter({ hasText: "support-triage.keel.yaml" }).waitFor({ timeout: 30000 });
      const teamRunRow = teamRow(2).filter({ hasText: "succeeded ·" });
      await teamRunRow.waitFor({ timeout: 30000 });
      check(true, "the Runs view lists the team's run under Team runs, by workflow, succeeded");
      await page
        .locator(".part.sidebar")
        .screenshot({ path: path.join(shots, "team-runs-dark.png") });
      log("screenshot team-runs-dark.png: the team's run in the Runs view");
      await teamRunRow.click();
      // the run's id is the title of its label (hidden in a panel this narrow)
      await panel
        .locator(`.keel-run[title="${teamRun}"]`)
        .waitFor({ state: "attached", timeout: 60000 });
      const teamPosition = panel.locator(`input[aria-label="Position in the run's log"]`);
      const teamLast = Number(await teamPosition.getAttribute("max"));
      check(
        Number(await teamPosition.inputValue()) === teamLast,
        `opening the team's run pulls it and shows it in the graph panel at its end (run ${teamRun.slice(-8)}, event ${teamLast + 1})`,
      );
      await panel.locator('button[aria-label="Back one event"]').click();
      await panel
        .locator(`.keel-position`, { hasText: `${teamLast}/${teamLast + 1}` })
        .waitFor({ timeout: 15000 });
      check(true, "the pulled team's run steps back in the graph panel");
    } else log("no team database (PostgreSQL missing outside CI): Team runs not checked");
    await palette(page, "View: Show Explorer");
    // the panel is in the second editor group: close it, keep the editors of the first
    // a middle click on its tab closes it: once the panel has the focus, keys go to the webview
    await closeGraph(page);

    // a map and a loop (map.cjs): samples/digest.keel.yaml run from the editor, one item opened
    const mapHelpers = { palette, check, log, shots, openFromExplorer, closePanel };
    await checkMap(page, { ...mapHelpers, theme: "dark", run: true });
    await closeGraph(page);

    // 3. the light theme, picked with "Preferences: Color Theme" as a user would (rewriting
    //    settings.json while code-server runs was not picked up)
    await palette(page, "Preferences: Color Theme", true);
    // the same quick input now lists the themes
    await page
      .locator(".quick-input-list .monaco-list-row", { hasText: "Dark 2026" })
      .first()
      .waitFor({ state: "visible", timeout: 15000 });
    log("the colour theme picker is open");
    const input = page.locator(PALETTE_INPUT);
    await input.fill(LIGHT_THEME);
    const themeRow = page.locator(".quick-input-list .monaco-list-row", { hasText: LIGHT_THEME });
    await themeRow.first().click();
    await input.waitFor({ state: "hidden", timeout: 15000 });
    await page.waitForFunction(
      () => document.querySelector(".monaco-workbench").classList.contains("vs"),
      null,
      { timeout: 30000 },
    );
    check(true, `the workbench switched to the light theme ${LIGHT_THEME}`);
    await page.locator(".tabs-container .tab", { hasText: brokenName }).first().click();
    await page
      .locator(".editor-group-container.active .monaco-editor .view-lines", { hasText: "clasify" })
      .first()
      .waitFor({ timeout: 20000 });
    await checkTheme(page, "light");
    await checkMap(page, { ...mapHelpers, theme: "light", run: false });
  } catch (e) {
    ok = false;
    // the first lines of a Playwright error name the locator it waited for
    console.error("E2E FAILED: " + e.message.split("\n").slice(0, 4).join("\n  "));
    await page.screenshot({ path: failShot }).catch(() => {});
    console.error("screenshot of the failure: " + failShot);
  }
  if (errors.length) log("page errors (first 10):\n  " + errors.slice(0, 10).join("\n  "));
  await ctx.close();
  provider.server.close();
  fs.rmSync(profile, { recursive: true, force: true });
  log(ok ? `E2E PASS: ${assertions.length} assertions` : "E2E FAIL");
  process.exit(ok ? 0 : 1);
})().catch((e) => {
  console.error("E2E FAILED: " + e.message);
  process.exit(1);
});
