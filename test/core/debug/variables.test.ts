// The replay debugger's Variables: a 10,000-item output pages (no reply bigger than asked), a 1 MB
// prompt shows cut and copies whole, every variable's evaluateName finds its own value through
// evaluate (Add to Watch), the Step scope holds the served model and the attempts, a secret shows
// only as «secret:NAME», and a session over a run with llm, http, tool and shell steps calls
// nothing (#9 "Done when").
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DebugProtocol } from "@vscode/debugprotocol";
import type { DebugClient } from "@vscode/debugadapter-testsupport";
import { MemoryStore } from "@keel/core/store/memory-store";
import { EVALUATE_TIMEOUT_MS } from "@keel/core/debug/session";
import { startProviderServer, type ProviderServer } from "../../helpers/provider-server";
import { runText } from "../runner/harness";
import { startHttpServer, TOOL_MODULE, type CountingHttpServer } from "../replay/servers";
import { frames, hostOf, inProcess, launch, moveBy, named, scopes, type Adapter } from "./harness";

const SECRET = "sk-live-very-secret-4242";
let provider: ProviderServer;
let http: CountingHttpServer;
let dir: string;
let path: string;
let store: MemoryStore;
let runId: string;
let adapter: Adapter | undefined;
const files = { shell: "", tool: "" };

before(async () => {
  provider = await startProviderServer();
  http = await startHttpServer();
  dir = mkdtempSync(join(tmpdir(), "keel-debug-vars-"));
  files.shell = join(dir, "shell.count");
  files.tool = join(dir, "tool.count");
  writeFileSync(files.shell, "");
  writeFileSync(files.tool, "");
  writeFileSync(join(dir, "tool.js"), TOOL_MODULE);
  path = join(dir, "flow.keel.yaml");
  writeFileSync(
    path,
    `keel: 1
name: variables
inputs:
  big: { type: string }
providers:
  oa: { type: openai, model: gpt-test, base_url: "${provider.openaiBaseURL}", api_key: "\${{ secrets.KEY }}" }
  local: { type: scripted, model: local-1, default: ok }
steps:
  many:
    type: transform
    expr: '[1..10000].{"i": $}'
  long:
    type: llm
    provider: local
    prompt: "\${{ inputs.big }}"
  ask:
    type: llm
    provider: oa
    prompt: "Token \${{ secrets.KEY }}: say hi"
  fetch:
    type: http
    url: "${http.url}/ok"
    query: { x: "\${{ steps.ask.output }}" }
  tool:
    type: tool
    uses: ./tool.js#count
    with: { file: "${files.tool}", v: "\${{ steps.fetch.output.body.got }}" }
  sh:
    type: shell
    command: [sh, -c, 'echo x >> "$0"; echo "{}"', "${files.shell}"]
    output: { format: json }
    needs: [tool]
`,
  );
  store = new MemoryStore();
  const run = await runText("", {
    path,
    store,
    secrets: { KEY: SECRET },
    inputs: { big: "x".repeat(1 << 20) },
  });
  assert.equal(run.result.status, "succeeded", run.result.error ?? "");
  runId = run.result.runId;
});
after(async () => {
  await adapter?.close();
  await provider.close();
  await http.close();
});

async function open(): Promise<DebugClient> {
  await adapter?.close();
  adapter = await inProcess(hostOf(store));
  await launch(adapter.dc, { runId, workflow: path }, { filters: [] });
  return adapter.dc;
}

/** Continues to the event that ends `step` (a function breakpoint on the next step is simpler). */
async function toEndOf(dc: DebugClient, step: string): Promise<DebugProtocol.StackFrame> {
  await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: step }] });
  await moveBy(dc, "continue");
  await moveBy(dc, "stepOut");
  const [top] = await frames(dc);
  assert.match(top!.name, new RegExp(`^${step} · succeeded`));
  return top!;
}

async function stepScope(dc: DebugClient, frame: DebugProtocol.StackFrame) {
  return named(dc, (await scopes(dc, frame.id)).get("Step")!.variablesReference);
}

test("a 10,000-item output pages: no variables reply holds more than asked", async () => {
  const dc = await open();
  const top = await toEndOf(dc, "many");
  const output = (await stepScope(dc, top)).get("output")!;
  assert.equal(output.indexedVariables, 10_000);
  assert.equal(output.value, "Array(10000)");
  for (const [start, count] of [
    [0, 100],
    [9_900, 100],
    [5_000, 7],
    [9_995, 100],
  ] as const) {
    const page = await dc.variablesRequest({
      variablesReference: output.variablesReference,
      filter: "indexed",
      start,
      count,
    });
    const vars = page.body.variables;
    assert.ok(vars.length <= count, `${vars.length} ≤ ${count}`);
    assert.equal(vars.length, Math.min(count, 10_000 - start));
    assert.equal(vars[0]!.name, `[${start}]`);
    assert.equal(vars[0]!.evaluateName, `steps.many.output[${start}]`);
  }
  const unasked = await dc.variablesRequest({ variablesReference: output.variablesReference });
  assert.ok(unasked.body.variables.length <= 1_000, "unpaged replies are capped too");
  const item = await dc.evaluateRequest({
    expression: "steps.many.output[9999].i",
    context: "watch",
  });
  assert.equal(item.body.result, "10000");
});

