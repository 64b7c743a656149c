// Offset ↔ position conversion with LSP semantics: zero-based lines and UTF-16 characters;
// "\n", "\r\n" and a lone "\r" each end a line.

export interface Position {
  readonly line: number;
  readonly character: number;
}

export class LineIndex {
  /** Offset at which each line starts. */
  private readonly starts: number[];

  constructor(
    readonly text: string,
    starts?: number[],
  ) {
    this.starts = starts ?? [0];
    if (!starts) scanLines(text, 0, text.length, this.starts);
  }

  /**
   * The index of `text`, which is this index's text with `[start, oldEnd)` replaced by
   * `[start, newEnd)` of `text`: only the edited lines are scanned again.
   */
  afterEdit(text: string, start: number, oldEnd: number, newEnd: number): LineIndex {
    const delta = newEnd - oldEnd;
    // A line start s depends on the characters at s - 1 and s only.
    const from = Math.max(0, start - 1);
    const to = Math.min(text.length, newEnd + 1);
    const starts: number[] = [];
    for (const s of this.starts) {
      if (s >= start) break;
      starts.push(s);
    }
    if (starts.length === 0) starts.push(0);
    scanLines(text, from, to, starts);
    const last = starts[starts.length - 1]!;
    for (let i = upperBound(this.starts, oldEnd + 1); i < this.starts.length; i++) {
      const s = this.starts[i]! + delta;
      if (s > last && s > to) starts.push(s);
    }
    return new LineIndex(text, starts);
  }

  get lineCount(): number {
    return this.starts.length;
  }

  position(offset: number): Position {
    let o = Math.max(0, Math.min(offset, this.text.length));
    // Between the "\r" and "\n" of a line break is still the end of that line.
    if (this.text.charCodeAt(o) === 10 && this.text.charCodeAt(o - 1) === 13) o--;
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - this.starts[lo]! };
  }

  offset(position: Position): number {
    if (position.line >= this.starts.length) return this.text.length;
    const start = this.starts[Math.max(0, position.line)]!;
    const next = this.starts[position.line + 1] ?? this.text.length + 1;
    return Math.min(start + Math.max(0, position.character), next - 1, this.text.length);
  }
}

/** Pushes the start of each line that a line break in `[from, to)` of `text` ends. */
function scanLines(text: string, from: number, to: number, starts: number[]): void {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c === 13) {
      if (text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    }
  }
}

/** The first index whose value is greater than `value`. */
function upperBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
