// The replay debugger's benchmark, measuring side (bundled and run with plain node by
// debug.bench.ts): a run recorded by the runner into a SQLite store (a chain of 5,000 transform
// and scripted llm steps: 10,002 events), debugged by a DAP client (`DebugClient`) over a local
// socket, the session in this process as VS Code's inline adapter is. Printed, as medians:
// - to `run started`: connect, initialize, launch, configurationDone, until the `stopped` event;
// - the first stop's view (stackTrace + scopes + variables of `run started`), and the first move
//   onto a step, which parses the workflow for the steps' places and dependencies (once a session);
// - one move: a request (next, stepBack, continue) + its `stopped` + stackTrace + scopes + the
//   Step scope's variables. Target (#9): one move ≤ 5 ms, `run started` ≤ 300 ms.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DebugClient } from "@vscode/debugadapter-testsupport";
import type { DebugProtocol } from "@vscode/debugprotocol";
import { loadWorkflow } from "@keel/core/runner/load";
import { runWorkflow } from "@keel/core/runner/run";
import { createNodeEffects } from "@keel/core/runner/node-effects";
import { mixedChain } from "../replay/chain";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { ReplayDebugSession } from "@keel/core/debug/session";
import { nodeReplayHost } from "@keel/core/debug/node-host";

const dir = mkdtempSync(join(tmpdir(), "keel-bench-debug-"));
const STEPS = Number(process.argv[2] ?? 5_000);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!;

async function record(): Promise<{ path: string; store: string; runId: string }> {
  mkdtempSync(join(dir, ".git"));
  const path = join(dir, `chain-${STEPS}.keel.yaml`);
  writeFileSync(path, mixedChain(STEPS));
  const r = loadWorkflow(path);
  if (!r.ok) throw new Error("invalid bench workflow");
  const file = join(dir, "runs.sqlite");
  const store = openSqliteStore(file);
  const result = await runWorkflow({
    workflowPath: r.loaded.path,
    source: r.loaded.source,
    workflow: r.loaded.workflow,
    graph: r.loaded.graph,
    inputs: {},
    store,
    effects: createNodeEffects({ providers: r.loaded.workflow.providers ?? {}, dir }),
  });
  if (result.status !== "succeeded") throw new Error(result.error ?? "run failed");
  await store.close();
  return { path, store: file, runId: result.runId };
}

async function main() {
  const rec = await record();
  const host = nodeReplayHost();
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    const session = new ReplayDebugSession(host);
    session.setRunAsServer(true);
    session.start(socket, socket);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;

  async function connect(): Promise<{ dc: DebugClient; entryMs: number }> {
    const t = performance.now();
    const dc = new DebugClient("node", "unused", "keel-replay");
    await dc.start(port);
    (dc as unknown as { _socket: { setNoDelay(b: boolean): void } })._socket.setNoDelay(true);
    await dc.initializeRequest({
      adapterID: "keel-replay",
      pathFormat: "path",
      linesStartAt1: true,
    });
    await Promise.all([
      dc.waitForEvent("stopped"),
      dc.waitForEvent("initialized").then(async () => {
        await dc.setExceptionBreakpointsRequest({ filters: [] });
        await dc.configurationDoneRequest();
      }),
      dc.launchRequest({
        runId: rec.runId,
        store: rec.store,
      } as DebugProtocol.LaunchRequestArguments),
    ]);
    return { dc, entryMs: performance.now() - t };
  }

  /** The view a client asks for at a stop: the stack, the top frame's scopes, the Step scope. */
  async function view(dc: DebugClient): Promise<number> {
    const frames = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
    const scopes = (await dc.scopesRequest({ frameId: frames[0]!.id })).body.scopes;
    const vars = await dc.variablesRequest({ variablesReference: scopes[0]!.variablesReference });
    return vars.body.variables.length;
  }

  async function move(dc: DebugClient, send: () => Promise<unknown>): Promise<number> {
    const t = performance.now();
    await Promise.all([dc.waitForEvent("stopped"), send()]);
    await view(dc);
    return performance.now() - t;
  }

  const entries: number[] = [];
  let firstViewMs = 0;
  const cold = await connect();
  entries.push(cold.entryMs);
  let t = performance.now();
  await view(cold.dc);
  firstViewMs = performance.now() - t;
  const firstStepMs = await move(cold.dc, () => cold.dc.nextRequest({ threadId: 1 }));
  await cold.dc.stop();
  for (let i = 0; i < 10; i++) {
    const s = await connect();
    entries.push(s.entryMs);
    await s.dc.stop();
  }

  const { dc } = await connect();
  await view(dc);
  const thread = { threadId: 1 };
  const next: number[] = [];
  const back: number[] = [];
  for (let i = 0; i < 200; i++) await move(dc, () => dc.nextRequest(thread)); // warm-up
  for (let i = 0; i < 1_000; i++) next.push(await move(dc, () => dc.nextRequest(thread)));
  for (let i = 0; i < 1_000; i++) back.push(await move(dc, () => dc.stepBackRequest(thread)));
  // Continue to the end and Reverse Continue to the start: the whole log scanned for breakpoints.
  await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: `s${STEPS - 1}` }] });
  const cont: number[] = [];
  for (let i = 0; i < 5; i++) {
    cont.push(await move(dc, () => dc.reverseContinueRequest(thread)));
    cont.push(await move(dc, () => dc.continueRequest(thread)));
  }
  t = performance.now();
  await dc.evaluateRequest({ expression: `steps.s${STEPS - 1}.output`, context: "watch" });
  const evalMs = performance.now() - t;
  await dc.stop();
  server.close();

  const events = 2 * STEPS + 2;
  console.log(
    `replay debugger (#9): a recorded chain of ${STEPS.toLocaleString("en")} steps (${events.toLocaleString("en")} events), SQLite store, DebugClient over a local socket; Node ${process.version}, ${new Date().toISOString()}\n`,
  );
  console.log("| what | median | p95 | target |");
  console.log("| --- | ---: | ---: | ---: |");
  const row = (what: string, xs: number[], target: string) =>
    console.log(`| ${what} | ${median(xs).toFixed(2)} ms | ${p95(xs).toFixed(2)} ms | ${target} |`);
  console.log(
    `| to \`run started\`, first session of the process | ${cold.entryMs.toFixed(1)} ms | | ≤ 300 ms |`,
  );
  row("to `run started`, next 10 sessions", entries.slice(1), "≤ 300 ms");
  console.log(`| the first stop's view (\`run started\`) | ${firstViewMs.toFixed(1)} ms | | |`);
  console.log(
    `| the first move onto a step (parses the ${STEPS.toLocaleString("en")}-step workflow, once a session) | ${firstStepMs.toFixed(1)} ms | | |`,
  );
  row("one move: Step Over + stopped + stackTrace + scopes + variables", next, "≤ 5 ms");
  row("one move: Step Back + the same", back, "≤ 5 ms");
  row("Continue / Reverse Continue across the whole log + the same", cont, "");
  console.log(`| evaluate \`steps.s${STEPS - 1}.output\` | ${evalMs.toFixed(1)} ms | | |`);
}

void main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
