// Transcripts by reference (docs/dev/agents.md, "Storage"): an agent's turn sends the whole
// conversation again, so storing each model call's input by value would grow quadratically with
// the turns. A turn's input is stored instead as a link: the previous turn's input (by its hash),
// how many of its messages this one keeps, and what it appends. The link is stored under the hash
// of the whole input's JSON text, and every store's `blob()` gives the whole text back, so a
// value's reference, the cache key and replay's comparisons are what they would be by value.
import { createHash } from "node:crypto";

/** Starts a link's stored text: a JSON text never starts with it. */
const MARK = "\u0001";

interface Link {
  /** The reference of the input this one extends. */
  readonly base: string;
  /** How many of the base's messages come first in this one. */
  readonly keep: number;
  /** The messages after them. */
  readonly append: readonly unknown[];
  /** Every other field of the input, in order; `messages` holds null. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * The stored text of `value` (an object with a `messages` list, as recorded) as a link to
 * `base`, whose first `keep` messages it shares; undefined when `value` has no such list.
 */
export function linkText(
  value: Readonly<Record<string, unknown>>,
  base: string,
  keep: number,
): string | undefined {
  const messages = value.messages;
  if (!Array.isArray(messages) || keep > messages.length) return undefined;
  const link: Link = {
    base,
    keep,
    append: messages.slice(keep),
    fields: { ...value, messages: null },
  };
  return MARK + JSON.stringify(link);
}

/**
 * The whole JSON text of a stored text: itself, or a link's base expanded and extended. `get`
 * reads a stored text by hash (unexpanded). The result is checked against `hash`: a link whose
 * base is missing or differs is a damaged record, said as such, never a wrong value.
 */
export async function expandStored(
  hash: string,
  text: string,
  get: (hash: string) => Promise<string | undefined>,
): Promise<string> {
  if (!text.startsWith(MARK)) return text;
  const links: Link[] = [];
  let at = text;
  while (at.startsWith(MARK)) {
    const link = JSON.parse(at.slice(1)) as Link;
    links.push(link);
    const next = await get(link.base);
    if (next === undefined)
      throw new Error(
        `the record is damaged: value ${hash} extends ${link.base}, which is missing`,
      );
    at = next;
  }
  // The oldest input is whole; each link from there on extends the one before.
  let messages = (JSON.parse(at) as { messages?: unknown[] }).messages ?? [];
  let whole = at;
  for (let i = links.length - 1; i >= 0; i--) {
    const link = links[i]!;
    messages = [...messages.slice(0, link.keep), ...link.append];
    whole = JSON.stringify({ ...link.fields, messages });
  }
  if (createHash("sha256").update(whole).digest("hex") !== hash)
    throw new Error(`the record is damaged: value ${hash} does not expand to its hash`);
  return whole;
}
