// Where the cursor is in the YAML structure, read from the text around it rather than from the
// parse: while a user types, the line being written is usually not valid YAML yet. The path
// comes from indentation (and `- ` list items); block scalars (`|`, `>`) are recognised so that
// their lines are read as values, not keys.
import type { Span } from "../model/diagnostic";

export interface CursorContext {
  /** Keys from the root to the mapping (or list) the cursor writes into; numbers are list items. */
  readonly path: readonly (string | number)[];
  /** "key": writing a key (or a plain list item); "value": writing the value of `key`. */
  readonly at: "key" | "value";
  readonly key?: string;
  /** The value's text from its start to the cursor (the line's text inside a block scalar). */
  readonly valuePrefix: string;
  /** Inside a block scalar of `key`. */
  readonly inBlock: boolean;
  /** Column where the key (or item) being written starts, for snippets. */
  readonly indent: number;
  /** The text of the line before the cursor. */
  readonly before: string;
}

interface Line {
  readonly indent: number;
  /** Column after the `- ` markers; equal to indent without them. */
  readonly content: number;
  readonly dashed: boolean;
  readonly key?: string;
  readonly rest: string;
}

const KEY = /^(?:"([^"]*)"|'([^']*)'|([^\s#'"{[\]},:][^#:]*?))\s*:(?:\s+(.*)|$)/;
const BLOCK = /^[|>][-+0-9]*\s*(#.*)?$/;

function readLine(text: string): Line | undefined {
  const m = /^( *)((?:- +)*)(.*)$/.exec(text)!;
  const rest = m[3]!;
  if (rest.trim() === "" && !m[2]) return undefined;
  if (rest.startsWith("#")) return undefined;
  const k = KEY.exec(rest);
  return {
    indent: m[1]!.length,
    content: m[1]!.length + m[2]!.length,
    dashed: m[2]!.length > 0,
    key: k ? (k[1] ?? k[2] ?? k[3]) : undefined,
    rest: k ? (k[4] ?? "") : rest,
  };
}

export function cursorContext(text: string, offset: number): CursorContext {
  const lineStart =
    Math.max(text.lastIndexOf("\n", offset - 1), text.lastIndexOf("\r", offset - 1)) + 1;
  const before = text.slice(lineStart, offset);
  const lines = text.slice(0, lineStart).split(/\r?\n|\r/);
  lines.pop(); // the empty string after the last line break
  const block = blockOwner(lines, indentOf(before));
  if (block) {
    return {
      path: parentPath(lines.slice(0, block.index), block.line),
      at: "value",
      key: block.line.key,
      valuePrefix: before.trimStart(),
      inBlock: true,
      indent: block.line.content,
      before,
    };
  }
  const here = readLine(before) ?? {
    indent: before.length,
    content: before.length,
    dashed: false,
    rest: "",
  };
  const path = parentPath(lines, here);
  if (here.key !== undefined) {
    return {
      path,
      at: "value",
      key: here.key,
      valuePrefix: here.rest,
      inBlock: false,
      indent: here.content,
      before,
    };
  }
  return {
    path,
    at: "key",
    valuePrefix: here.rest,
    inBlock: false,
    indent: here.content,
    before,
  };
}

function indentOf(s: string): number {
  return s.length - s.trimStart().length;
}

/** The `key: |` line whose block scalar holds a line indented by `indent`, if any. */
function blockOwner(
  lines: readonly string[],
  indent: number,
): { line: Line; index: number } | undefined {
  let min = indent;
  for (let i = lines.length - 1; i >= 0; i--) {
    const raw = lines[i]!;
    if (raw.trim() === "") continue;
    const own = indentOf(raw);
    if (own >= min) continue;
    const line = readLine(raw);
    if (line?.key !== undefined)
      return BLOCK.test(line.rest.trim()) ? { line, index: i } : undefined;
    min = own;
  }
  return undefined;
}

/** Keys (and list items) enclosing a line, from the lines above it. */
function parentPath(
  lines: readonly string[],
  child: Pick<Line, "indent" | "content" | "dashed">,
): (string | number)[] {
  const path: (string | number)[] = [];
  // Column the next parent must be left of; a list item's parent may share its dash's column.
  let column = child.dashed ? child.indent : child.content;
  let dashAt = child.dashed ? child.indent : -1;
  let items = 0;
  for (let i = lines.length - 1; i >= 0 && column > 0; i--) {
    const line = readLine(lines[i]!);
    if (!line) continue;
    if (line.dashed && line.indent === dashAt) {
      items++;
      continue;
    }
    if (
      line.key !== undefined &&
      (line.content < column || (dashAt >= 0 && line.content === dashAt && !line.dashed))
    ) {
      if (dashAt >= 0) {
        path.unshift(items);
        dashAt = -1;
        items = 0;
      }
      path.unshift(line.key);
      column = line.dashed ? line.indent : line.content;
      if (line.dashed) dashAt = line.indent;
    } else if (line.dashed && line.indent < column && line.content >= column && dashAt < 0) {
      // The cursor's mapping is the item that this dash starts.
      dashAt = line.indent;
      column = line.indent;
    }
  }
  if (dashAt >= 0) path.unshift(items);
  return path;
}

/** The span of the word ending at `offset` that a completion replaces. */
export function wordBefore(text: string, offset: number, pattern: RegExp): Span {
  const m = pattern.exec(text.slice(Math.max(0, offset - 200), offset));
  return { start: offset - (m ? m[0].length : 0), end: offset };
}
