// The replay debugger's Call Stack (docs/debugger.md, "Call Stack"): a thread's frames at the
// current stop. The run's thread shows the current event's step, then its upstream critical path;
// an item's or iteration's thread its own frame, then its step's and the step's upstream path. A
// child run in flight shows its step above the step or unit that started it; a child run stepped
// into shows its own frames there instead (its run's thread's, in its file), above its parent's
// on the root run's thread that started it. An agent's event shows its tool call's frame, its
// turn's, then its agent's: `research · turn 3 · call search.1` › `research · turn 3` ›
// `research` (agents.ts). Frame ids count across every thread of a stop and are valid until the
// next stop.
import { Source, StackFrame } from "@vscode/debugadapter";
import type { DebugProtocol } from "@vscode/debugprotocol";
import { basename } from "node:path";
import { splitUnit, unitKey, type EventRecord } from "../record/records";
import { layoutOf } from "./layout";
import type { Level } from "./level";
import { describeEvent, eventLabel } from "./moves";
import type { Place } from "./places";
import type { DebugRecording } from "./recording";

const MAX_FRAMES = 20;

/**
 * A frame of the current stop, in the run of `level`. `step` is the step whose state the frame
 * shows (null: the run); `unit` an item's or iteration's key when the frame is that unit's; `event`
 * the log index the frame names (its top event), else the frame names the step's or unit's status.
 */
export interface FrameAt {
  readonly level: Level;
  readonly step: string | null;
  readonly unit: string | null;
  readonly event?: number;
  /** A child run's step, shown above the unit that started the child (its own name and place). */
  readonly child?: { readonly name: string } & Place;
  /** The top frame of a run stepped into, or of the parent run below it: not dimmed. */
  readonly lead?: boolean;
}

export class Frames {
  /** Frame id - 1 → that frame, for the current stop (every thread's frames, as listed). */
  private all: FrameAt[] = [];
  /** A thread's frame ids at the current stop, made on its first stackTrace. */
  private readonly ofThread = new Map<number, Promise<number[]>>();

  constructor(
    /** A zero-based line and column as the client counts them. */
    private readonly lineToClient: (line: number) => number,
    private readonly columnToClient: (column: number) => number,
    /** A child run's record, read from the store once; undefined when the store lacks it. */
    private readonly childRun: (id: string) => Promise<DebugRecording | undefined>,
  ) {}

  /** A new stop: the last one's frames are gone. */
  reset(): void {
    this.all = [];
    this.ofThread.clear();
  }

  get(id: number): FrameAt | undefined {
    return this.all[id - 1];
  }

  /**
   * A thread's frame ids, made on the first asking at a stop; none when the stop has been left
   * (`current` false) by the time they are made: frames of a stop that is gone are not kept.
   */
  idsOf(levels: readonly Level[], threadId: number, current: () => boolean): Promise<number[]> {
    let made = this.ofThread.get(threadId);
    if (!made) {
      made = this.framesOfStack(levels, threadId).then((frames) =>
        current() ? frames.map((f) => this.all.push(f)) : [],
      );
      this.ofThread.set(threadId, made);
    }
    return made;
  }

  /**
   * A thread's frames when `levels` are the root run, then the child runs stepped into. The root
   * run's thread of the current event holds them: the innermost run's frames (as its run's thread
   * shows them), then each parent's frames on the thread of the event that started the child,
   * without the frame that stood for the child.
   */
  private async framesOfStack(levels: readonly Level[], threadId: number): Promise<FrameAt[]> {
    const root = levels[0]!;
    if (levels.length === 1 || threadId !== root.threads.threadOfEvent(root.fold.current))
      return this.framesOfThread(root, threadId);
    const out: FrameAt[] = [];
    for (let d = levels.length - 1; d >= 0; d--) {
      const l = levels[d]!;
      const thread = d === 0 ? threadId : l.threads.threadOfEvent(l.fold.current);
      const frames = await this.framesOfThread(l, thread, d === levels.length - 1);
      out.push(...frames.map((f, i) => (i === 0 ? { ...f, lead: true } : f)));
    }
    return out;
  }

  /**
   * A thread's frames. The run's: the current event's step, then its upstream chain. An item's or
   * iteration's: its own frame (its event at or before the position), then its step's frame and
   * the step's upstream chain. On an agent's thread, at an event of one of its turns or tool
   * calls: the call's frame, the turn's, then the agent's (the step's, or its item's and the
   * step's).
   */
  private async framesOfThread(l: Level, threadId: number, children = true): Promise<FrameAt[]> {
    const unit = l.threads.unitOf(threadId);
    const at = l.fold.position;
    if (unit === undefined) {
      const e = l.fold.current;
      const top = e?.stepId ?? null;
      const chain = this.chain(l, top).map((step): FrameAt => ({ level: l, step, unit: null }));
      const inAgent = e && (await this.agentFrames(l, e, at, e.stepId, children));
      if (inAgent) return [...inAgent, ...chain];
      const child = top === null || !children ? undefined : await this.childFrame(l, top, null);
      return [...(child ? [child] : []), { ...chain[0]!, event: at }, ...chain.slice(1)];
    }
    const { stepId } = splitUnit(unit);
    // An agent's item: its last event may be one of its turns' or calls'.
    const last = l.agents.previous(unit, at + 1);
    const inAgent =
      last < 0 ? undefined : await this.agentFrames(l, l.rec.events[last]!, last, unit, children);
    const event = l.fold.previousEventOf(unit, at + 1);
    const own: FrameAt =
      inAgent || event < 0
        ? { level: l, step: stepId, unit }
        : { level: l, step: stepId, unit, event };
    const child = !inAgent && children ? await this.childFrame(l, unit, unit) : undefined;
    return [
      ...(inAgent ?? []),
      ...(child ? [child] : []),
      own,
      ...this.chain(l, stepId).map((step) => ({ level: l, step, unit: null })),
    ];
  }

