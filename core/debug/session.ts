// The replay debugger (docs/debugger.md, #9): a recorded run in any Debug Adapter Protocol client.
// One class serves VS Code inline (the extension hands it to DebugAdapterInlineImplementation) and
// any other client over stdio (`keel dap`). The session answers the protocol's requests; the
// moves are in moves.ts (within one run's log) and nest.ts (into and out of child runs), the
// Call Stack in stack.ts, breakpoint conditions in conditions.ts, where steps are shown in
// places.ts, what Variables and evaluate read in inspect.ts, an agent's turns and tool calls in
// agents.ts. Invariants:
// - Nothing executes: the session reads the run's record through the step-through fold and the
//   store's values, and imports nothing that could call a provider, a server, a tool or a shell.
// - At the end of the recording it stays paused: the user can always step back.
// - Breakpoints are kept by step id, so they hold across edits of the file; lines are mapped on
//   the file as it is on disk, the recorded text answers for steps that are no longer there.
// - Handles (frames, variables) are valid until the next stop.
import {
  DebugSession,
  Handles,
  InitializedEvent,
  OutputEvent,
  Event,
  Scope,
  Thread,
} from "@vscode/debugadapter";
import type { DebugProtocol } from "@vscode/debugprotocol";
import { resolve } from "node:path";
import { splitUnit } from "../record/records";
import type { RunStore } from "../store/run-store";
import { evaluate as evaluateExpression } from "../expr/evaluate";
import { Conditions, conditionError, EVALUATE_TIMEOUT_MS } from "./conditions";
import { expressionScope, toolCallView, turnView, unitView } from "./inspect";
import type { Level } from "./level";
import { Runs } from "./runs";
import { layoutOf } from "./layout";
import { describeEvent, FAILURE_FILTERS, type Stop } from "./moves";
import { Nest } from "./nest";
import { loadRecording } from "./recording";
import { Frames } from "./stack";
import { childrenOf, fieldPath, fullText, ValueCache, variableOf, display } from "./variables";
import type { Container } from "./variables";
import { runView, stepView } from "./views";
import { RUN_THREAD } from "./threads";

export { EVALUATE_TIMEOUT_MS, hitConditionHolds } from "./conditions";

/** The launch configuration of a `keel-replay` session. */
export interface ReplayLaunchArgs {
  /** The run to replay, or "latest" (default): the newest run of `workflow`, else of the store. */
  readonly runId?: string;
  /** The workflow file: where "latest" looks, and where the store is found. */
  readonly workflow?: string;
  /** The run store file; default `.keel/runs.sqlite` of the workspace (docs/cli.md, "keel run"). */
  readonly store?: string;
  /** The event (`seq`) of the first stop; default the first event, `run started`. */
  readonly seq?: number;
}

/** What the session needs from its host: the store, and the workflow file as it is on disk. */
export interface ReplayHost {
  openStore(args: ReplayLaunchArgs): RunStore;
  /** The file's text, undefined when it does not exist. */
  readText(path: string): string | undefined;
}

/** The custom event sent on every stop (the graph panel follows it). */
export const POSITION_EVENT = "keel/position";
/** The custom request that moves the debugger to an event (the graph panel sends it). */
export const GOTO_REQUEST = "keel/goto";

export interface PositionBody {
  readonly runId: string;
  readonly workflow: string;
  /** Index of the event in the log. */
  readonly index: number;
  readonly seq: number;
  readonly stepId: string | null;
  readonly reason: string;
}

/**
 * A function breakpoint on an agent's tool: `research:refund` (that agent's calls of `refund`), or
 * `refund` alone (every agent's that has the tool, declared or called in the record). The agents
 * and tool, or why the name is refused.
 */
function toolBreakpoint(
  root: Level,
  name: string,
): { readonly agents: string[]; readonly tool: string } | string {
  const agents = root.file.recorded().agents;
  const has = (agent: string, tool: string) =>
    (agents.get(agent) ?? []).includes(tool) || root.agents.toolsCalled(agent).has(tool);
  const colon = name.indexOf(":");
  if (colon < 0) {
    const having = [...agents.keys()].filter((a) => has(a, name));
    return having.length > 0
      ? { agents: having, tool: name }
      : `no step '${name}' in this run, nor a tool of an agent step: a function breakpoint takes a step id, or an agent's tool as agent:tool`;
  }
  const agent = name.slice(0, colon).trim();
  const tool = name.slice(colon + 1).trim();
  if (!agents.has(agent))
    return `'${agent}' is not an agent step of this run: agent:tool names a tool of an agent step`;
  if (!has(agent, tool))
    return `agent '${agent}' has no tool '${tool}' (its tools: ${agents.get(agent)!.join(", ") || "none"})`;
  return { agents: [agent], tool };
}

