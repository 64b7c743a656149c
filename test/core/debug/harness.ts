// Driving the replay debugger as a DAP client sees it: `@vscode/debugadapter-testsupport`'s
// DebugClient against the session in this process (over a socket, as VS Code's inline adapter is
// reached) or against `keel dap` over stdio.
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DebugClient } from "@vscode/debugadapter-testsupport";
import type { DebugProtocol } from "@vscode/debugprotocol";
import { ReplayDebugSession, type ReplayHost } from "@keel/core/debug/session";
import type { EventRecord } from "@keel/core/record/records";
import { MemoryStore } from "@keel/core/store/memory-store";
import type { RunStore } from "@keel/core/store/run-store";
import { runText } from "../runner/harness";

export interface Adapter {
  readonly dc: DebugClient;
  close(): Promise<void>;
}

/** A store the session may close without closing it for the test. */
export function borrowed(store: RunStore): RunStore {
  return new Proxy(store, {
    get: (target, key) =>
      key === "close" ? async () => undefined : (Reflect.get(target, key) as unknown),
  });
}

/** The host of an in-process session: one store, files read from disk (or from `files`). */
export function hostOf(store: RunStore, files?: Map<string, string>): ReplayHost {
  return {
    openStore: () => borrowed(store),
    readText: (path) => {
      if (files) return files.get(path);
      try {
        return readFileSync(path, "utf8");
      } catch {
        return undefined;
      }
    },
  };
}