  /**
   * The frames of an agent's event `e` (at log index `i`) that sit above its agent's (`agent`, the
   * thread's unit, or the step on the run's thread): a tool call's frame (the event's, with its
   * child run's frame above it while one is in flight), then its turn's; a turn's event's own
   * frame. Undefined when `e` is not a turn's or call's of that agent.
   */
  private async agentFrames(
    l: Level,
    e: EventRecord,
    i: number,
    agent: string | null,
    children: boolean,
  ): Promise<FrameAt[] | undefined> {
    const p = l.agents.placeOf(e.stepId, e.scope);
    if (!p || (p.agent !== agent && p.stepId !== agent)) return undefined;
    const own = (key: string, event?: number): FrameAt => ({
      level: l,
      step: p.stepId,
      unit: key,
      ...(event === undefined ? {} : { event }),
    });
    const out: FrameAt[] = [];
    if (p.call) {
      const child = children ? await this.childFrame(l, p.call.key, p.call.key) : undefined;
      if (child) out.push(child);
      out.push(own(p.call.key, i), own(p.turnKey));
    } else out.push(own(p.turnKey, i));
    // An item's agent on the run's thread: the item's frame below the turn's.
    if (p.agent !== p.stepId && agent === p.stepId) out.push(own(p.agent));
    return out;
  }

  /**
   * The frame of the child run a step or unit (`key`) has in flight at the position (its
   * `child_started` is its last event): the child's step at the moment of the current event (its
   * last step event recorded by then, else its first), at that step's key line in the child's
   * file. Undefined when there is none, or the store does not have the child run.
   */
  private async childFrame(
    l: Level,
    key: string,
    unit: string | null,
  ): Promise<FrameAt | undefined> {
    const last = l.fold.previousEventOf(key, l.fold.position + 1);
    const started = last < 0 ? undefined : l.rec.events[last]!;
    // A step's id names its items' events too: only the step's (or unit's) own child counts.
    const own = started?.type === "child_started" && started.scope === splitUnit(key).scope;
    const childId = own ? started.data?.childRun : undefined;
    if (typeof childId !== "string") return undefined;
    const child = await this.childRun(childId);
    if (!child) return undefined;
    const now = l.fold.current!.at;
    const steps = child.events.filter((e) => e.stepId !== null);
    const shown = steps.filter((e) => e.at <= now).pop() ?? steps[0];
    if (!shown) return undefined;
    const path = child.run.workflowPath;
    const place = layoutOf(child.source).steps.get(shown.stepId!);
    return {
      level: l,
      step: splitUnit(key).stepId,
      unit,
      child: {
        name: `${key} › ${describeEvent(shown)}`,
        source: new Source(basename(path), path),
        line: this.lineToClient(place?.keyLine ?? 0),
      },
    };
  }

  /** A step, then its upstream critical path: the dependency that ended last. */
  private chain(l: Level, top: string | null): (string | null)[] {
    const out: (string | null)[] = [top];
    if (top === null) return out;
    const layout = l.file.recorded();
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

  /** An event's frame name: its unit and what happened (an agent's turn or call named as such). */
  private eventName(l: Level, e: EventRecord): string {
    return e.stepId === null
      ? describeEvent(e)
      : `${l.agents.label(unitKey(e.stepId, e.scope))} · ${eventLabel(e)}`;
  }

  /** The frame `id` (1-based), the `depth`th of its thread. */
  frame(id: number, depth: number): DebugProtocol.StackFrame {
    const f = this.all[id - 1]!;
    const l = f.level;
    // A child run's frames are named by its place in its parent (`per_doc[b] › score · started`).
    let name = l.path;
    if (f.child) name += f.child.name;
    else if (f.event !== undefined) name += this.eventName(l, l.rec.events[f.event]!);
    else {
      const key = f.unit ?? f.step!;
      const s = l.fold.unit(key);
      name += `${l.agents.label(key)} · ${s?.ended ? eventLabel(s.ended) : (s?.status ?? "pending")}`;
    }
    const place = f.child ?? (f.step === null ? l.file.placeOfRun() : l.file.placeOf(f.step));
    const frame: DebugProtocol.StackFrame = new StackFrame(
      id,
      name,
      undefined,
      place?.line ?? 0,
      this.columnToClient(0),
    );
    if (place) frame.source = place.source;
    if (depth > 0 && !f.lead) frame.presentationHint = "subtle";
    return frame;
  }
}
