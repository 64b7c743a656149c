// Pure mapping from a diff of two runs to what the graph marks on each step. No React here.
import type { DiffMessage } from "@keel/core/protocol/webview";
import { scopesInWords } from "@keel/core/protocol/cli";
import type { DiffMark } from "../graph/step-views";

export type StepDiff = DiffMessage["steps"][number];

/** How each step compares: only in one run, changed, or the same. */
export function marksOf(diff: DiffMessage): Map<string, DiffMark> {
  const out = new Map<string, DiffMark>();
  for (const s of diff.steps) {
    if (s.status[0] === "absent") out.set(s.step, "added");
    else if (s.status[1] === "absent") out.set(s.step, "removed");
    else out.set(s.step, s.differs ? "changed" : "same");
  }
  return out;
}

/** The change from run a to run b, or null when either side has none. */
export function delta(pair: readonly [number | null, number | null]): number | null {
  return pair[0] === null || pair[1] === null ? null : pair[1] - pair[0];
}

/** One line per way the step differs, in words (the inspector's list). */
export function differences(s: StepDiff): string[] {
  const out: string[] = [];
  if (s.status[0] !== s.status[1]) out.push(`status ${s.status[0]} → ${s.status[1]}`);
  if (!s.inputEqual) out.push("input changed");
  if (!s.outputEqual) out.push("output changed");
  if (s.model[0] !== s.model[1])
    out.push(`model ${s.model[0] ?? "none"} → ${s.model[1] ?? "none"}`);
  if (s.fingerprint[0] !== s.fingerprint[1])
    out.push(`fingerprint ${s.fingerprint[0] ?? "none"} → ${s.fingerprint[1] ?? "none"}`);
  // A map's items by key, a loop's iterations by number (docs/replay.md, "Diff").
  out.push(...scopesInWords(s));
  return out;
}
