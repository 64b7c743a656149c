// The recorded workflow of the replay and the replay debugger benchmarks.
/**
 * A chain of `n` steps alternating `transform` and `llm` on a `scripted` provider, each reading
 * the one before: half of a replay's steps are answered from the record, half recomputed.
 */
export function mixedChain(n: number): string {
  const lines = [
    "keel: 1",
    `name: chain-${n}`,
    "providers:",
    "  p: { type: scripted, default: ok }",
    "steps:",
  ];
  for (let i = 0; i < n; i++) {
    const prev = i === 0 ? '"start"' : `steps.s${i - 1}.output`;
    lines.push(
      i % 2 === 0
        ? `  s${i}: { type: transform, expr: '$substring(${prev} & "x", 0, 20)' }`
        : `  s${i}: { type: llm, provider: p, prompt: "step ${i} \${{ ${prev} }}" }`,
    );
  }
  return lines.join("\n") + "\n";
}
