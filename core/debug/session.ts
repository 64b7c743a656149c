// The replay debugger (docs/debugger.md, #9): a recorded run in any Debug Adapter Protocol client.
// One class serves VS Code inline (the extension hands it to DebugAdapterInlineImplementation) and
// any other client over stdio (`keel dap`). Invariants:
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
  Source,
  StackFrame,
  Thread,
} from "@vscode/debugadapter";
import type { DebugProtocol } from "@vscode/debugprotocol";
import { basename, resolve } from "node:path";
import { RunFold } from "../record/fold";
import { splitUnit } from "../record/records";
import type { RunStore } from "../store/run-store";
import { evaluate as evaluateExpression } from "../expr/evaluate";
import { parseExpression } from "../expr/parse";
import { layoutOf, type WorkflowLayout } from "./layout";
import { describeEvent, eventLabel, FAILURE_FILTERS, Moves, type Stop } from "./moves";
import { loadRecording, type DebugRecording } from "./recording";
import {
  childrenOf,
  fieldPath,
  fullText,
  ValueCache,
  variableOf,
  display,
  type Container,
} from "./variables";
import { eventView, runView, stepView } from "./views";
import { RUN_THREAD, Threads, type UnitFacts } from "./threads";

/** How long the Debug Console's evaluate may run an expression. */
export const EVALUATE_TIMEOUT_MS = 5_000;

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
 * The workflow file as the current stop sees it: on disk or not, and its layout, parsed only when
 * a frame or a breakpoint needs a step's place (a run's own frame does not: the first stop shows
 * without parsing the file).
 */
interface DiskView {
  readonly onDisk: boolean;
  layout(): WorkflowLayout;
}

const MAX_FRAMES = 20;
const RECORDED_SOURCE = 1;

type Handle =
  | Container
  | { readonly scope: "step"; readonly id: string }
  | { readonly scope: "unit"; readonly unit: string }
  | { readonly scope: "run" };

/**
 * A frame of the current stop. `step` is the step whose state the frame shows (null: the run);
 * `unit` an item's or iteration's key when the frame is that unit's; `event` the log index the
 * frame names (its top event), else the frame names the step's or unit's status.
 */
interface FrameAt {
  readonly step: string | null;
  readonly unit: string | null;
  readonly event?: number;
  /** A child run's step, shown above the unit that started the child (its own name and place). */
  readonly child?: { readonly name: string; readonly source: Source; readonly line: number };
}

/** A breakpoint's condition and hit condition (docs/debugger.md, "Breakpoints"). */
interface Condition {
  readonly condition?: string;
  readonly hitCondition?: string;
  /** Whether the condition held at an event index, once evaluated. */
  readonly held: Map<number, boolean>;
  /** With a hit count: the count at each place its step's breakpoints can stop, made once. */
  hits?: Map<number, number>;
}

interface Loaded {
  readonly rec: DebugRecording;
  readonly fold: RunFold;
  readonly moves: Moves;
  readonly store: RunStore;
  readonly values: ValueCache;
  readonly threads: Threads;
  /** Child runs by id, read from the store the first time a frame needs one. */
  readonly children: Map<string, Promise<DebugRecording | undefined>>;
}