/** Jump to Cursor's target ids: event index + 1 in the root run, plus this for each later run. */
const TARGETS_PER_RUN = 2 ** 32;

type Handle =
  | Container
  | { readonly scope: "step"; readonly level: Level; readonly id: string }
  | { readonly scope: "unit"; readonly level: Level; readonly unit: string }
  | { readonly scope: "turn" | "call"; readonly level: Level; readonly unit: string }
  | { readonly scope: "run"; readonly level: Level };

interface Loaded {
  /** The run the session was started on. */
  readonly root: Level;
  /** The root run and the child runs the session knows. */
  readonly runs: Runs;
  /** The root, and the child runs stepped into above it. */
  readonly nest: Nest;
  readonly store: RunStore;
  readonly values: ValueCache;
}

export class ReplayDebugSession extends DebugSession {
  private loaded: Loaded | undefined;
  private readonly handles = new Handles<Handle>();
  private readonly frames = new Frames(
    (line) => this.convertDebuggerLineToClient(line),
    (column) => this.convertDebuggerColumnToClient(column),
    (id) => this.loaded!.runs.childRun(id),
  );
  private readonly conditions = new Conditions(
    (text) => this.print(text),
    (ref) => (this.loaded ? this.loaded.values.load(ref) : Promise.resolve(undefined)),
  );
  private lastStop: Stop | undefined;
  private nextBreakpointId = 1;
  private configured!: () => void;
  private readonly configurationDone = new Promise<void>((r) => (this.configured = r));

  constructor(private readonly host: ReplayHost) {
    super();
    this.setDebuggerLinesStartAt1(false);
    this.setDebuggerColumnsStartAt1(false);
  }

  // ---- lifecycle ----

