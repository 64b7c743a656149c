// Live progress of a run in the terminal, from the run's events. On a terminal, one line per step
// that has started, redrawn in place (state, duration, attempt, cached); otherwise one line per
// step as it ends, so logs stay readable. An item's or iteration's event (its `scope` set) never
// makes a line of its own: it updates its step's (a map's tally, a loop's iteration; docs/cli.md).
import { itemScope, type EventRecord } from "@keel/core/record/records";
import type { Style } from "./output";
import type { Workflow } from "@keel/core/model/schema";

type ItemState = "running" | "succeeded" | "failed" | "skipped" | "cancelled";

/** A map step's items as its line shows them: how many, and how many are in each state. */
interface Items {
  readonly total: number;
  /** The scopes of its items (`[doc-17]`), from `expanded`; an item's iterations are not items. */
  readonly scopes: ReadonlySet<string>;
  readonly states: Map<string, ItemState>;
  readonly counts: Record<ItemState, number>;
}

interface Line {
  id: string;
  state: "running" | "succeeded" | "failed" | "skipped" | "cancelled" | "cached" | "continued";
  attempt: number;
  started: number;
  ended: number;
  note: string;
  items: Items | null;
  /** A repeated step's latest iteration, or an agent's latest turn; 0 before the first. */
  iteration: number;
  /** An agent step: its turns are counted as turns, and its tool calls (`#t/<tool>.<i>`). */
  agent: boolean;
  calls: number;
  /** The child run a workflow step (or its current iteration) started. */
  child: string | null;
}

/** What an item's event makes of it; undefined: the event does not change its state. */
const ITEM_STATE: Partial<Record<EventRecord["type"], ItemState>> = {
  step_started: "running",
  step_succeeded: "succeeded",
  step_cached: "succeeded",
  step_reused: "succeeded",
  step_failed: "failed",
  step_skipped: "skipped",
  step_cancelled: "cancelled",
};

