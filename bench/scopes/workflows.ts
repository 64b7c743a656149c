// The workflows of the maps benchmark (docs/benchmarks.md, "Maps (#18)"), as YAML text.

/**
 * The pure map: `list` makes [1..n], `double` maps it with `item * 2`, `total` sums the doubles.
 * Without the map (`map: false`) the same run is `list` then `total` summing the list doubled, so
 * the difference between the two is the map step alone: its items, their records and the
 * assembled list. `concurrency` is the map's (omitted: the default, 4).
 */
export function pureMap(n: number, map: boolean, concurrency?: number): string {
  const lines = [
    "keel: 1",
    `name: map-${n}${map ? "" : "-without-map"}`,
    "steps:",
    `  list: { type: transform, expr: '[1..${n}]' }`,
  ];
  if (map) {
    lines.push(
      "  double:",
      "    type: transform",
      "    for_each: steps.list.output",
      ...(concurrency === undefined ? [] : [`    concurrency: ${concurrency}`]),
      "    expr: item * 2",
      "  total: { type: transform, expr: '$sum(steps.double.output)' }",
    );
  } else lines.push("  total: { type: transform, expr: '$sum(steps.list.output) * 2' }");
  lines.push("outputs:", "  total: steps.total.output");
  return lines.join("\n") + "\n";
}

/** The sum both pure workflows compute: 2 × (1 + … + n). */
export const pureTotal = (n: number): number => n * (n + 1);

/**
 * The llm map: `n` calls of an `openai` provider at `baseUrl` (the local server), the step's
 * `concurrency` items at once, and the provider's own `concurrency` limit when given; no cache,
 * so every item calls.
 */
export function llmMap(
  n: number,
  baseUrl: string,
  concurrency: number,
  providerConcurrency?: number,
): string {
  const limit = providerConcurrency === undefined ? "" : `, concurrency: ${providerConcurrency}`;
  return [
    "keel: 1",
    `name: llm-map-${n}`,
    "providers:",
    `  local: { type: openai, model: gpt-4o-mini, base_url: "${baseUrl}"${limit} }`,
    "steps:",
    `  list: { type: transform, expr: '[1..${n}]' }`,
    "  ask:",
    "    type: llm",
    "    provider: local",
    "    for_each: steps.list.output",
    `    concurrency: ${concurrency}`,
    "    cache: false",
    '    prompt: "Item ${{ item }}: say ok."',
    "outputs:",
    "  count: $count(steps.ask.output)",
    "",
  ].join("\n");
}
