// A readable line diff of two values: strings as their lines, anything else as pretty JSON.
// Browser-safe.

/** Lines shown around each change. */
const CONTEXT = 2;
/** Above this many line pairs the diff shows both sides whole instead of aligning them. */
const MAX_CELLS = 1_000_000;

export function displayText(value: unknown): string {
  if (typeof value === "string") return value;
  return value === undefined ? "(none)" : JSON.stringify(value, null, 2);
}

/** `- ` lines removed, `+ ` lines added, `  ` context; unchanged stretches folded to `…`. */
export function lineDiff(expected: unknown, actual: unknown): string {
  const a = displayText(expected).split("\n");
  const b = displayText(actual).split("\n");
  if (a.length * b.length > MAX_CELLS) {
    return [...a.map((l) => `- ${l}`), ...b.map((l) => `+ ${l}`)].join("\n");
  }
  // Longest common subsequence table, from the ends.
  const n = a.length;
  const m = b.length;
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i * (m + 1) + j] =
        a[i] === b[j]
          ? lcs[(i + 1) * (m + 1) + j + 1]! + 1
          : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
  const lines: [" " | "-" | "+", string][] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      lines.push([" ", a[i++]!]);
      j++;
    } else if (i < n && (j >= m || lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!)) {
      lines.push(["-", a[i++]!]);
    } else lines.push(["+", b[j++]!]);
  }
  const near = lines.map((_, k) =>
    lines.slice(Math.max(0, k - CONTEXT), k + CONTEXT + 1).some(([t]) => t !== " "),
  );
  const out: string[] = [];
  lines.forEach(([t, l], k) => {
    if (near[k]) out.push(`${t} ${l}`);
    else if (out.at(-1) !== "  …") out.push("  …");
  });
  return out.join("\n");
}