export class Progress {
  private readonly lines: Line[] = [];
  private readonly byId = new Map<string, Line>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  /** The column the step names are padded to: the longest id of the run, within limits. */
  private readonly idWidth: number;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly s: Style,
    ids: readonly string[],
    private readonly live = out.isTTY === true,
    /** The agent steps: their lines count turns and tool calls. */
    private readonly agents: ReadonlySet<string> = new Set(),
  ) {
    this.idWidth = Math.min(30, Math.max(8, ...ids.map((id) => id.length)));
    if (this.live) this.timer = setInterval(() => this.redraw(), 100);
  }

  onEvent(e: EventRecord): void {
    if (!e.stepId) return;
    let line = this.byId.get(e.stepId);
    if (!line) {
      line = {
        id: e.stepId,
        state: "running",
        attempt: 1,
        started: Date.now(),
        ended: 0,
        note: "",
        items: null,
        iteration: 0,
        agent: this.agents.has(e.stepId),
        calls: 0,
        child: null,
      };
      this.byId.set(e.stepId, line);
      this.lines.push(line);
    }
    if (e.scope === null) this.onStepEvent(line, e);
    else this.onUnitEvent(line, e, e.scope);
    if (this.live) this.redraw();
  }

  /** An event of an item or iteration: it moves the step's tally, or names its iteration. */
  private onUnitEvent(line: Line, e: EventRecord, scope: string): void {
    const items = line.items;
    if (items?.scopes.has(scope)) {
      const next = ITEM_STATE[e.type];
      const before = items.states.get(scope);
      if (next === undefined || next === before) return;
      if (before) items.counts[before]--;
      items.counts[next]++;
      items.states.set(scope, next);
    } else if (/^#\d+\//.test(scope)) {
      // A rerun's reused calls (of the turns before its --from) count as the agent's calls too.
      if (e.type === "step_started" || e.type === "step_reused") line.calls++;
    } else if (/^#\d+$/.test(scope)) {
      if (e.type === "step_started") line.iteration = Number(scope.slice(1));
      if (e.type === "child_started" && typeof e.data?.childRun === "string")
        line.child = e.data.childRun;
    }
  }

  /** An event of the step itself. */
  private onStepEvent(line: Line, e: EventRecord): void {
    const data = e.data ?? {};
    switch (e.type) {
      case "expanded": {
        const keys = Array.isArray(data.keys) ? data.keys.map(String) : [];
        line.items = {
          total: typeof data.count === "number" ? data.count : keys.length,
          scopes: new Set(keys.map(itemScope)),
          states: new Map(),
          counts: { running: 0, succeeded: 0, failed: 0, skipped: 0, cancelled: 0 },
        };
        break;
      }
      case "child_started":
        if (typeof data.childRun === "string") line.child = data.childRun;
        break;
      case "attempt_failed":
        if (data.next == null) break;
        line.attempt = (e.attempt ?? line.attempt) + 1;
        line.note = `${String(data.kind)}${data.fallback ? ` → ${String(data.fallback)}` : ", retrying"}`;
        if (!this.live)
          this.print(
            line,
            `attempt ${e.attempt} failed (${String(data.kind)}): ${String(data.message)}`,
          );
        break;
      case "step_succeeded":
      case "step_cached":
      case "step_reused":
        this.end(line, e.type === "step_cached" ? "cached" : "succeeded", "");
        break;
      case "step_failed":
        this.end(
          line,
          data.continued ? "continued" : "failed",
          `${String(data.kind)}: ${String(data.message)}`,
        );
        break;
      case "step_skipped":
        this.end(line, "skipped", "");
        break;
      case "step_cancelled":
        this.end(line, "cancelled", "");
        break;
    }
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.live) this.redraw();
  }

  private end(line: Line, state: Line["state"], note: string): void {
    line.state = state;
    line.ended = Date.now();
    line.note = note;
    if (!this.live) this.print(line);
  }

  private print(line: Line, override?: string): void {
    this.out.write(this.render(line, override) + "\n");
  }

  private render(line: Line, override?: string): string {
    const s = this.s;
    const icon = {
      running: s.blue("…"),
      succeeded: s.green("✓"),
      cached: s.green("✓"),
      failed: s.red("✗"),
      continued: s.yellow("✗"),
      skipped: s.dim("↷"),
      cancelled: s.yellow("⊘"),
    }[line.state];
    const ms = (line.ended || Date.now()) - line.started;
    const parts = [icon, line.id.padEnd(this.idWidth), s.dim(duration(ms))];
    if (line.state === "cached") parts.push(s.dim("cached"));
    if (line.state === "continued") parts.push(s.yellow("failed, continued"));
    if (line.state === "skipped" || line.state === "cancelled") parts.push(s.dim(line.state));
    if (line.attempt > 1) parts.push(s.dim(`attempt ${line.attempt}`));
    if (line.items) parts.push(...this.tally(line.items, parts));
    if (line.agent && line.iteration > 0) {
      const turns = line.ended
        ? `${line.iteration} turn${line.iteration > 1 ? "s" : ""}`
        : `turn ${line.iteration}`;
      parts.push(`${turns} · ${line.calls} tool call${line.calls === 1 ? "" : "s"}`);
    } else if (line.iteration > 0)
      parts.push(
        line.ended
          ? `${line.iteration} iteration${line.iteration > 1 ? "s" : ""}`
          : `iteration ${line.iteration}`,
      );
    let note = override ?? (line.note || (line.child ? `child run ${line.child}` : ""));
    if (note && this.live) {
      // A redrawn line must fit on one row, or moving the cursor up would miss the wrapped part.
      const room = this.columns() - used(parts) - 1;
      if (room < 4) note = "";
      else if (note.length > room) note = note.slice(0, room - 1) + "…";
    }
    if (note) parts.push(line.state === "failed" ? s.red(note) : s.dim(note));
    return parts.join("  ");
  }

  /**
   * A map step's items: `40/42  38 ✓ 2 ✗` (ended of all, succeeded, failed; a cached item
   * succeeded), then those running, cancelled and skipped when there are any and, on a terminal,
   * they fit.
   */
  private tally(items: Items, before: readonly string[]): string[] {
    const s = this.s;
    const c = items.counts;
    const ended = c.succeeded + c.failed + c.skipped + c.cancelled;
    const parts = [
      `${ended}/${items.total}`,
      `${c.succeeded} ${s.green("✓")} ${c.failed} ${s.red("✗")}`,
    ];
    const more = [
      c.running ? s.blue(`${c.running} running`) : "",
      c.cancelled ? s.yellow(`${c.cancelled} cancelled`) : "",
      c.skipped ? s.dim(`${c.skipped} skipped`) : "",
    ];
    for (const part of more) {
      if (part && (!this.live || used([...before, ...parts, part]) < this.columns()))
        parts.push(part);
    }
    return parts;
  }

  private columns(): number {
    return this.out.columns ?? 100;
  }

  private redraw(): void {
    let text = this.drawn > 0 ? `\u001b[${this.drawn}A` : "";
    for (const line of this.lines) text += `\u001b[2K${this.render(line)}\n`;
    this.drawn = this.lines.length;
    this.out.write(text);
  }
}

const COLOUR_CODE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** Columns the parts of a line take, with the two spaces after each. */
function used(parts: readonly string[]): number {
  return parts.reduce((n, p) => n + visibleLength(p) + 2, 0);
}

/** Characters a terminal shows for a string with colour codes. */
function visibleLength(text: string): number {
  return text.replace(COLOUR_CODE, "").length;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

/** The workflow's agent steps, whose lines count turns and tool calls. */
export function agentIds(workflow: Workflow): Set<string> {
  return new Set(
    Object.entries(workflow.steps)
      .filter(([, step]) => step.type === "agent")
      .map(([id]) => id),
  );
}
