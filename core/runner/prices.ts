// Cost of a model call, where this table knows the served model: US dollars per million input
// and output tokens, from the providers' published list prices as of 2025-06 (batch, cached-input
// and long-context rates left out). A model not in the table gets no cost rather than a guess.

const PRICES: readonly [prefix: string, input: number, output: number][] = [
  ["gpt-4o-mini", 0.15, 0.6],
  ["gpt-4o", 2.5, 10],
  ["gpt-4.1-nano", 0.1, 0.4],
  ["gpt-4.1-mini", 0.4, 1.6],
  ["gpt-4.1", 2, 8],
  ["o4-mini", 1.1, 4.4],
  ["o3-mini", 1.1, 4.4],
  ["o3", 2, 8],
  ["claude-3-5-haiku", 0.8, 4],
  ["claude-3-5-sonnet", 3, 15],
  ["claude-3-7-sonnet", 3, 15],
  ["claude-sonnet-4", 3, 15],
  ["claude-opus-4", 15, 75],
];

/** The call's cost in US dollars, or null when the model is not in the table. */
export function costUsd(
  model: string | null,
  usage: { input: number; output: number } | null,
): number | null {
  if (!model || !usage) return null;
  // The longest matching prefix wins: "gpt-4o-mini-2024-07-18" is gpt-4o-mini, not gpt-4o.
  let best: (typeof PRICES)[number] | undefined;
  for (const entry of PRICES) {
    if (model.startsWith(entry[0]) && (!best || entry[0].length > best[0].length)) best = entry;
  }
  if (!best) return null;
  return (usage.input * best[1] + usage.output * best[2]) / 1_000_000;
}
