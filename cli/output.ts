// Terminal output helpers: colour only when the stream is a TTY (NO_COLOR and FORCE_COLOR respected).

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  blue(s: string): string;
  green(s: string): string;
}

export function styleFor(stream: NodeJS.WriteStream): Style {
  // https://no-color.org: a non-empty NO_COLOR turns colour off; FORCE_COLOR=0 too.
  const force = process.env.FORCE_COLOR;
  const on =
    force !== undefined && force !== ""
      ? force !== "0"
      : !process.env.NO_COLOR && stream.isTTY === true;
  const wrap = (open: number, close: number) => (s: string) =>
    on ? `\u001b[${open}m${s}\u001b[${close}m` : s;
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    blue: wrap(34, 39),
    green: wrap(32, 39),
  };
}

/** Raised for bad usage; main prints the message and exits with 2. */
export class UsageError extends Error {}