test("a 1 MB prompt shows cut in Variables and copies whole", async () => {
  const dc = await open();
  const top = await toEndOf(dc, "long");
  const input = (await stepScope(dc, top)).get("input")!;
  const fields = await named(dc, input.variablesReference);
  const messages = await named(dc, fields.get("messages")!.variablesReference);
  const first = await named(dc, messages.get("[0]")!.variablesReference);
  const content = first.get("content")!;
  assert.ok(content.value.length < 2_000, `shown in ${content.value.length} characters`);
  assert.match(content.value, /1,048,576 characters/);
  const copied = await dc.evaluateRequest({
    expression: content.evaluateName!,
    context: "clipboard",
    frameId: top.id,
  });
  assert.equal(copied.body.result, "x".repeat(1 << 20));
});

test("the Step scope holds status, output, attempts and the served model; every evaluateName evaluates to its own value", async () => {
  const dc = await open();
  const top = await toEndOf(dc, "ask");
  const step = await stepScope(dc, top);
  assert.equal(step.get("status")!.value, '"succeeded"');
  const provider = await named(dc, step.get("provider")!.variablesReference);
  assert.equal(provider.get("model")!.value, JSON.stringify("gpt-test"));
  const attempts = step.get("attempts")!;
  assert.equal(attempts.indexedVariables, 1);
  // Round trip: each variable's evaluateName gives back the value it shows.
  for (const v of step.values()) {
    const r = await dc.evaluateRequest({
      expression: v.evaluateName!,
      frameId: top.id,
      context: "watch",
    });
    assert.equal(r.body.result, v.value, v.evaluateName);
  }
  const inner = await named(
    dc,
    (await dc.variablesRequest({ variablesReference: attempts.variablesReference })).body
      .variables[0]!.variablesReference,
  );
  for (const v of inner.values()) {
    const r = await dc.evaluateRequest({
      expression: v.evaluateName!,
      frameId: top.id,
      context: "watch",
    });
    assert.equal(r.body.result, v.value, v.evaluateName);
  }
  const run = await named(dc, (await scopes(dc, top.id)).get("Run")!.variablesReference);
  for (const v of run.values()) {
    const r = await dc.evaluateRequest({
      expression: v.evaluateName!,
      frameId: top.id,
      context: "watch",
    });
    assert.equal(r.body.result, v.value, v.evaluateName);
  }
  const bad = dc.evaluateRequest({ expression: "steps.(", context: "repl" });
  await assert.rejects(bad);
});

test("evaluate stops an expression that never ends, and one that recurses without end", async () => {
  const dc = await open();
  const top = await toEndOf(dc, "many");
  const started = Date.now();
  await assert.rejects(
    dc.evaluateRequest({
      expression: "($f := function($x) { $f($x) }; $f(1))",
      frameId: top.id,
      context: "repl",
    }),
    /D1012: Evaluation timeout after 5000 milliseconds/,
  );
  assert.ok(Date.now() - started < EVALUATE_TIMEOUT_MS + 3_000, "stopped at its time limit");
  await assert.rejects(
    dc.evaluateRequest({
      expression: "($f := function($x) { 1 + $f($x) }; $f(1))",
      frameId: top.id,
      context: "repl",
    }),
    /D1011: Stack overflow/,
  );
  // The session still answers.
  const r = await dc.evaluateRequest({ expression: "1 + 1", frameId: top.id, context: "repl" });
  assert.equal(r.body.result, "2");
});

test("a secret shows only as «secret:NAME» anywhere in the session", async () => {
  const dc = await open();
  const seen: string[] = [];
  const walk = async (ref: number, depth: number): Promise<void> => {
    if (depth > 6) return;
    for (const v of (await dc.variablesRequest({ variablesReference: ref, start: 0, count: 50 }))
      .body.variables) {
      seen.push(v.value);
      if (v.variablesReference) await walk(v.variablesReference, depth + 1);
    }
  };
  for (;;) {
    const stop = await moveBy(dc, "next");
    for (const f of await frames(dc)) {
      for (const s of (await dc.scopesRequest({ frameId: f.id })).body.scopes)
        await walk(s.variablesReference, 0);
    }
    if (stop.body.description === "end of recording") break;
  }
  const all = seen.join("\n");
  assert.ok(all.includes("«secret:KEY»"), "the redacted form shows");
  assert.ok(!all.includes(SECRET), "the secret never shows");
  const copied = await dc.evaluateRequest({ expression: "steps.ask.input", context: "clipboard" });
  assert.ok(!copied.body.result.includes(SECRET));
});

test("a whole session over a run with llm, http, tool and shell steps calls nothing", async () => {
  const before = {
    provider: provider.count(),
    http: http.count(),
    shell: readFileSync(files.shell, "utf8"),
    tool: readFileSync(files.tool, "utf8"),
  };
  assert.deepEqual(
    [before.shell.length, before.tool.length],
    [2, 1],
    "the run itself did call them",
  );
  const dc = await open();
  await dc.setExceptionBreakpointsRequest({ filters: ["step-failed", "attempt-failed"] });
  await moveBy(dc, "continue");
  for (let i = 0; i < 40; i++) await moveBy(dc, "stepBack");
  for (let i = 0; i < 40; i++) {
    await moveBy(dc, "stepIn");
    const [top] = await frames(dc);
    for (const s of (await dc.scopesRequest({ frameId: top!.id })).body.scopes)
      await dc.variablesRequest({ variablesReference: s.variablesReference });
  }
  await moveBy(dc, "reverseContinue");
  await dc.evaluateRequest({ expression: "steps.sh.output", context: "repl" });
  assert.deepEqual(
    {
      provider: provider.count(),
      http: http.count(),
      shell: readFileSync(files.shell, "utf8"),
      tool: readFileSync(files.tool, "utf8"),
    },
    before,
  );
});
