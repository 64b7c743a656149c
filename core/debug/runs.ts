// The runs a replay session knows (docs/debugger.md, "Child runs"): the run it was started on and
// the child runs it enters or looks into, each a level (level.ts) made once, with its workflow
// file, the line breakpoints set in that file and the failure filters that are on. A child run is
// read from the store the first time it is needed; Continue reads child runs only when a stop
// could be in one (`descends`).
import { dirname, resolve } from "node:path";
import { unitKey } from "../record/records";
import type { RunStore } from "../store/run-store";
import type { Conditions } from "./conditions";
import { layoutOf } from "./layout";
import { levelOf, type Level } from "./level";
import { FAILURE_FILTERS } from "./moves";
import { WorkflowFile, type FileHost } from "./places";
import { loadRecording, type DebugRecording } from "./recording";

/** The `sourceReference` of the root run's recorded text; child runs' follow it. */
const RECORDED_SOURCE = 1;

export class Runs {
  /** The run the session was started on. */
  readonly root: Level;
  /** Every level made: the root, then the child runs' in the order they were made. */
  readonly opened: Level[] = [];
  /** Child runs by id, read from the store the first time they are needed. */
  private readonly recordings = new Map<string, Promise<DebugRecording | undefined>>();
  /** Child runs' levels by run id. */
  private readonly levels = new Map<string, Promise<Level | undefined>>();
  /** The recorded texts shown read-only, by `sourceReference`. */
  private readonly sources = new Map<number, WorkflowFile>();
  /** Line breakpoints by file (resolved path), then by step id. */
  private readonly lineBreakpoints = new Map<string, ReadonlyMap<string, number[]>>();
  private filters: string[] = [];

  constructor(
    rec: DebugRecording,
    private readonly store: RunStore,
    private readonly conditions: Conditions,
    private readonly host: FileHost,
  ) {
    this.root = this.made(rec, "");
  }

  private made(rec: DebugRecording, path: string): Level {
    const ref = RECORDED_SOURCE + this.sources.size;
    const file = new WorkflowFile(rec.run.workflowPath, rec.source, rec.run.id, ref, this.host);
    this.sources.set(ref, file);
    const level = levelOf(rec, file, this.conditions, path);
    this.opened.push(level);
    this.configure(level);
    return level;
  }

  /** The workflow file whose recorded text has this `sourceReference`. */
  source(ref: number): WorkflowFile | undefined {
    return this.sources.get(ref);
  }

  /** A child run's record, read from the store once; undefined when the store lacks it. */
  childRun(id: string): Promise<DebugRecording | undefined> {
    let read = this.recordings.get(id);
    if (!read) {
      read = loadRecording(this.store, id).catch(() => undefined);
      this.recordings.set(id, read);
    }
    return read;
  }

  /**
   * The level of the child run started at event i of `parent` (its `child_started`), made once
   * per child run; undefined when event i starts none or the store does not have the child run.
   */
  childAt(parent: Level, i: number): Promise<Level | undefined> {
    const e = parent.rec.events[i];
    const id = e?.type === "child_started" ? e.data?.childRun : undefined;
    if (typeof id !== "string" || e?.stepId == null) return Promise.resolve(undefined);
    let made = this.levels.get(id);
    if (!made) {
      const path = `${parent.path}${unitKey(e.stepId, e.scope)} › `;
      made = this.childRun(id).then((rec) => (rec ? this.made(rec, path) : undefined));
      this.levels.set(id, made);
    }
    return made;
  }

  /** The line breakpoints of one file (a resolved path), by step id. */
  setLineBreakpoints(path: string, byStep: ReadonlyMap<string, number[]>): void {
    this.lineBreakpoints.set(path, byStep);
    for (const level of this.opened) this.configure(level);
  }

  setFilters(filters: string[]): void {
    this.filters = filters;
    for (const level of this.opened) this.configure(level);
  }

  /** Sets a level's line breakpoints (those of its file) and failure filters. */
  private configure(level: Level): void {
    const path = resolve(level.rec.run.workflowPath);
    level.moves.setLineBreakpoints(this.lineBreakpoints.get(path) ?? new Map());
    level.moves.setFilters(this.filters);
  }

  /**
   * Whether Continue looks into child runs: a failure filter is on, or a line breakpoint is set
   * in another file than the root run's (a child workflow's).
   */
  descends(): boolean {
    const root = resolve(this.root.rec.run.workflowPath);
    if (this.filters.some((f) => FAILURE_FILTERS.some((x) => x.filter === f))) return true;
    for (const [path, byStep] of this.lineBreakpoints)
      if (path !== root && byStep.size) return true;
    return false;
  }

  /**
   * The child workflow files the root run's workflow reaches through `uses` (children's children
   * too), read from disk: where breakpoints in a child run can be set.
   */
  childFiles(): Set<string> {
    const found = new Set<string>();
    const queue: { path: string; text: string }[] = [
      { path: resolve(this.root.rec.run.workflowPath), text: this.root.rec.source },
    ];
    for (let next = queue.shift(); next; next = queue.shift()) {
      for (const uses of layoutOf(next.text).uses) {
        const path = resolve(dirname(next.path), uses);
        if (found.has(path)) continue;
        found.add(path);
        const text = this.host.readText(path);
        if (text !== undefined) queue.push({ path, text });
      }
    }
    return found;
  }
}