/** A session in this process, reached over a local socket. */
export async function inProcess(host: ReplayHost): Promise<Adapter> {
  const server: Server = createServer((socket) => {
    // Without it each small DAP message waits for a delayed ACK (~40 ms a request).
    socket.setNoDelay(true);
    const session = new ReplayDebugSession(host);
    session.setRunAsServer(true);
    session.start(socket, socket);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const dc = new DebugClient("node", "unused", "keel-replay");
  await dc.start((server.address() as AddressInfo).port);
  (dc as unknown as { _socket?: { setNoDelay(on: boolean): void } })._socket?.setNoDelay(true);
  return {
    dc,
    close: async () => {
      await dc.stop().catch(() => undefined);
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** `keel dap` in a child process, over stdio (DebugClient spawns `runtime executable`). */
export async function overStdio(cwd: string): Promise<Adapter> {
  const dc = new DebugClient(join(process.cwd(), "bin/keel.js"), "dap", "keel-replay", { cwd });
  await dc.start();
  return { dc, close: () => dc.stop().catch(() => undefined) };
}

export interface Config {
  readonly breakpoints?: DebugProtocol.SetBreakpointsArguments[];
  readonly functions?: string[];
  readonly filters?: string[];
}

/** initialize → launch → configuration → the entry stop. */
export async function launch(
  dc: DebugClient,
  args: Record<string, unknown>,
  config: Config = {},
): Promise<{
  capabilities: DebugProtocol.Capabilities;
  stopped: DebugProtocol.StoppedEvent;
  breakpoints: DebugProtocol.Breakpoint[][];
  functions: DebugProtocol.Breakpoint[];
}> {
  const init = await dc.initializeRequest({
    adapterID: "keel-replay",
    pathFormat: "path",
    linesStartAt1: true,
    columnsStartAt1: true,
    supportsVariablePaging: true,
  });
  const breakpoints: DebugProtocol.Breakpoint[][] = [];
  let functions: DebugProtocol.Breakpoint[] = [];
  const [stopped] = await Promise.all([
    dc.waitForEvent("stopped") as Promise<DebugProtocol.StoppedEvent>,
    dc.waitForEvent("initialized").then(async () => {
      for (const b of config.breakpoints ?? [])
        breakpoints.push((await dc.setBreakpointsRequest(b)).body.breakpoints);
      if (config.functions)
        functions = (
          await dc.setFunctionBreakpointsRequest({
            breakpoints: config.functions.map((name) => ({ name })),
          })
        ).body.breakpoints;
      await dc.setExceptionBreakpointsRequest({ filters: config.filters ?? [] });
      await dc.configurationDoneRequest();
    }),
    dc.launchRequest(args as DebugProtocol.LaunchRequestArguments),
  ]);
  return { capabilities: init.body ?? {}, stopped, breakpoints, functions };
}

/** Sessions one at a time, in this process: `open` launches one (ending the one before). */
export class Sessions {
  private adapter: Adapter | undefined;

  async open(store: RunStore, args: Record<string, unknown>, config: Config = {}) {
    await this.adapter?.close();
    this.adapter = await inProcess(hostOf(store));
    return { dc: this.adapter.dc, ...(await launch(this.adapter.dc, args, config)) };
  }

  async close(): Promise<void> {
    await this.adapter?.close();
  }
}

export interface Recorded {
  readonly store: MemoryStore;
  readonly runId: string;
  /** The workflow file, in a temp folder with the `files` beside it. */
  readonly path: string;
  readonly events: EventRecord[];
}

/** A run of `flow` recorded in a memory store, child workflows in `files`; it must succeed. */
export async function recordRun(flow: string, files: Record<string, string>): Promise<Recorded> {
  const store = new MemoryStore();
  const run = await runText(flow, { store, files });
  assert.equal(run.result.status, "succeeded", run.result.error ?? "");
  const runId = run.result.runId;
  return { store, runId, path: run.loaded.path, events: await store.events(runId) };
}

type Mover = (a: { threadId: number }) => Promise<unknown>;

/** Sends a move and waits for the stop it causes. */
export async function moveBy(
  dc: DebugClient,
  move: "next" | "stepIn" | "stepOut" | "stepBack" | "continue" | "reverseContinue",
): Promise<DebugProtocol.StoppedEvent> {
  const request: Record<typeof move, Mover> = {
    next: (a) => dc.nextRequest(a),
    stepIn: (a) => dc.stepInRequest(a),
    stepOut: (a) => dc.stepOutRequest(a),
    stepBack: (a) => dc.stepBackRequest(a),
    continue: (a) => dc.continueRequest(a),
    reverseContinue: (a) => dc.reverseContinueRequest(a),
  };
  const [stopped] = await Promise.all([
    dc.waitForEvent("stopped") as Promise<DebugProtocol.StoppedEvent>,
    request[move]({ threadId: 1 }),
  ]);
  return stopped;
}

/** Waits for the stop a request causes (goto, restartFrame, the graph panel's keel/goto). */
export async function stopAfter(
  dc: DebugClient,
  request: () => Promise<unknown>,
): Promise<DebugProtocol.StoppedEvent> {
  const [stopped] = await Promise.all([
    dc.waitForEvent("stopped") as Promise<DebugProtocol.StoppedEvent>,
    request(),
  ]);
  return stopped;
}

export async function frames(dc: DebugClient): Promise<DebugProtocol.StackFrame[]> {
  return (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
}

export async function variables(
  dc: DebugClient,
  ref: number,
  page: { filter?: "indexed" | "named"; start?: number; count?: number } = {},
): Promise<DebugProtocol.Variable[]> {
  return (await dc.variablesRequest({ variablesReference: ref, ...page })).body.variables;
}

/** The scopes of a frame by name (`Step <id>`, `Run`). */
export async function scopes(
  dc: DebugClient,
  frameId: number,
): Promise<Map<string, DebugProtocol.Scope>> {
  const s = (await dc.scopesRequest({ frameId })).body.scopes;
  return new Map(s.map((x) => [x.name.startsWith("Step") ? "Step" : x.name, x]));
}

/** A container's variables by name. */
export async function named(
  dc: DebugClient,
  ref: number,
): Promise<Map<string, DebugProtocol.Variable>> {
  return new Map((await variables(dc, ref)).map((v) => [v.name, v]));
}
