// Maps offsets inside a scalar's string value back to offsets in the document text.
// YAML folds lines, strips indentation and decodes escapes, so a value offset is not a text
// offset plus a constant. We align the value with its source: every non-blank character of the
// value is found, in order, in the source; escapes and doubled quotes are decoded as they come.
// Invariant: the map is monotonic and every entry lies inside the scalar's source range.
import type { ScalarNode } from "./parse";

const cache = new WeakMap<ScalarNode, Int32Array>();

/** Returns map where map[i] is the text offset of value character i (map[value.length] = end). */
export function scalarSourceMap(text: string, node: ScalarNode): Int32Array {
  let map = cache.get(node);
  if (!map) {
    map = align(text, node);
    cache.set(node, map);
  }
  return map;
}

function align(text: string, node: ScalarNode): Int32Array {
  const value = typeof node.value === "string" ? node.value : String(node.value);
  const [start, end] = node.range ?? [0, 0, 0];
  const map = new Int32Array(value.length + 1);
  const type = node.type;
  let j = start;
  if (type === "QUOTE_DOUBLE" || type === "QUOTE_SINGLE") j++;
  else if (type === "BLOCK_LITERAL" || type === "BLOCK_FOLDED") {
    while (j < end && text[j] !== "\n" && text[j] !== "\r") j++;
  }
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (type === "QUOTE_DOUBLE" && text[j] === "\\") {
      const next = text[j + 1];
      if (next === "\n" || next === "\r") {
        // An escaped line break adds nothing to the value.
        j += next === "\r" && text[j + 2] === "\n" ? 3 : 2;
        while (text[j] === " " || text[j] === "\t") j++;
        i--;
        continue;
      }
      map[i] = j;
      const len = next === "x" ? 4 : next === "u" ? 6 : next === "U" ? 10 : 2;
      // A \U escape of an astral character is two UTF-16 units in the value.
      if (len === 10 && i + 1 < value.length && isHighSurrogate(c)) map[++i] = j;
      j = Math.min(end, j + len);
      continue;
    }
    if (type === "QUOTE_SINGLE" && c === "'" && text[j] === "'" && text[j + 1] === "'") {
      map[i] = j;
      j += 2;
      continue;
    }
    if (c === " " || c === "\t" || c === "\n") {
      map[i] = Math.min(j, end);
      if (text[j] === c) j++;
      else if (text[j] === "\r" || text[j] === "\n") {
        j += text[j] === "\r" && text[j + 1] === "\n" ? 2 : 1;
        while (text[j] === " " || text[j] === "\t") j++;
      }
      continue;
    }
    let k = j;
    while (k < end && text[k] !== c) k++;
    if (k < end) j = k; // otherwise keep j: never jump past a character we could not find
    map[i] = Math.min(j, end);
    if (j < end) j++;
  }
  map[value.length] = Math.min(Math.max(j, map[value.length - 1] ?? start), end);
  return map;
}

function isHighSurrogate(c: string): boolean {
  const code = c.charCodeAt(0);
  return code >= 0xd800 && code <= 0xdbff;
}
