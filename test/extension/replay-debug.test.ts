// The replay debugger's extension side (#9), outside VS Code: extension/debug/replay-debug.ts over
// the tests' stand-in for the `vscode` module (vscode-stand-in.ts). The inline adapter answers
// DAP messages through handleMessage/onDidSendMessage as VS Code drives it; F5 without a launch.json resolves to the
// active workflow's latest run; "Keel: Step Through Run…" starts a session on the run given, moves
// a session already on that run, and in Restricted Mode offers the graph panel's step-through.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { runText } from "../core/runner/harness";
import { installVscode } from "./vscode-stand-in";
// A type only: the module itself loads after the vscode stand-in is in place.
import type { ReplayDebugging } from "../../extension/debug/replay-debug";

const vscode = installVscode();

let ws: string;
let path: string;
let runId: string;
let debugging: ReplayDebugging;

before(async () => {
  ws = mkdtempSync(join(tmpdir(), "keel-ext-debug-"));
  mkdirSync(join(ws, ".git"));
  path = resolve(ws, "support-triage.keel.yaml");
  const text = readFileSync("samples/support-triage.keel.yaml", "utf8");
  writeFileSync(path, text);
  const store = openSqliteStore(join(ws, ".keel", "runs.sqlite"));
  runId = (await runText(text, { path, store })).result.runId;
  await store.close();
  const { ReplayDebugging } = await import("../../extension/debug/replay-debug");
  debugging = new ReplayDebugging({} as never);
});

test("the inline adapter answers DAP messages as VS Code sends them: initialize, launch, the entry stop, a step", async () => {
  const session = { id: "s1", type: "keel-replay", workspaceFolder: { uri: { fsPath: ws } } };
  const descriptor = debugging.adapter(session as never) as unknown as {
    implementation: {
      handleMessage(m: unknown): void;
      onDidSendMessage(
        f: (m: { type: string; command?: string; event?: string; body?: never }) => void,
      ): void;
      dispose(): void;
    };
  };
  const adapter = descriptor.implementation;
  const out: { type: string; command?: string; event?: string; body?: Record<string, unknown> }[] =
    [];
  adapter.onDidSendMessage((m) => out.push(m));
  const next = (pred: (m: (typeof out)[number]) => boolean) =>
    new Promise<(typeof out)[number]>((done, fail) => {
      const t0 = Date.now();
      const look = () => {
        const m = out.find(pred);
        if (m) done(m);
        else if (Date.now() - t0 > 5000) fail(new Error("no such message"));
        else setTimeout(look, 5);
      };
      look();
    });
  let seq = 1;
  const send = (command: string, args: unknown) =>
    adapter.handleMessage({ seq: seq++, type: "request", command, arguments: args });
  send("initialize", { adapterID: "keel-replay", pathFormat: "path", linesStartAt1: true });
  const init = await next((m) => m.command === "initialize");
  assert.equal((init.body as { supportsStepBack?: boolean }).supportsStepBack, true);
  send("launch", { runId: "latest", workflow: path });
  await next((m) => m.event === "initialized");
  send("configurationDone", {});
  const entry = await next((m) => m.event === "stopped");
  assert.equal(entry.body?.reason, "entry");
  send("next", { threadId: 1 });
  const position = await next((m) => m.event === "keel/position" && m.body?.seq === 2);
  assert.equal(position.body?.runId, runId);
  send("stackTrace", { threadId: 1 });
  const trace = await next((m) => m.command === "stackTrace");
  const frames = (trace.body as { stackFrames: { name: string; line: number }[] }).stackFrames;
  assert.equal(frames[0]!.name, "classify · started");
  send("disconnect", {});
  await next((m) => m.command === "disconnect");
  adapter.dispose();
});

test("F5 without a launch.json on a workflow resolves to its latest run; elsewhere it says what to do", () => {
  vscode.activeTextEditor = { document: { languageId: "keel", uri: { fsPath: path } } };
  const c = debugging.resolve({ type: "", request: "", name: "" });
  assert.deepEqual(
    { type: c?.type, request: c?.request, runId: c?.runId, workflow: c?.workflow },
    { type: "keel-replay", request: "launch", runId: "latest", workflow: path },
  );
  vscode.activeTextEditor = undefined;
  assert.equal(debugging.resolve({ type: "", request: "", name: "" }), undefined);
  assert.match(vscode.shown.info.at(-1)!, /open a \*\.keel\.yaml workflow/);
});

test("Step Through Run… starts a session on the run given, from the event asked", async () => {
  vscode.started.length = 0;
  await debugging.stepThrough({ run: { id: runId, workflowPath: path }, seq: 4 });
  assert.deepEqual(vscode.started, [
    {
      type: "keel-replay",
      request: "launch",
      name: `Step through run ${runId.slice(-8)} of support-triage.keel.yaml`,
      runId,
      workflow: path,
      seq: 4,
    },
  ]);
});

test("in Restricted Mode it says why and offers the graph panel's step-through instead of a session", async () => {
  vscode.trusted = false;
  vscode.started.length = 0;
  vscode.answer = "Step Through in the Graph";
  await debugging.stepThrough({ run: { id: runId, workflowPath: path } });
  assert.match(vscode.shown.info.at(-1)!, /Restricted Mode/);
  assert.match(vscode.shown.info.at(-1)!, /executes nothing/);
  assert.deepEqual(vscode.commands.at(-1), ["keel.run.showInGraph", path, runId]);
  assert.deepEqual(vscode.started, []);
  vscode.answer = "Open the Debugger…";
  await debugging.stepThrough({ run: { id: runId, workflowPath: path } });
  assert.equal(vscode.started.length, 1, "VS Code's own trust prompt comes next");
  vscode.trusted = true;
  vscode.answer = undefined;
});

test("the graph panel left when a session steps into a child run (or back out) stops following; the last one at the end", async () => {
  const { ReplayDebugging } = await import("../../extension/debug/replay-debug");
  const told: { workflow: string; runId: string; active: boolean }[] = [];
  const panels = new ReplayDebugging({} as never, async (uri, message) => {
    if (message.type === "debug")
      told.push({ workflow: uri.fsPath, runId: message.runId, active: message.active });
  });
  const session = { id: "s-child", type: "keel-replay" };
  const stop = (workflow: string, run: string, index: number) => {
    for (const l of vscode.listeners.custom)
      l({
        session,
        event: "keel/position",
        body: { runId: run, workflow, index, seq: index + 1, stepId: "x", reason: "step" },
      });
  };
  // Paths that do not exist: no editor is opened for the first stop.
  const parent = join(ws, "missing-parent.keel.yaml");
  const child = join(ws, "missing-child.keel.yaml");
  for (const l of vscode.listeners.start) l(session);
  stop(parent, "run-p", 1);
  stop(child, "run-c", 0); // Step Into the child run
  stop(child, "run-c", 1);
  stop(parent, "run-p", 5); // back out
  for (const l of vscode.listeners.end) l(session);
  await new Promise((r) => setImmediate(r));
  panels.dispose();
  assert.deepEqual(
    told.map((t) => `${t.workflow === parent ? "parent" : "child"} ${t.runId} ${t.active}`),
    [
      "parent run-p true",
      "parent run-p false",
      "child run-c true",
      "child run-c true",
      "child run-c false",
      "parent run-p true",
      "parent run-p false",
    ],
  );
});
