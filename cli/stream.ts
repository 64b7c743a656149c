// The live text of streamed steps (docs/cli.md, "keel run --stream"): each stream redacted as
// it arrives (core/runner/stream.ts, LiveRedaction), then printed for a person (`--stream`) or
// written as `{"chunk": …}` lines (`--events`). Nothing here is recorded.
import type { LiveChunk, NodeEffectsOptions } from "@keel/core/runner/node-effects";
import { Redactor } from "@keel/core/runner/redact";
import { LiveRedaction, recordedChunks } from "@keel/core/runner/stream";
import type { RecordedRun } from "@keel/core/replay/record";
import { writeEventsLine } from "./summary";

type StreamIds = Omit<LiveChunk, "text">;

/** Where redacted live text goes: a piece of a stream, and its end. */
export interface ChunkSink {
  text(ids: StreamIds, text: string): void;
  end(ids: StreamIds): void;
}

const keyOf = (c: StreamIds) => JSON.stringify([c.runId, c.stepId, c.scope, c.attempt]);

/**
 * The node effects' chunk callbacks for a run whose secrets are `secrets`: every stream is
 * redacted on its own and passed to `sink`; `close` ends the streams still open.
 */
export function liveStreams(
  secrets: Readonly<Record<string, string>>,
  sink: ChunkSink,
): Required<Pick<NodeEffectsOptions, "onChunk" | "onStreamEnd">> & { close(): void } {
  const redactor = new Redactor(secrets);
  const open = new Map<string, { ids: StreamIds; live: LiveRedaction }>();
  const end = (c: StreamIds) => {
    const key = keyOf(c);
    const stream = open.get(key);
    if (!stream) return;
    open.delete(key);
    const rest = stream.live.end();
    if (rest !== "") sink.text(stream.ids, rest);
    sink.end(stream.ids);
  };
  return {
    onChunk: (c) => {
      const key = keyOf(c);
      let stream = open.get(key);
      if (!stream) {
        const { text: _text, ...ids } = c;
        stream = { ids, live: new LiveRedaction(redactor) };
        open.set(key, stream);
      }
      const text = stream.live.push(c.text);
      if (text !== "") sink.text(stream.ids, text);
    },
    onStreamEnd: end,
    close: () => [...open.values()].forEach((s) => end(s.ids)),
  };
}

/** `--events`: one `{"chunk": …}` line per piece (core/protocol/cli.ts). */
export const chunkLines: ChunkSink = {
  text: (ids, text) => writeEventsLine({ chunk: { ...ids, text } }),
  end: () => undefined,
};

/**
 * `--stream`: the text as it arrives. One stream alone, of a step's first attempt, is printed
 * bare; a map's item or loop's iteration, a retry, or any stream while another is open is
 * printed by whole lines, each prefixed by its unit (`summarize[doc-3] │ …`); a bare stream
 * that another joins ends its line and goes on prefixed.
 */
export class StreamPrinter implements ChunkSink {
  private readonly streams = new Map<
    string,
    { label: string; prefixed: boolean; pending: string; midLine: boolean }
  >();

  constructor(private readonly write: (text: string) => void) {}

  text(ids: StreamIds, text: string): void {
    const key = keyOf(ids);
    let s = this.streams.get(key);
    if (!s) {
      const unit = `${ids.stepId ?? "?"}${ids.scope ?? ""}`;
      const retry = ids.attempt !== null && ids.attempt > 1;
      s = {
        label: retry ? `${unit} (attempt ${ids.attempt})` : unit,
        prefixed: ids.scope !== null || retry,
        pending: "",
        midLine: false,
      };
      this.streams.set(key, s);
      if (this.streams.size > 1) {
        for (const other of this.streams.values()) {
          if (!other.prefixed && other.midLine) this.write("\n");
          other.prefixed = true;
          other.midLine = false;
        }
      }
    }
    if (!s.prefixed) {
      this.write(text);
      s.midLine = !text.endsWith("\n");
      return;
    }
    const lines = (s.pending + text).split("\n");
    s.pending = lines.pop()!;
    for (const line of lines) this.write(`${s.label} │ ${line}\n`);
  }

  end(ids: StreamIds): void {
    const key = keyOf(ids);
    const s = this.streams.get(key);
    if (!s) return;
    this.streams.delete(key);
    if (s.prefixed && s.pending !== "") this.write(`${s.label} │ ${s.pending}\n`);
    else if (!s.prefixed && s.midLine) this.write("\n");
  }
}

/**
 * `keel replay --stream`: the chunks of every streamed attempt of a recorded run and of its child
 * runs, cut from the recorded (redacted) replies by their recorded boundaries, interleaved and
 * paced as they arrived (each at its attempt's start plus its recorded offset). Nothing runs.
 */
export async function replayChunks(record: RecordedRun, sink: ChunkSink): Promise<void> {
  const timeline: { at: number; ids: StreamIds; text: string; last: boolean }[] = [];
  const collect = (run: RecordedRun) => {
    for (const a of run.attempts) {
      const output = a.outputHash ? run.value(a.outputHash) : null;
      const chunks = recordedChunks(a.meta, output);
      if (!chunks) continue;
      const ids = { runId: a.runId, stepId: a.stepId, scope: a.scope, attempt: a.attempt };
      const start = Date.parse(a.startedAt);
      chunks.forEach((c, i) =>
        timeline.push({ at: start + c.ms, ids, text: c.text, last: i === chunks.length - 1 }),
      );
    }
    for (const child of run.children.values()) collect(child);
  };
  collect(record);
  timeline.sort((x, y) => x.at - y.at);
  let clock = timeline[0]?.at ?? 0;
  for (const c of timeline) {
    if (c.at > clock) await new Promise((resolve) => setTimeout(resolve, c.at - clock));
    clock = Math.max(clock, c.at);
    sink.text(c.ids, c.text);
    if (c.last) sink.end(c.ids);
  }
}
