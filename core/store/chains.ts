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
 * The message lists of inputs a store expanded lately, by hash, or is expanding: expanding turn
 * t then stops at turn t − 1 when it was read before or is being read (a replay, `keel show`,
 * the debugger read a run's turns together), so reading a run's turns costs the size of each,
 * not the length of its chain. Lists are never changed once kept.
 */
export class ExpandedLinks {
  private readonly lists = new Map<string, Promise<readonly unknown[]>>();

  constructor(private readonly size = 256) {}

  get(hash: string): Promise<readonly unknown[]> | undefined {
    return this.lists.get(hash);
  }

  set(hash: string, list: Promise<readonly unknown[]>): void {
    if (this.lists.size >= this.size) this.lists.delete(this.lists.keys().next().value!);
    this.lists.set(hash, list);
  }

  forget(hash: string): void {
    this.lists.delete(hash);
  }
}

/**
 * The whole JSON text of a stored text: itself, or a link's base expanded and extended. `get`
 * reads a stored text by hash (unexpanded); `known` keeps what was expanded for the next read.
 * The result is checked against `hash`: a link whose base is missing or differs is a damaged
 * record, said as such, never a wrong value.
 */
export async function expandStored(
  hash: string,
  text: string,
  get: (hash: string) => Promise<string | undefined>,
  known?: ExpandedLinks,
): Promise<string> {
  if (!text.startsWith(MARK)) return text;
  const pending = known?.get(hash);
  if (pending) return wholeText(JSON.parse(text.slice(1)) as Link, [...(await pending)]);
  // Known before any wait, so that reads of the turns after this one wait for it.
  const expanding = expand(hash, text, get, known);
  const messages = expanding.then((r) => r.messages);
  // A failed read is not kept, and is told to its own caller (not as an unhandled rejection).
  messages.catch(() => known?.forget(hash));
  known?.set(hash, messages);
  return (await expanding).whole;
}

async function expand(
  hash: string,
  text: string,
  get: (hash: string) => Promise<string | undefined>,
  known: ExpandedLinks | undefined,
): Promise<{ whole: string; messages: readonly unknown[] }> {
  const damaged = (why: string) => new Error(`the record is damaged: value ${hash} ${why}`);
  // Walk back to an input that is whole, or one expanded (or being expanded) before.
  const links: Link[] = [];
  let messages: unknown[];
  for (let at = text; ;) {
    const link = JSON.parse(at.slice(1)) as Link;
    links.push(link);
    const seen = known?.get(link.base);
    if (seen) {
      messages = [...(await seen)];
      break;
    }
    const next = await get(link.base);
    if (next === undefined) throw damaged(`extends ${link.base}, which is missing`);
    if (!next.startsWith(MARK)) {
      messages = (JSON.parse(next) as { messages?: unknown[] }).messages ?? [];
      break;
    }
    at = next;
  }
  // Each link from there on keeps the first `keep` messages and appends its own.
  for (let i = links.length - 1; i >= 0; i--) {
    const link = links[i]!;
    if (link.keep > messages.length) throw damaged(`keeps more messages than its base has`);
    messages.length = link.keep;
    for (const m of link.append) messages.push(m);
  }
  const whole = JSON.stringify({ ...links[0]!.fields, messages });
  if (createHash("sha256").update(whole).digest("hex") !== hash)
    throw damaged("does not expand to its hash");
  return { whole, messages };
}

/** A link's whole text from its own list of messages, already expanded and checked. */
function wholeText(link: Link, messages: readonly unknown[]): string {
  return JSON.stringify({ ...link.fields, messages });
}
