// What a tool printed during one attempt (console.*, ctx.log), kept with the attempt's record
// (docs/format.md, "Tools"): redacted like everything recorded, and cut at OUTPUT_MAX characters.

/** The most of a tool's output an attempt keeps; what follows is counted, not kept. */
export const OUTPUT_MAX = 64 * 1024;

export class AttemptOutput {
  private text = "";
  private dropped = 0;

  add(chunk: string): void {
    const room = Math.max(0, OUTPUT_MAX - this.text.length);
    this.text += chunk.length <= room ? chunk : chunk.slice(0, room);
    this.dropped += Math.max(0, chunk.length - room);
  }

  /** The output as recorded; undefined when the tool printed nothing. */
  value(): string | undefined {
    if (this.text === "" && this.dropped === 0) return undefined;
    return this.dropped > 0
      ? `${this.text}\n… ${this.dropped} more characters were printed and not kept`
      : this.text;
  }
}
