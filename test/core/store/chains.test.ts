// Transcripts by reference (core/store/chains.ts): a turn's input stored as a link to the one
// before reads back whole, under the whole input's hash, in order or not, with or without what
// the store expanded before; a damaged chain is said to be damaged, never read as a wrong value.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ExpandedLinks, expandStored, linkText } from "@keel/core/store/chains";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

/** A conversation of `n` turns stored as a chain: each turn's hash and stored text. */
function chain(n: number): { hashes: string[]; stored: Map<string, string>; whole: string[] } {
  const stored = new Map<string, string>();
  const hashes: string[] = [];
  const whole: string[] = [];
  const messages: unknown[] = [{ role: "user", content: "go" }];
  for (let t = 1; t <= n; t++) {
    const input = { provider: "p", messages: [...messages], tools: [{ name: "search" }], turn: t };
    const text = JSON.stringify(input);
    const hash = sha(text);
    stored.set(hash, t === 1 ? text : linkText(input, hashes.at(-1)!, messages.length - 2)!);
    hashes.push(hash);
    whole.push(text);
    messages.push({
      role: "assistant",
      content: `call ${t}`,
      tool_calls: [{ id: `c${t}`, name: "search", arguments: "{}" }],
    });
    messages.push({ role: "tool", content: `result ${t}`, tool_call_id: `c${t}` });
  }
  return { hashes, stored, whole };
}

test("a chain of links reads back each turn's whole input, in any order, with and without a cache", async () => {
  const { hashes, stored, whole } = chain(12);
  const get = async (h: string) => stored.get(h);
  for (const known of [undefined, new ExpandedLinks()]) {
    for (const i of [11, 0, 5, 6, 7, 3, 11])
      assert.equal(await expandStored(hashes[i]!, stored.get(hashes[i]!)!, get, known), whole[i]);
  }
  // In order with a cache, each read stops at the turn before: one stored text read per turn.
  const known = new ExpandedLinks();
  let reads = 0;
  const counting = async (h: string) => {
    reads++;
    return stored.get(h);
  };
  for (let i = 0; i < hashes.length; i++)
    await expandStored(hashes[i]!, stored.get(hashes[i]!)!, counting, known);
  assert.equal(reads, 1, "only turn 2 read its base, turn 1, which is whole");
});

test("a damaged chain is said to be damaged: a missing base, a tampered link, a link kept past its base", async () => {
  const { hashes, stored } = chain(4);
  const missing = new Map(stored);
  missing.delete(hashes[1]!);
  await assert.rejects(
    expandStored(hashes[3]!, stored.get(hashes[3]!)!, async (h) => missing.get(h)),
    /the record is damaged: value .* extends .*, which is missing/,
  );
  const tampered = stored.get(hashes[2]!)!.replace("result 2", "result X");
  const edited = new Map(stored).set(hashes[2]!, tampered);
  await assert.rejects(
    expandStored(hashes[3]!, stored.get(hashes[3]!)!, async (h) => edited.get(h)),
    /does not expand to its hash/,
  );
  const link = JSON.parse(stored.get(hashes[1]!)!.slice(1)) as { keep: number };
  const long = "\u0001" + JSON.stringify({ ...link, keep: 99 });
  await assert.rejects(
    expandStored(hashes[1]!, long, async (h) => stored.get(h)),
    /keeps more messages than its base has/,
  );
});

test("turns read at once wait for the turn before them: each stored text is read once; any order reads right", async () => {
  const { hashes, stored, whole } = chain(30);
  for (const order of [hashes.map((_, i) => i), hashes.map((_, i) => i).reverse()]) {
    const known = new ExpandedLinks();
    let reads = 0;
    const counting = async (h: string) => {
      reads++;
      return stored.get(h);
    };
    const texts = await Promise.all(
      order.map((i) => expandStored(hashes[i]!, stored.get(hashes[i]!)!, counting, known)),
    );
    assert.deepEqual(
      texts,
      order.map((i) => whole[i]),
    );
    // In the order a run's record lists them, turn 2 reads turn 1 and every later turn waits.
    if (order[0] === 0) assert.equal(reads, 1, `${reads} stored texts read for 30 turns`);
  }
});
