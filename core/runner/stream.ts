// Streamed model replies (docs/dev/authoring.md, "Streaming"). Chunks never enter the record: an
// attempt keeps the assembled reply, redacted as a whole, and on its meta `stream` the timing and
// the boundaries of its pieces in that redacted text, from which `keel replay --stream` cuts the
// chunks again. A live print (`keel run --stream`, `--events`) redacts as it goes by holding back
// the tail that may still turn out to be the start of a secret.
import type { StreamTiming } from "./effects";
import { StepError } from "./errors";
import type { Redactor } from "./redact";

/** What an attempt's meta keeps of a streamed reply, as `meta.stream`. */
export interface StreamMeta {
  /** Milliseconds from the call's start to its first chunk; null when no chunk came. */
  readonly ttftMs: number | null;
  /** How many chunks the provider sent. */
  readonly chunks: number;
  /**
   * The recorded reply cut in pieces, each [length, ms since the call's start]: the lengths add up
   * to the redacted reply's length. A chunk boundary inside a secret moves to the secret's mark's
   * edge, and a chunk left empty by that is dropped, so there may be fewer parts than chunks.
   */
  readonly parts: readonly (readonly [number, number])[];
  /** The redacted reply text, when the recorded output is not that text (a JSON reply). */
  readonly text?: string;
}

/** The `stream` meta of a streamed reply whose raw text is `raw` and recorded output `output`. */
export function streamMeta(
  timing: StreamTiming,
  raw: string,
  output: unknown,
  redact: (s: string) => string,
): StreamMeta {
  const text = redact(raw);
  const parts: [number, number][] = [];
  let end = 0;
  let rawEnd = 0;
  const last = timing.chunks.length - 1;
  timing.chunks.forEach(([length, ms], i) => {
    rawEnd += length;
    const at =
      i === last || rawEnd >= raw.length
        ? text.length
        : text === raw
          ? rawEnd
          : // Where the redacted text of the reply so far stops agreeing with the whole: a secret
            // the chunk ends in is its mark (cut off) or not yet redacted (before the mark).
            Math.max(end, commonPrefix(text, redact(raw.slice(0, rawEnd))));
    if (at > end) {
      parts.push([at - end, ms]);
      end = at;
    }
  });
  return {
    ttftMs: timing.ttftMs,
    chunks: timing.chunks.length,
    parts,
    ...(output === raw ? {} : { text }),
  };
}

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** A recorded chunk: its text and when it came, in ms since the call's start. */
export interface RecordedChunk {
  readonly text: string;
  readonly ms: number;
}

/**
 * The chunks of a recorded streamed attempt, cut from its recorded text by `meta.stream.parts`;
 * undefined when the attempt was not streamed or its record does not add up.
 */
export function recordedChunks(
  meta: Readonly<Record<string, unknown>> | null,
  output: unknown,
): RecordedChunk[] | undefined {
  const stream = meta?.stream as Partial<StreamMeta> | undefined;
  if (!stream || !Array.isArray(stream.parts)) return undefined;
  const text = typeof stream.text === "string" ? stream.text : output;
  if (typeof text !== "string") return undefined;
  const chunks: RecordedChunk[] = [];
  let at = 0;
  for (const part of stream.parts) {
    const [length, ms] = part as [unknown, unknown];
    if (typeof length !== "number" || typeof ms !== "number") return undefined;
    chunks.push({ text: text.slice(at, at + length), ms });
    at += length;
  }
  return at === text.length ? chunks : undefined;
}

/**
 * One live stream's text, redacted as it arrives: what `push` returns may be printed at once.
 * The rule: the last (longest secret form − 1) characters received are held back, since they
 * may be the start of a secret whose rest has not arrived; the cut is moved past any whole
 * secret it would split; the text before the cut is redacted and released. `end` releases the
 * rest, redacted. A secret split across any number of chunks is therefore printed as its mark.
 */
export class LiveRedaction {
  private raw = "";
  private released = 0;

  constructor(private readonly redactor: Redactor) {}

  push(text: string): string {
    this.raw += text;
    const hold = Math.max(0, this.redactor.longest - 1);
    const cut = this.redactor.safeCut(this.raw, Math.max(this.released, this.raw.length - hold));
    return this.release(cut);
  }

  end(): string {
    return this.release(this.raw.length);
  }

  private release(cut: number): string {
    if (cut <= this.released) return "";
    const piece = this.raw.slice(this.released, cut);
    this.released = cut;
    return this.redactor.text(piece);
  }
}

/**
 * The error an attempt records when its streamed call was stopped by its time limit or a cancel
 * after `received` arrived: a copy carrying it as `partial` (the signal's error is shared by
 * every step it stops, so it is never changed). Other errors come with their partial already.
 */
export function withPartial(err: StepError, received: string): StepError {
  if (received === "" || err.partial !== undefined) return err;
  if (err.kind !== "timeout" && err.kind !== "cancelled") return err;
  const copy = new StepError(err.kind, err.message, err.retryAfterMs);
  copy.partial = received;
  return copy;
}
