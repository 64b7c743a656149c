// Where the replay debugger shows a run's steps (docs/debugger.md, "Breakpoints"): the workflow
// file as it is on disk when it has the step, else the run's recorded text, opened read-only.
// Breakpoints are kept by step id, so a step keeps them across edits; its line is read from the
// file as it is now. The file is parsed only when a frame or a breakpoint needs a step's place (a
// run's own frame does not: the first stop shows without parsing it).
import { Source } from "@vscode/debugadapter";
import type { DebugProtocol } from "@vscode/debugprotocol";
import { basename } from "node:path";
import { layoutOf, type WorkflowLayout } from "./layout";

/** A frame's or a breakpoint's place: its source and its line as the client counts lines. */
export interface Place {
  readonly source: DebugProtocol.Source;
  readonly line: number;
}

/** The workflow file as the current stop sees it: on disk or not, and its layout. */
export interface DiskView {
  readonly onDisk: boolean;
  layout(): WorkflowLayout;
}

/** What a workflow file needs of the session: the file on disk, the Debug Console, lines. */
export interface FileHost {
  /** The file's text, undefined when it does not exist. */
  readText(path: string): string | undefined;
  print(text: string): void;
  /** A zero-based line as the client counts lines. */
  lineToClient(line: number): number;
}

/** One run's workflow file: its recorded text and the file on disk. */
export class WorkflowFile {
  private recordedLayout: WorkflowLayout | undefined;
  /** The layout of the file on disk when it differs from the recorded text, by that text. */
  private disk: { text: string; layout: WorkflowLayout } | undefined;
  private noted = false;
  /** The file on disk as read for the current stop (read again at the next stop). */
  private now: DiskView | undefined;

  constructor(
    /** The file's path as the run recorded it. */
    readonly path: string,
    /** The text the run ran. */
    readonly source: string,
    readonly runId: string,
    /** The `sourceReference` of the recorded text (sourceRequest answers it). */
    readonly sourceReference: number,
    private readonly host: FileHost,
  ) {}

  /** The file is read again at its next use (at every stop). */
  refresh(): void {
    this.now = undefined;
  }

  /** The layout of the recorded text, parsed the first time it is needed. */
  recorded(): WorkflowLayout {
    return (this.recordedLayout ??= layoutOf(this.source));
  }

  /**
   * The layout of the workflow as it is on disk now (re-read when the file changed), or the
   * recorded one when the file is gone. Says once when the file differs from the recorded text.
   */
  current(): DiskView {
    return (this.now ??= this.readDisk());
  }

  private readDisk(): DiskView {
    const text = this.host.readText(this.path);
    if (text === undefined) {
      this.noteOnce(`${this.path} is not on disk: the Call Stack shows the recorded text.\n`);
      return { onDisk: false, layout: () => this.recorded() };
    }
    if (text === this.source) return { onDisk: true, layout: () => this.recorded() };
    this.noteOnce(
      `${basename(this.path)} has changed since run ${this.runId} was recorded: breakpoints match steps by id, and a step that is no longer in the file shows from the recorded text.\n`,
    );
    return {
      onDisk: true,
      layout: () => {
        if (this.disk?.text !== text) this.disk = { text, layout: layoutOf(text) };
        return this.disk.layout;
      },
    };
  }

  private noteOnce(text: string): void {
    if (this.noted) return;
    this.noted = true;
    this.host.print(text);
  }

  /** Where a step is shown: the file on disk when it has the step, else the recorded text. */
  placeOf(id: string): Place | undefined {
    const onDisk = this.current();
    const here = onDisk.onDisk ? onDisk.layout().steps.get(id) : undefined;
    if (here) {
      return {
        source: new Source(basename(this.path), this.path),
        line: this.host.lineToClient(here.keyLine),
      };
    }
    const recorded = this.recorded().steps.get(id);
    if (!recorded) return undefined;
    return { source: this.recordedSource(), line: this.host.lineToClient(recorded.keyLine) };
  }

  /** Where the run's own events are shown: the file's first line. */
  placeOfRun(): Place {
    return {
      source: this.current().onDisk
        ? new Source(basename(this.path), this.path)
        : this.recordedSource(),
      line: this.host.lineToClient(0),
    };
  }

  private recordedSource(): DebugProtocol.Source {
    const s: DebugProtocol.Source = new Source(
      `${basename(this.path)} (as recorded)`,
      undefined,
      this.sourceReference,
      "recorded run",
    );
    s.presentationHint = "deemphasize";
    return s;
  }
}
