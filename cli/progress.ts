// Live progress of a run in the terminal, from the run's events. On a terminal, one line per step
// that has started, redrawn in place (state, duration, attempt, cached); otherwise one line per
// step as it ends, so logs stay readable.
import type { EventRecord } from "@keel/core/record/records";
import type { Style } from "./output";

interface Line {
  id: string;
  state: "running" | "succeeded" | "failed" | "skipped" | "cancelled" | "cached" | "continued";
  attempt: number;
  started: number;
  ended: number;
  note: string;
}

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
      };
      this.byId.set(e.stepId, line);
      this.lines.push(line);
    }
    const data = e.data ?? {};
    switch (e.type) {
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
    if (this.live) this.redraw();
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
    let note = override ?? line.note;
    if (note && this.live) {
      // A redrawn line must fit on one row, or moving the cursor up would miss the wrapped part.
      const used = parts.reduce((n, p) => n + visibleLength(p) + 2, 0);
      const room = (this.out.columns ?? 100) - used - 1;
      if (room < 4) note = "";
      else if (note.length > room) note = note.slice(0, room - 1) + "…";
    }
    if (note) parts.push(line.state === "failed" ? s.red(note) : s.dim(note));
    return parts.join("  ");
  }

  private redraw(): void {
    let text = this.drawn > 0 ? `\u001b[${this.drawn}A` : "";
    for (const line of this.lines) text += `\u001b[2K${this.render(line)}\n`;
    this.drawn = this.lines.length;
    this.out.write(text);
  }
}

const COLOUR_CODE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** Characters a terminal shows for a string with colour codes. */
function visibleLength(text: string): number {
  return text.replace(COLOUR_CODE, "").length;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}
