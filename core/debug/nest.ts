// The replay debugger's moves across child runs (docs/debugger.md, "Child runs"). A session steps
// through one run's log (moves.ts) until Step Into enters a child run: the child's own recorded log
// is then a level above its parent's, the parent held at the child's `child_started`, and the moves
// go on in the child. Invariants:
// - The levels are the root run, then each child run entered, each started by an event of the
//   level below (a `child_started` at that level's position).
// - Continue and Reverse Continue read the logs as one: a child run's events come right after its
//   `child_started`; they enter a child only when a breakpoint or a failure filter could stop in one.
// - Leaving a child forwards (Step Over at its last event, Step Out) lands on the event after its
//   `child_finished` in the parent (that step's, item's or iteration's next: its end or its next
//   attempt), the child's end being its last event already; backwards (Step Back at its first
//   event) on its `child_started`.
import { unitKey } from "../record/records";
import type { Level } from "./level";
import type { Stop } from "./moves";

export class Nest {
  private readonly levels: Level[];

  constructor(
    root: Level,
    /** The child run started at event i of a level, undefined when there is none or it is not stored. */
    private readonly childAt: (level: Level, i: number) => Promise<Level | undefined>,
    /** Whether Continue and Reverse Continue look into child runs (a stop could be there). */
    private readonly descends: () => boolean,
  ) {
    this.levels = [root];
  }

  /** The levels from the root run to the child run stepped in. */
  get stack(): readonly Level[] {
    return this.levels;
  }

  get top(): Level {
    return this.levels[this.levels.length - 1]!;
  }

  /** Leaves the child runs above `level`; false when it is not on the stack. */
  popTo(level: Level): boolean {
    if (!this.levels.includes(level)) return false;
    while (this.top !== level) this.levels.pop();
    return true;
  }

  /** Step Over: the next event; at a child run's last event, the parent's after `child_finished`. */
  next(): Stop {
    const l = this.top;
    return this.levels.length > 1 && l.fold.position >= l.moves.last
      ? this.leave()
      : l.moves.next();
  }

  /** Step Back: the previous event; at a child run's first event, its `child_started`. */
  back(): Stop {
    const l = this.top;
    if (this.levels.length === 1 || l.fold.position > 0) return l.moves.back();
    this.levels.pop();
    return this.top.moves.land(this.top.fold.position, "step");
  }

  /**
   * Step Into: on a `child_started`, or where Step Into would go to one (a workflow step's start,
   * an item's or iteration's start, a failed attempt before the next), the child run's first step
   * event; else Step Into within the log (moves.ts).
   */
  async stepIn(): Promise<Stop> {
    const l = this.top;
    const k = l.fold.position;
    const into = l.moves.intoTarget();
    const started =
      l.fold.current?.type === "child_started"
        ? k
        : into >= 0 && l.rec.events[into]!.type === "child_started"
          ? into
          : -1;
    const child = started < 0 ? undefined : await this.childAt(l, started);
    if (!child) return l.moves.stepIn();
    l.fold.seek(started);
    this.levels.push(child);
    const first = child.rec.events.findIndex((e) => e.stepId !== null);
    return child.moves.land(Math.max(first, 0), "step");
  }

  /**
   * Step Out: the end of the current step (moves.ts); in a child run, once its step has ended (or
   * on its run's own events), the parent's event after the child run's `child_finished`.
   */
  stepOut(): Stop {
    const l = this.top;
    return this.levels.length > 1 && l.moves.outTarget() < 0 ? this.leave() : l.moves.stepOut();
  }

  /**
   * Back to the parent, after the `child_finished` of the child run left: the next event of the
   * step, item or iteration that started it (else the next event of the log).
   */
  private leave(): Stop {
    const child = this.levels.pop()!;
    const l = this.top;
    const id = child.rec.run.id;
    const events = l.rec.events;
    let after = l.fold.position + 1;
    for (let i = after; i < events.length; i++) {
      const e = events[i]!;
      if (e.type === "child_finished" && e.data?.childRun === id && e.stepId !== null) {
        const next = l.fold.nextEventOf(unitKey(e.stepId, e.scope), i);
        after = next < 0 ? i + 1 : next;
        break;
      }
    }
    return l.moves.land(Math.min(after, l.moves.last), "step");
  }

  /** Continue: the next breakpoint or enabled failure, in child runs too; else the root's end. */
  async continue(): Promise<Stop> {
    let left = false;
    for (;;) {
      const l = this.top;
      const hit = await this.forward(l, l.fold.position, left);
      if (hit) return hit;
      if (this.levels.length === 1) return l.moves.atEnd();
      this.levels.pop();
      left = true;
    }
  }

  /** Reverse Continue: the previous breakpoint or enabled failure; else `run started` of the root. */
  async reverseContinue(): Promise<Stop> {
    let left = false;
    for (;;) {
      const l = this.top;
      const hit = await this.backward(l, l.fold.position, left);
      if (hit) return hit;
      if (this.levels.length === 1) return l.moves.atStart();
      this.levels.pop();
      left = true;
    }
  }

  /**
   * The first stop after position k of the top level `l`: first in the child run started at k
   * (unless it was just left), then at each later event and in the child run it starts.
   */
  private async forward(l: Level, k: number, left: boolean): Promise<Stop | undefined> {
    if (k >= 0 && !left) {
      const inChild = await this.through(l, k, true);
      if (inChild) return inChild;
    }
    for (let i = k + 1; i <= l.moves.last; i++) {
      const hit = (await l.moves.hit(i)) ?? (await this.through(l, i, true));
      if (hit) return hit;
    }
    return undefined;
  }

  /**
   * The first stop before position k of the top level `l`, backwards: before each event, the
   * child run it starts (its events come after it); k itself first when its child was just left.
   */
  private async backward(l: Level, k: number, left: boolean): Promise<Stop | undefined> {
    if (left) {
      const hit = await l.moves.hit(k);
      if (hit) return hit;
    }
    for (let i = k - 1; i >= 0; i--) {
      const hit = (await this.through(l, i, false)) ?? (await l.moves.hit(i));
      if (hit) return hit;
    }
    return undefined;
  }

  /** A stop in the child run started at event i of the top level `l`, entering it; forwards or not. */
  private async through(l: Level, i: number, forwards: boolean): Promise<Stop | undefined> {
    const child = this.descends() ? await this.childAt(l, i) : undefined;
    if (!child) return undefined;
    this.levels.push(child);
    const hit = forwards
      ? await this.forward(child, -1, true)
      : await this.backward(child, child.moves.last + 1, false);
    if (hit) {
      l.fold.seek(i);
      return hit;
    }
    this.levels.pop();
    return undefined;
  }
}