  protected override initializeRequest(
    response: DebugProtocol.InitializeResponse,
    _args: DebugProtocol.InitializeRequestArguments,
  ): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsStepBack: true,
      supportsGotoTargetsRequest: true,
      supportsRestartFrame: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsExceptionInfoRequest: true,
      supportsClipboardContext: true,
      supportsDelayedStackTraceLoading: true,
      supportsEvaluateForHovers: false,
      supportsTerminateRequest: false,
      supportsSetVariable: false,
      exceptionBreakpointFilters: FAILURE_FILTERS.map((f) => ({ ...f })),
    };
    this.sendResponse(response);
  }

  protected override async launchRequest(
    response: DebugProtocol.LaunchResponse,
    raw: DebugProtocol.LaunchRequestArguments,
  ): Promise<void> {
    const args = raw as ReplayLaunchArgs;
    let store: RunStore | undefined;
    try {
      store = this.host.openStore(args);
      const workflow = args.workflow ? resolve(args.workflow) : undefined;
      const rec = await loadRecording(store, args.runId ?? "latest", workflow);
      const s = store;
      const runs = new Runs(rec, s, this.conditions, {
        readText: (path) => this.host.readText(path),
        print: (text) => this.print(text),
        lineToClient: (line) => this.convertDebuggerLineToClient(line),
      });
      this.loaded = {
        root: runs.root,
        runs,
        nest: new Nest(
          runs.root,
          (level, i) => runs.childAt(level, i),
          () => runs.descends(),
        ),
        store: s,
        values: new ValueCache((ref) => s.blob(ref)),
      };
    } catch (e) {
      await store?.close().catch(() => undefined);
      this.sendErrorResponse(response, {
        id: 3001,
        format: `Keel: cannot replay: ${(e as Error).message}`,
        showUser: true,
      });
      return;
    }
    const { rec } = this.loaded.root;
    this.print(
      `Replaying run ${rec.run.id} of ${rec.run.workflowPath} (${rec.events.length} events, ${rec.run.status}): nothing is executed.\n`,
    );
    this.sendEvent(new InitializedEvent());
    await this.configurationDone;
    this.sendResponse(response);
    const at = args.seq === undefined ? -1 : rec.events.findIndex((e) => e.seq === args.seq);
    const moves = this.loaded.root.moves;
    this.report(at > 0 ? moves.goto(at) : moves.entry());
  }

  protected override configurationDoneRequest(
    response: DebugProtocol.ConfigurationDoneResponse,
  ): void {
    this.sendResponse(response);
    this.configured();
  }

  protected override async disconnectRequest(
    response: DebugProtocol.DisconnectResponse,
  ): Promise<void> {
    await this.loaded?.store.close().catch(() => undefined);
    this.loaded = undefined;
    this.sendResponse(response);
    // Ends the process over stdio (`keel dap`); ignored inline and in server mode.
    this.shutdown();
  }

  /** The run's thread, then one per item or iteration in flight (threads.ts). */
  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    const root = this.loaded?.root;
    const id = root?.rec.run.id;
    const threads = [new Thread(RUN_THREAD, id ? `run ${id} (replay)` : "replay")];
    for (const u of root?.threads.inFlight() ?? [])
      threads.push(new Thread(root!.threads.idOf(u.id), root!.threads.name(u.id)));
    response.body = { threads };
    this.sendResponse(response);
  }

  // ---- breakpoints ----

  protected override setBreakPointsRequest(
    response: DebugProtocol.SetBreakpointsResponse,
    args: DebugProtocol.SetBreakpointsArguments,
  ): void {
    const path = args.source.path ? resolve(args.source.path) : undefined;
    const requested: DebugProtocol.SourceBreakpoint[] =
      args.breakpoints ?? (args.lines ?? []).map((line) => ({ line }));
    const byStep = new Map<string, number[]>();
    const refuse = (line: number, message: string): DebugProtocol.Breakpoint => ({
      id: this.nextBreakpointId++,
      verified: false,
      line,
      message,
    });
    const root = this.loaded?.root;
    root?.file.refresh();
    const file = path && root && path === resolve(root.rec.run.workflowPath) ? root : undefined;
    // A child workflow's file (a breakpoint there stops in its child runs), as it is on disk.
    const childText =
      !file && path && root && this.loaded!.runs.childFiles().has(path)
        ? this.host.readText(path)
        : undefined;
    const layout = file ? file.file.current().layout() : childText && layoutOf(childText);
    const breakpoints = requested.map((b) => {
      if (!root) return refuse(b.line, "no recorded run is loaded");
      if (!layout)
        return refuse(
          b.line,
          `not the workflow of this run (${root.rec.run.workflowPath}) nor a child workflow it uses`,
        );
      const step = layout.stepAtLine(this.convertClientLineToDebugger(b.line));
      if (!step) return refuse(b.line, "not inside a step: a breakpoint goes on a step");
      const wrong = conditionError(b);
      if (wrong) return refuse(b.line, wrong);
      const id = this.nextBreakpointId++;
      this.conditions.note(id, b);
      const ids = byStep.get(step.id) ?? [];
      ids.push(id);
      byStep.set(step.id, ids);
      const known =
        !file || file.fold.step(step.id) !== undefined || file.file.recorded().steps.has(step.id);
      return {
        id,
        verified: true,
        line: this.convertDebuggerLineToClient(step.keyLine),
        source: args.source,
        ...(known ? {} : { message: `step '${step.id}' is not in the recorded run` }),
      };
    });
    if (path) this.loaded?.runs.setLineBreakpoints(path, byStep);
    response.body = { breakpoints };
    this.sendResponse(response);
  }

  protected override setFunctionBreakPointsRequest(
    response: DebugProtocol.SetFunctionBreakpointsResponse,
    args: DebugProtocol.SetFunctionBreakpointsArguments,
  ): void {
    const root = this.loaded?.root;
    const byStep = new Map<string, number[]>();
    const byTool = new Map<string, Map<string, number[]>>();
    const breakpoints = args.breakpoints.map((b): DebugProtocol.Breakpoint => {
      const id = this.nextBreakpointId++;
      const wrong = conditionError(b);
      if (wrong) return { id, verified: false, message: wrong };
      const name = b.name.trim();
      if (!root) return { id, verified: false, message: "no recorded run is loaded" };
      const isStep = root.fold.step(name) !== undefined || root.file.recorded().steps.has(name);
      // `agent:tool`, or a tool's name alone that no step has: the calls of that tool.
      const onTool = isStep ? undefined : toolBreakpoint(root, name);
      if (typeof onTool === "string") return { id, verified: false, message: onTool };
      this.conditions.note(id, b, onTool?.tool);
      if (onTool) {
        for (const agent of onTool.agents) {
          const tools = byTool.get(agent) ?? new Map<string, number[]>();
          tools.set(onTool.tool, [...(tools.get(onTool.tool) ?? []), id]);
          byTool.set(agent, tools);
        }
      } else byStep.set(name, [...(byStep.get(name) ?? []), id]);
      const place = root.file.placeOf(onTool?.agents[0] ?? name);
      return {
        id,
        verified: true,
        ...(place ? { source: place.source, line: place.line } : {}),
      };
    });
    root?.moves.setFunctionBreakpoints(byStep, byTool);
    response.body = { breakpoints };
    this.sendResponse(response);
  }

  protected override setExceptionBreakPointsRequest(
    response: DebugProtocol.SetExceptionBreakpointsResponse,
    args: DebugProtocol.SetExceptionBreakpointsArguments,
  ): void {
    this.loaded?.runs.setFilters([
      ...args.filters,
      ...(args.filterOptions ?? []).map((f) => f.filterId),
    ]);
    this.sendResponse(response);
  }

  // ---- moves ----

  private move(response: DebugProtocol.Response, how: (n: Nest) => Stop | Promise<Stop>): void {
    const l = this.loaded;
    if (!l) {
      this.sendErrorResponse(response, 3002, "no recorded run is loaded");
      return;
    }
    if (response.command === "continue") response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    void Promise.resolve(how(l.nest)).then((stop) => {
      if (this.loaded === l) this.report(stop);
    });
  }

  protected override nextRequest(response: DebugProtocol.NextResponse): void {
    this.move(response, (n) => n.next());
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse): void {
    this.move(response, (n) => n.stepIn());
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse): void {
    this.move(response, (n) => n.stepOut());
  }

  protected override stepBackRequest(response: DebugProtocol.StepBackResponse): void {
    this.move(response, (n) => n.back());
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    this.move(response, (n) => n.continue());
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    this.move(response, (n) => n.reverseContinue());
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    // A replay is always paused.
    this.sendResponse(response);
  }

  /** Restart Frame: the first event of the frame's step or unit, in the frame's run. */
  protected override restartFrameRequest(
    response: DebugProtocol.RestartFrameResponse,
    args: DebugProtocol.RestartFrameArguments,
  ): void {
    const f = this.frames.get(args.frameId);
    this.move(response, (n) => {
      if (f) n.popTo(f.level);
      return n.top.moves.restart(f?.unit ?? f?.step ?? null);
    });
  }

  /**
   * Jump to Cursor's targets: the events of the step under the cursor, in the innermost run
   * stepped into whose file it is (else the root run's).
   */
  protected override gotoTargetsRequest(
    response: DebugProtocol.GotoTargetsResponse,
    args: DebugProtocol.GotoTargetsArguments,
  ): void {
    const l = this.loaded;
    const path = args.source.path ? resolve(args.source.path) : undefined;
    const level =
      [...(l?.nest.stack ?? [])].reverse().find((x) => resolve(x.rec.run.workflowPath) === path) ??
      l?.root;
    const line = this.convertClientLineToDebugger(args.line);
    const step = level?.file.current().layout().stepAtLine(line);
    // A target's id names its event and its run: the root run's events are 1, 2, …
    const base = level ? l!.runs.opened.indexOf(level) * TARGETS_PER_RUN : 0;
    response.body = {
      targets:
        level && step
          ? level.moves.eventsOf(step.id).map((i) => {
              const e = level.rec.events[i]!;
              const label = `event ${e.seq} · ${describeEvent(e)}`;
              return { id: base + i + 1, label, line: args.line };
            })
          : [],
    };
    this.sendResponse(response);
  }

  protected override gotoRequest(
    response: DebugProtocol.GotoResponse,
    args: DebugProtocol.GotoArguments,
  ): void {
    const level = this.loaded?.runs.opened[Math.floor((args.targetId - 1) / TARGETS_PER_RUN)];
    this.move(response, (n) => {
      if (level) n.popTo(level);
      return n.top.moves.goto((args.targetId - 1) % TARGETS_PER_RUN);
    });
  }

  protected override customRequest(
    command: string,
    response: DebugProtocol.Response,
    args: unknown,
  ): void {
    if (command !== GOTO_REQUEST) {
      super.customRequest(command, response, args);
      return;
    }
    const a = args as { seq?: unknown; runId?: unknown } | undefined;
    const seq = Number(a?.seq);
    const stack = this.loaded?.nest.stack ?? [];
    const level =
      a?.runId === undefined ? stack.at(-1) : stack.find((x) => x.rec.run.id === a.runId);
    const index = level ? level.rec.events.findIndex((e) => e.seq === seq) : -1;
    if (!level || index < 0) {
      this.sendErrorResponse(
        response,
        3003,
        `no event ${String(seq)} in ${a?.runId === undefined ? "this run" : `run ${String(a.runId)} on the Call Stack`}`,
      );
      return;
    }
    this.move(response, (n) => {
      n.popTo(level);
      return n.top.moves.goto(index);
    });
  }

  /**
   * Sends the stop (in the innermost run stepped into): `stopped`, on the root run's thread that
   * holds it, then the position for the graph panel of that run's workflow.
   */
  private report(stop: Stop): void {
    const l = this.loaded!;
    const { root } = l;
    const top = l.nest.top;
    this.lastStop = stop;
    this.handles.reset();
    this.frames.reset();
    for (const level of l.runs.opened) level.file.refresh();
    const stopped: DebugProtocol.StoppedEvent = new Event("stopped", {
      reason: stop.reason,
      threadId: root.threads.threadOfEvent(root.fold.current),
      allThreadsStopped: true,
      description: stop.description,
      ...(stop.text ? { text: stop.text } : {}),
      ...(stop.hitBreakpointIds ? { hitBreakpointIds: [...stop.hitBreakpointIds] } : {}),
    }) as DebugProtocol.StoppedEvent;
    this.sendEvent(stopped);
    const e = top.rec.events[stop.index]!;
    const body: PositionBody = {
      runId: top.rec.run.id,
      workflow: top.rec.run.workflowPath,
      index: stop.index,
      seq: e.seq,
      stepId: e.stepId,
      reason: stop.reason,
    };
    this.sendEvent(new Event(POSITION_EVENT, body));
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const e = this.loaded?.nest.top.fold.current;
    const d = e?.data ?? {};
    const kind = typeof d.kind === "string" ? d.kind : "error";
    const message = typeof d.message === "string" ? d.message : "";
    response.body = {
      exceptionId: kind,
      description: message,
      breakMode: "always",
      details: {
        typeName: kind,
        message,
        ...(e ? { stackTrace: describeEvent(e) } : {}),
      },
    };
    this.sendResponse(response);
  }

  // ---- call stack ----

  protected override async stackTraceRequest(
    response: DebugProtocol.StackTraceResponse,
    args: DebugProtocol.StackTraceArguments,
  ): Promise<void> {
    const l = this.loaded;
    const stop = this.lastStop;
    if (!l) {
      response.body = { stackFrames: [], totalFrames: 0 };
      this.sendResponse(response);
      return;
    }
    const ids = await this.frames.idsOf(l.nest.stack, args.threadId, () => this.lastStop === stop);
    if (this.lastStop !== stop) {
      response.body = { stackFrames: [], totalFrames: 0 };
      this.sendResponse(response);
      return;
    }
    const start = args.startFrame ?? 0;
    const end = args.levels ? Math.min(ids.length, start + args.levels) : ids.length;
    const stackFrames: DebugProtocol.StackFrame[] = [];
    for (let i = start; i < end; i++) stackFrames.push(this.frames.frame(ids[i]!, i));
    response.body = { stackFrames, totalFrames: ids.length };
    this.sendResponse(response);
  }

  protected override sourceRequest(
    response: DebugProtocol.SourceResponse,
    args: DebugProtocol.SourceArguments,
  ): void {
    const file = this.loaded?.runs.source(args.sourceReference ?? 0);
    if (!file) {
      this.sendErrorResponse(response, 3004, "no such source");
      return;
    }
    response.body = { content: file.source, mimeType: "text/x-yaml" };
    this.sendResponse(response);
  }

  // ---- variables ----

  protected override scopesRequest(
    response: DebugProtocol.ScopesResponse,
    args: DebugProtocol.ScopesArguments,
  ): void {
    const f = this.frames.get(args.frameId);
    const level = f?.level ?? this.loaded?.nest.top;
    const scopes: DebugProtocol.Scope[] = [];
    const scope = (name: string, h: Handle) => scopes.push(new Scope(name, this.handles.create(h)));
    // An agent's tool call's frame: Tool call, Turn (and Item for an item's agent); a turn's: Turn.
    const agent = f?.unit ? f.level.agents.placeOfUnit(f.unit) : undefined;
    if (f && agent) {
      if (agent.call)
        scope(`Tool call ${agent.call.key}`, {
          scope: "call",
          level: f.level,
          unit: agent.call.key,
        });
      scope(`Turn ${agent.turnKey}`, { scope: "turn", level: f.level, unit: agent.turnKey });
      if (agent.agent !== agent.stepId)
        scope(`Item ${agent.agent}`, { scope: "unit", level: f.level, unit: agent.agent });
    } else if (f?.unit) {
      const what = splitUnit(f.unit).scope?.startsWith("#") ? "Iteration" : "Item";
      scope(`${what} ${f.unit}`, { scope: "unit", level: f.level, unit: f.unit });
    }
    const step = f?.step;
    if (step && f)
      scopes.push(
        new Scope(`Step ${step}`, this.handles.create({ scope: "step", level: f.level, id: step })),
      );
    if (level) scopes.push(new Scope("Run", this.handles.create({ scope: "run", level }), false));
    response.body = { scopes };
    this.sendResponse(response);
  }

  protected override async variablesRequest(
    response: DebugProtocol.VariablesResponse,
    args: DebugProtocol.VariablesArguments,
  ): Promise<void> {
    const l = this.loaded;
    const h = this.handles.get(args.variablesReference);
    if (!l || !h) {
      response.body = { variables: [] };
      this.sendResponse(response);
      return;
    }
    const handle = (c: Container) => this.handles.create(c);
    let container: Container;
    if ("scope" in h) {
      if (h.scope === "step") {
        container = { value: stepView(h.level.fold, h.id), path: fieldPath("steps", h.id) };
      } else if (h.scope === "unit") {
        // Its fields are at the top of the expression scope of its frame (inspect.ts).
        container = { value: await unitView(h.level, l.values, h.unit), path: "" };
      } else if (h.scope === "turn") {
        container = { value: await turnView(h.level, l.values, h.unit), path: "" };
      } else if (h.scope === "call") {
        container = { value: await toolCallView(h.level, l.values, h.unit), path: "" };
      } else {
        // `inputs` is at the top of the expression scope; the rest under `run`.
        const { rec, fold } = h.level;
        const inputs = await l.values.load(rec.run.inputsHash);
        const run = runView(fold, rec.run, rec.findings);
        const variables = [
          variableOf("inputs", inputs, "inputs", handle),
          ...(await childrenOf({ value: run, path: "run" }, {}, l.values, handle)),
        ];
        response.body = { variables: this.page(variables, args) };
        this.sendResponse(response);
        return;
      }
    } else container = h;
    response.body = { variables: await childrenOf(container, args, l.values, handle) };
    this.sendResponse(response);
  }

  private page(all: DebugProtocol.Variable[], args: DebugProtocol.VariablesArguments) {
    const start = args.start ?? 0;
    return args.count ? all.slice(start, start + args.count) : all.slice(start);
  }

  protected override async evaluateRequest(
    response: DebugProtocol.EvaluateResponse,
    args: DebugProtocol.EvaluateArguments,
  ): Promise<void> {
    const l = this.loaded;
    if (!l) {
      this.sendErrorResponse(response, 3002, "no recorded run is loaded");
      return;
    }
    const frame = args.frameId ? this.frames.get(args.frameId) : undefined;
    let value: unknown;
    try {
      // Bounded as a run's expressions are (docs/runner.md): an expression typed here that never
      // ends, or recurses without end, fails with D1012 or D1011 instead of holding the adapter.
      value = await evaluateExpression(args.expression, {
        context: await expressionScope(
          frame?.level ?? l.nest.top,
          l.values,
          frame,
          args.expression,
        ),
        timeoutMs: EVALUATE_TIMEOUT_MS,
      });
    } catch (e) {
      this.sendErrorResponse(response, { id: 3005, format: (e as Error).message, showUser: false });
      return;
    }
    if (args.context === "clipboard") {
      response.body = { result: fullText(value), variablesReference: 0 };
    } else {
      const v = variableOf(args.expression, value, args.expression, (c) => this.handles.create(c));
      response.body = {
        result: value === undefined ? "undefined" : display(value),
        type: v.type,
        variablesReference: v.variablesReference,
        ...(v.indexedVariables ? { indexedVariables: v.indexedVariables } : {}),
        ...(v.namedVariables ? { namedVariables: v.namedVariables } : {}),
      };
    }
    this.sendResponse(response);
  }

  private print(text: string): void {
    this.sendEvent(new OutputEvent(text, "console"));
  }
}