export class ReplayDebugSession extends DebugSession {
  private loaded: Loaded | undefined;
  private recordedLayout: WorkflowLayout | undefined;
  /** The layout of the file on disk when it differs from the recorded text, by that text. */
  private disk: { text: string; layout: WorkflowLayout } | undefined;
  private diskNoted = false;
  /** The file on disk as read for the current stop (read again at the next stop). */
  private diskNow: DiskView | undefined;
  private readonly handles = new Handles<Handle>();
  /** Frame id - 1 → that frame, for the current stop (every thread's frames, as listed). */
  private frames: FrameAt[] = [];
  /** A thread's frame ids at the current stop, made on its first stackTrace. */
  private framesOf = new Map<number, Promise<number[]>>();
  /** Conditions by breakpoint id (breakpoints without one are not here). */
  private conditions = new Map<number, Condition>();
  private conditionNoted = new Set<string>();
  private lastStop: Stop | undefined;
  private nextBreakpointId = 1;
  private readonly lineBreakpoints = new Map<string, Map<string, number[]>>();
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
      const fold = new RunFold(rec.events, rec.attempts);
      const s = store;
      this.loaded = {
        rec,
        fold,
        moves: new Moves(fold),
        store: s,
        values: new ValueCache((ref) => s.blob(ref)),
        threads: new Threads(fold),
        children: new Map(),
      };
      this.loaded.moves.setConditions((i, ids) => this.holding(i, ids));
    } catch (e) {
      await store?.close().catch(() => undefined);
      this.sendErrorResponse(response, {
        id: 3001,
        format: `Keel: cannot replay: ${(e as Error).message}`,
        showUser: true,
      });
      return;
    }
    const { rec } = this.loaded;
    this.print(
      `Replaying run ${rec.run.id} of ${rec.run.workflowPath} (${rec.events.length} events, ${rec.run.status}): nothing is executed.\n`,
    );
    this.sendEvent(new InitializedEvent());
    await this.configurationDone;
    this.sendResponse(response);
    const at = args.seq === undefined ? -1 : rec.events.findIndex((e) => e.seq === args.seq);
    this.report(at > 0 ? this.loaded.moves.goto(at) : this.loaded.moves.entry());
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
    const l = this.loaded;
    const id = l?.rec.run.id;
    const threads = [new Thread(RUN_THREAD, id ? `run ${id} (replay)` : "replay")];
    for (const u of l?.threads.inFlight() ?? [])
      threads.push(new Thread(l!.threads.idOf(u.id), l!.threads.name(u.id)));
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
    const l = this.loaded;
    this.diskNow = undefined;
    const layout =
      path && l && path === resolve(l.rec.run.workflowPath) ? this.current() : undefined;
    const breakpoints = requested.map((b) => {
      if (!l) return refuse(b.line, "no recorded run is loaded");
      if (!layout)
        return refuse(b.line, `not the workflow of this run (${l.rec.run.workflowPath})`);
      const step = layout.layout().stepAtLine(this.convertClientLineToDebugger(b.line));
      if (!step) return refuse(b.line, "not inside a step: a breakpoint goes on a step");
      const wrong = conditionError(b);
      if (wrong) return refuse(b.line, wrong);
      const id = this.nextBreakpointId++;
      this.noteCondition(id, b);
      const ids = byStep.get(step.id) ?? [];
      ids.push(id);
      byStep.set(step.id, ids);
      const known = l.fold.step(step.id) !== undefined || this.recorded().steps.has(step.id);
      return {
        id,
        verified: true,
        line: this.convertDebuggerLineToClient(step.keyLine),
        source: args.source,
        ...(known ? {} : { message: `step '${step.id}' is not in the recorded run` }),
      };
    });
    if (path) this.lineBreakpoints.set(path, byStep);
    this.applyLineBreakpoints();
    response.body = { breakpoints };
    this.sendResponse(response);
  }

  private applyLineBreakpoints(): void {
    const all = new Map<string, number[]>();
    for (const byStep of this.lineBreakpoints.values())
      for (const [id, ids] of byStep) all.set(id, [...(all.get(id) ?? []), ...ids]);
    this.loaded?.moves.setLineBreakpoints(all);
  }

  protected override setFunctionBreakPointsRequest(
    response: DebugProtocol.SetFunctionBreakpointsResponse,
    args: DebugProtocol.SetFunctionBreakpointsArguments,
  ): void {
    const l = this.loaded;
    const byStep = new Map<string, number[]>();
    const breakpoints = args.breakpoints.map((b): DebugProtocol.Breakpoint => {
      const id = this.nextBreakpointId++;
      const wrong = conditionError(b);
      if (wrong) return { id, verified: false, message: wrong };
      this.noteCondition(id, b);
      const name = b.name.trim();
      if (!l || (l.fold.step(name) === undefined && !this.recorded().steps.has(name)))
        return { id, verified: false, message: `no step '${name}' in this run` };
      byStep.set(name, [...(byStep.get(name) ?? []), id]);
      const place = this.placeOf(name);
      return {
        id,
        verified: true,
        ...(place ? { source: place.source, line: place.line } : {}),
      };
    });
    l?.moves.setFunctionBreakpoints(byStep);
    response.body = { breakpoints };
    this.sendResponse(response);
  }

  private noteCondition(id: number, b: { condition?: string; hitCondition?: string }): void {
    const condition = b.condition?.trim() || undefined;
    const hitCondition = b.hitCondition?.trim() || undefined;
    if (condition || hitCondition)
      this.conditions.set(id, { condition, hitCondition, held: new Map() });
  }

  /**
   * Which of the breakpoints `ids` (on the step of event i, which begins its step or one of its
   * items or iterations there) hold at event i: their condition is true there, and their hit
   * condition holds for the number of such events up to i where the condition was true.
   */
  private async holding(i: number, ids: readonly number[]): Promise<number[]> {
    const out: number[] = [];
    for (const id of ids) {
      const c = this.conditions.get(id);
      if (!c) out.push(id);
      else if ((await this.held(c, i)) && (await this.hitHolds(c, i))) out.push(id);
    }
    return out;
  }

  private async held(c: Condition, i: number): Promise<boolean> {
    if (!c.condition) return true;
    const known = c.held.get(i);
    if (known !== undefined) return known;
    const l = this.loaded!;
    const e = l.rec.events[i]!;
    const facts: Partial<UnitFacts> =
      e.stepId === null ? {} : l.threads.facts(e.scope === null ? e.stepId : e.stepId + e.scope);
    let value: unknown;
    try {
      value = await evaluateExpression(c.condition, {
        context: {
          step: e.stepId,
          unit: facts.unit ?? null,
          key: facts.key,
          index: facts.index,
          iteration: facts.iteration,
          event: eventView(e),
        },
        timeoutMs: EVALUATE_TIMEOUT_MS,
      });
    } catch (err) {
      this.noteOnce(
        `Breakpoint condition \`${c.condition}\` cannot be evaluated (${(err as Error).message}): the breakpoint does not stop there; fix the condition in the Breakpoints view.\n`,
      );
      value = false;
    }
    const holds = value !== undefined && value !== null && value !== false;
    c.held.set(i, holds);
    return holds;
  }

  private noteOnce(text: string): void {
    if (this.conditionNoted.has(text)) return;
    this.conditionNoted.add(text);
    this.print(text);
  }

  /** A hit condition over the count of events up to i where the breakpoint's condition held. */
  private async hitHolds(c: Condition, i: number): Promise<boolean> {
    if (!c.hitCondition) return true;
    if (!c.hits) {
      // Counted over the whole log once, so that every move sees the same counts.
      const l = this.loaded!;
      const hits = new Map<number, number>();
      let n = 0;
      for (const j of l.moves.beginnings(l.rec.events[i]!.stepId!)) {
        if (await this.held(c, j)) n++;
        hits.set(j, n);
      }
      c.hits = hits;
    }
    // A hit count that is not one was refused when set (conditionError).
    return hitConditionHolds(c.hitCondition, c.hits.get(i) ?? 0) === true;
  }

  protected override setExceptionBreakPointsRequest(
    response: DebugProtocol.SetExceptionBreakpointsResponse,
    args: DebugProtocol.SetExceptionBreakpointsArguments,
  ): void {
    this.loaded?.moves.setFilters([
      ...args.filters,
      ...(args.filterOptions ?? []).map((f) => f.filterId),
    ]);
    this.sendResponse(response);
  }

  // ---- moves ----

  private move(response: DebugProtocol.Response, how: (m: Moves) => Stop | Promise<Stop>): void {
    const l = this.loaded;
    if (!l) {
      this.sendErrorResponse(response, 3002, "no recorded run is loaded");
      return;
    }
    if (response.command === "continue") response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    void Promise.resolve(how(l.moves)).then((stop) => {
      if (this.loaded === l) this.report(stop);
    });
  }

  protected override nextRequest(response: DebugProtocol.NextResponse): void {
    this.move(response, (m) => m.next());
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse): void {
    this.move(response, (m) => m.stepIn());
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse): void {
    this.move(response, (m) => m.stepOut());
  }

  protected override stepBackRequest(response: DebugProtocol.StepBackResponse): void {
    this.move(response, (m) => m.back());
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    this.move(response, (m) => m.continue());
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    this.move(response, (m) => m.reverseContinue());
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    // A replay is always paused.
    this.sendResponse(response);
  }

  protected override restartFrameRequest(
    response: DebugProtocol.RestartFrameResponse,
    args: DebugProtocol.RestartFrameArguments,
  ): void {
    const f = this.frames[args.frameId - 1];
    this.move(response, (m) => m.restart(f?.unit ?? f?.step ?? null));
  }

  protected override gotoTargetsRequest(
    response: DebugProtocol.GotoTargetsResponse,
    args: DebugProtocol.GotoTargetsArguments,
  ): void {
    const l = this.loaded;
    const line = this.convertClientLineToDebugger(args.line);
    const step = l ? this.current().layout().stepAtLine(line) : undefined;
    const targets: DebugProtocol.GotoTarget[] =
      l && step
        ? l.moves.eventsOf(step.id).map((i) => ({
            id: i + 1,
            label: `event ${l.rec.events[i]!.seq} · ${describeEvent(l.rec.events[i]!)}`,
            line: args.line,
          }))
        : [];
    response.body = { targets };
    this.sendResponse(response);
  }

  protected override gotoRequest(
    response: DebugProtocol.GotoResponse,
    args: DebugProtocol.GotoArguments,
  ): void {
    this.move(response, (m) => m.goto(args.targetId - 1));
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
    const seq = Number((args as { seq?: unknown } | undefined)?.seq);
    const l = this.loaded;
    const index = l ? l.rec.events.findIndex((e) => e.seq === seq) : -1;
    if (index < 0) {
      this.sendErrorResponse(response, 3003, `no event ${String(seq)} in this run`);
      return;
    }
    this.move(response, (m) => m.goto(index));
  }

  /** Sends the stop: `stopped`, then the position for the graph panel. */
  private report(stop: Stop): void {
    const l = this.loaded!;
    this.lastStop = stop;
    this.handles.reset();
    this.frames = [];
    this.framesOf.clear();
    this.diskNow = undefined;
    const stopped: DebugProtocol.StoppedEvent = new Event("stopped", {
      reason: stop.reason,
      threadId: l.threads.threadOfEvent(l.rec.events[stop.index]),
      allThreadsStopped: true,
      description: stop.description,
      ...(stop.text ? { text: stop.text } : {}),
      ...(stop.hitBreakpointIds ? { hitBreakpointIds: [...stop.hitBreakpointIds] } : {}),
    }) as DebugProtocol.StoppedEvent;
    this.sendEvent(stopped);
    const e = l.rec.events[stop.index]!;
    const body: PositionBody = {
      runId: l.rec.run.id,
      workflow: l.rec.run.workflowPath,
      index: stop.index,
      seq: e.seq,
      stepId: e.stepId,
      reason: stop.reason,
    };
    this.sendEvent(new Event(POSITION_EVENT, body));
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const e = this.loaded?.fold.current;
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
    let made = this.framesOf.get(args.threadId);
    if (!made) {
      made = this.framesOfThread(l, args.threadId).then((frames) =>
        // Frames of a stop that has since been left are not kept.
        this.lastStop === stop ? frames.map((f) => this.frames.push(f)) : [],
      );
      this.framesOf.set(args.threadId, made);
    }
    const ids = await made;
    if (this.lastStop !== stop) {
      response.body = { stackFrames: [], totalFrames: 0 };
      this.sendResponse(response);
      return;
    }
    const start = args.startFrame ?? 0;
    const end = args.levels ? Math.min(ids.length, start + args.levels) : ids.length;
    const stackFrames: DebugProtocol.StackFrame[] = [];
    for (let i = start; i < end; i++) stackFrames.push(this.frame(l, ids[i]!, i));
    response.body = { stackFrames, totalFrames: ids.length };
    this.sendResponse(response);
  }

  /**
   * A thread's frames. The run's: the current event's step, then its upstream chain. An item's or
   * iteration's: its own frame (its event at or before the position), then its step's frame and
   * the step's upstream chain.
   */
  private async framesOfThread(l: Loaded, threadId: number): Promise<FrameAt[]> {
    const unit = l.threads.unitOf(threadId);
    const at = l.fold.position;
    if (unit === undefined) {
      const top = l.fold.current?.stepId ?? null;
      const chain = this.chain(l, top).map((step, i): FrameAt =>
        i === 0 ? { step, unit: null, event: at } : { step, unit: null },
      );
      const child = top === null ? undefined : await this.childFrame(l, top, null);
      return child ? [child, ...chain] : chain;
    }
    const { stepId } = splitUnit(unit);
    const event = l.fold.previousEventOf(unit, at + 1);
    const own: FrameAt = event < 0 ? { step: stepId, unit } : { step: stepId, unit, event };
    const child = await this.childFrame(l, unit, unit);
    return [
      ...(child ? [child] : []),
      own,
      ...this.chain(l, stepId).map((step) => ({ step, unit: null })),
    ];
  }

  /**
   * The frame of the child run a step or unit (`key`) has in flight at the position (its
   * `child_started` is its last event): the child's step at the moment of the current event (its
   * last step event recorded by then, else its first), at that step's key line in the child's
   * file. Undefined when there is none, or the store does not have the child run.
   */
  private async childFrame(
    l: Loaded,
    key: string,
    unit: string | null,
  ): Promise<FrameAt | undefined> {
    const last = l.fold.previousEventOf(key, l.fold.position + 1);
    const started = last < 0 ? undefined : l.rec.events[last]!;
    // A step's id names its items' events too: only the step's (or unit's) own child counts.
    const own = started?.type === "child_started" && started.scope === splitUnit(key).scope;
    const childId = own ? started.data?.childRun : undefined;
    if (typeof childId !== "string") return undefined;
    let read = l.children.get(childId);
    if (!read) {
      read = loadRecording(l.store, childId).catch(() => undefined);
      l.children.set(childId, read);
    }
    const child = await read;
    if (!child) return undefined;
    const now = l.fold.current!.at;
    const steps = child.events.filter((e) => e.stepId !== null);
    const shown = steps.filter((e) => e.at <= now).pop() ?? steps[0];
    if (!shown) return undefined;
    const path = child.run.workflowPath;
    const place = layoutOf(child.source).steps.get(shown.stepId!);
    return {
      step: splitUnit(key).stepId,
      unit,
      child: {
        name: `${key} › ${describeEvent(shown)}`,
        source: new Source(basename(path), path),
        line: this.convertDebuggerLineToClient(place?.keyLine ?? 0),
      },
    };
  }

  /** A step, then its upstream critical path: the dependency that ended last. */
  private chain(l: Loaded, top: string | null): (string | null)[] {
    const out: (string | null)[] = [top];
    if (top === null) return out;
    const layout = this.recorded();
    const seen = new Set<string>([top]);
    let at = top;
    while (out.length < MAX_FRAMES) {
      let best: string | undefined;
      let bestSeq = -1;
      for (const d of layout.depsOf(at)) {
        const s = l.fold.step(d);
        const seq = s ? (s.ended?.seq ?? s.lastSeq) : 0;
        if (!seen.has(d) && seq > bestSeq) {
          best = d;
          bestSeq = seq;
        }
      }
      if (best === undefined) break;
      seen.add(best);
      out.push(best);
      at = best;
    }
    return out;
  }

  /** The frame `id` (1-based), the `depth`th of its thread. */
  private frame(l: Loaded, id: number, depth: number): DebugProtocol.StackFrame {
    const f = this.frames[id - 1]!;
    let name: string;
    if (f.child) name = f.child.name;
    else if (f.event !== undefined) name = describeEvent(l.rec.events[f.event]!);
    else {
      const s = l.fold.unit(f.unit ?? f.step!);
      name = `${f.unit ?? f.step} · ${s?.ended ? eventLabel(s.ended) : (s?.status ?? "pending")}`;
    }
    const place = f.child ?? (f.step === null ? this.placeOfRun() : this.placeOf(f.step));
    const frame: DebugProtocol.StackFrame = new StackFrame(
      id,
      name,
      undefined,
      place?.line ?? 0,
      this.convertDebuggerColumnToClient(0),
    );
    if (place) frame.source = place.source;
    if (depth > 0) frame.presentationHint = "subtle";
    return frame;
  }

  /** Where a step is shown: the file on disk when it has the step, else the recorded text. */
  private placeOf(id: string): { source: DebugProtocol.Source; line: number } | undefined {
    const l = this.loaded!;
    const path = l.rec.run.workflowPath;
    const onDisk = this.current();
    const here = onDisk.onDisk ? onDisk.layout().steps.get(id) : undefined;
    if (here) {
      return {
        source: new Source(basename(path), path),
        line: this.convertDebuggerLineToClient(here.keyLine),
      };
    }
    const recorded = this.recorded().steps.get(id);
    if (!recorded) return undefined;
    return {
      source: this.recordedSource(),
      line: this.convertDebuggerLineToClient(recorded.keyLine),
    };
  }

  private placeOfRun(): { source: DebugProtocol.Source; line: number } {
    const l = this.loaded!;
    const path = l.rec.run.workflowPath;
    const onDisk = this.current().onDisk;
    return {
      source: onDisk ? new Source(basename(path), path) : this.recordedSource(),
      line: this.convertDebuggerLineToClient(0),
    };
  }

  private recordedSource(): DebugProtocol.Source {
    const path = this.loaded!.rec.run.workflowPath;
    const s: DebugProtocol.Source = new Source(
      `${basename(path)} (as recorded)`,
      undefined,
      RECORDED_SOURCE,
      "recorded run",
    );
    s.presentationHint = "deemphasize";
    return s;
  }

  protected override sourceRequest(
    response: DebugProtocol.SourceResponse,
    args: DebugProtocol.SourceArguments,
  ): void {
    const l = this.loaded;
    if (!l || args.sourceReference !== RECORDED_SOURCE) {
      this.sendErrorResponse(response, 3004, "no such source");
      return;
    }
    response.body = { content: l.rec.source, mimeType: "text/x-yaml" };
    this.sendResponse(response);
  }

  /** The layout of the recorded text, parsed the first time it is needed. */
  private recorded(): WorkflowLayout {
    return (this.recordedLayout ??= layoutOf(this.loaded?.rec.source ?? ""));
  }

  /**
   * The layout of the workflow as it is on disk now (re-read when the file changed), or the
   * recorded one when the file is gone. Says once when the file differs from the recorded text.
   */
  private current(): DiskView {
    return (this.diskNow ??= this.readDisk());
  }

  private readDisk(): DiskView {
    const l = this.loaded!;
    const text = this.host.readText(l.rec.run.workflowPath);
    if (text === undefined) {
      if (!this.diskNoted) {
        this.diskNoted = true;
        this.print(
          `${l.rec.run.workflowPath} is not on disk: the Call Stack shows the recorded text.\n`,
        );
      }
      return { onDisk: false, layout: () => this.recorded() };
    }
    if (text === l.rec.source) return { onDisk: true, layout: () => this.recorded() };
    if (!this.diskNoted) {
      this.diskNoted = true;
      this.print(
        `${basename(l.rec.run.workflowPath)} has changed since run ${l.rec.run.id} was recorded: breakpoints match steps by id, and a step that is no longer in the file shows from the recorded text.\n`,
      );
    }
    return {
      onDisk: true,
      layout: () => {
        if (this.disk?.text !== text) this.disk = { text, layout: layoutOf(text) };
        return this.disk.layout;
      },
    };
  }

  // ---- variables ----

  protected override scopesRequest(
    response: DebugProtocol.ScopesResponse,
    args: DebugProtocol.ScopesArguments,
  ): void {
    const f = this.frames[args.frameId - 1];
    const scopes: DebugProtocol.Scope[] = [];
    if (f?.unit) {
      const what = splitUnit(f.unit).scope?.startsWith("#") ? "Iteration" : "Item";
      scopes.push(
        new Scope(`${what} ${f.unit}`, this.handles.create({ scope: "unit", unit: f.unit })),
      );
    }
    const step = f?.step;
    if (step)
      scopes.push(new Scope(`Step ${step}`, this.handles.create({ scope: "step", id: step })));
    scopes.push(new Scope("Run", this.handles.create({ scope: "run" }), false));
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
        container = { value: stepView(l.fold, h.id), path: fieldPath("steps", h.id) };
      } else if (h.scope === "unit") {
        // Its fields are at the top of the expression scope of its frame (scope() below).
        container = { value: await this.unitView(l, h.unit), path: "" };
      } else {
        // `inputs` is at the top of the expression scope; the rest under `run`.
        const inputs = await l.values.load(l.rec.run.inputsHash);
        const run = runView(l.fold, l.rec.run, l.rec.findings);
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

  /**
   * An item's or iteration's scope: `key`, `index` and `item` (its value in the map's list), or
   * `iteration`; and `unit`, its own state (as a step's: status, input, output, attempts, …).
   */
  private async unitView(l: Loaded, unit: string): Promise<Record<string, unknown>> {
    const f = l.threads.facts(unit);
    const ref = f.index === undefined ? null : l.threads.listOf(f.stepId);
    const list = ref === null ? undefined : await l.values.load(ref);
    return {
      ...(f.key === undefined ? {} : { key: f.key }),
      ...(f.index === undefined ? {} : { index: f.index }),
      ...(Array.isArray(list) ? { item: list[f.index!] as unknown } : {}),
      ...(f.iteration === undefined ? {} : { iteration: f.iteration }),
      unit: stepView(l.fold, unit),
    };
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
    let value: unknown;
    try {
      // Bounded as a run's expressions are (docs/runner.md): an expression typed here that never
      // ends, or recurses without end, fails with D1012 or D1011 instead of holding the adapter.
      value = await evaluateExpression(args.expression, {
        context: await this.scope(l, args),
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

  /**
   * What an expression sees at the current position: `inputs`, `run` and `steps`, and on an
   * item's or iteration's frame (or event) its `key`, `index`, `item`, `iteration` and `unit`. Steps the
   * expression names (and the selected frame's) come whole, values read; the others with their
   * status, origin and error only, so that a large run costs no store reads it does not need.
   */
  private async scope(
    l: Loaded,
    args: DebugProtocol.EvaluateArguments,
  ): Promise<Record<string, unknown>> {
    const frame = args.frameId ? this.frames[args.frameId - 1] : undefined;
    const e = l.fold.current;
    const framed = frame ? frame.step : e?.stepId;
    const unit = frame ? frame.unit : e?.stepId && e.scope !== null ? e.stepId + e.scope : null;
    const steps: Record<string, unknown> = {};
    for (const s of l.fold.steps()) {
      if (s.id === framed || args.expression.includes(s.id)) {
        steps[s.id] = await l.values.resolve(stepView(l.fold, s.id));
      } else {
        steps[s.id] = {
          status: s.status,
          ...(s.origin ? { origin: s.origin } : {}),
          error: s.error,
        };
      }
    }
    return {
      // An item's or iteration's frame: `key`, `index`, `item` or `iteration`, and `unit`.
      ...(unit ? ((await l.values.resolve(await this.unitView(l, unit))) as object) : {}),
      inputs: await l.values.load(l.rec.run.inputsHash),
      run: runView(l.fold, l.rec.run, l.rec.findings),
      steps,
    };
  }

  private print(text: string): void {
    this.sendEvent(new OutputEvent(text, "console"));
  }
}

/** Why a breakpoint's condition or hit count cannot be used; undefined when both can. */
function conditionError(b: { condition?: string; hitCondition?: string }): string | undefined {
  const condition = b.condition?.trim();
  const error = condition ? parseExpression(condition).error : undefined;
  if (error) return `the condition \`${condition}\` is not JSONata: ${error.message}`;
  const hits = b.hitCondition?.trim();
  if (hits && hitConditionHolds(hits, 0) === undefined)
    return `the hit count \`${hits}\` is not a count: write 3, >= 3, > 3, < 3, <= 3 or % 3`;
  return undefined;
}

/**
 * A hit condition as VS Code's breakpoint widget takes it: `3` (the third hit only), `= 3`,
 * `== 3`, `>= 3`, `> 3`, `< 3`, `<= 3`, `% 3` (every third). Undefined when it is none of those.
 */
export function hitConditionHolds(text: string, hits: number): boolean | undefined {
  const m = /^(>=|<=|==|=|>|<|%)?\s*(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[2]);
  switch (m[1]) {
    case ">":
      return hits > n;
    case "<":
      return hits < n;
    case "<=":
      return hits <= n;
    case "=":
    case "==":
      return hits === n;
    case "%":
      return n > 0 && hits % n === 0;
    case ">=":
      return hits >= n;
    default:
      return hits === n;
  }
}
