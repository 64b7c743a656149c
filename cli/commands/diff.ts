// `keel diff <runA> <runB>`: step by step, what changed between two recorded runs, the first
// divergence first; a map step's items by key and a repeated step's iterations by number.
// Exit codes: 0 the runs agree, 1 they differ, 2 bad usage.
import { diffRuns, type StepDiff } from "@keel/core/replay/diff";
import { defaultStorePath } from "@keel/core/node/store-path";
import { scopesInWords, type RunDiff as RunDiffJson } from "@keel/core/protocol/cli";
import { flag, parseArgs } from "../args";
import { styleFor, UsageError } from "../output";
import { openStoreAt, storeName } from "../store";
import { findRecordedRun } from "./recorded";

export const usage = "keel diff <run A> <run B> [--json] [--store path]";

export async function runDiff(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { "--json": false, "--store": true }, usage);
  if (args.positionals.length !== 2) throw new UsageError(`name two runs\nusage: ${usage}`);
  const storePath = flag(args, "--store") ?? defaultStorePath(".");
  const store = await openStoreAt(storePath, { readOnly: true });
  let diff;
  try {
    const [a, b] = await Promise.all(
      args.positionals.map((id) => findRecordedRun(store, id, storeName(storePath))),
    );
    diff = diffRuns(a!, b!);
  } finally {
    await store.close();
  }
  if (args.flags.has("--json")) {
    // What the extension reads (core/protocol/cli.ts).
    const json: RunDiffJson = diff;
    process.stdout.write(JSON.stringify(json, null, 2) + "\n");
    return diff.firstDivergence ? 1 : 0;
  }
  const s = styleFor(process.stdout);
  process.stdout.write(
    `diff ${diff.a} → ${diff.b}: ${diff.firstDivergence ? s.red(`first divergence at step ${diff.firstDivergence}`) : s.green("no step differs")}\n\n`,
  );
  const width = Math.max(4, ...diff.steps.map((r) => r.step.length));
  for (const r of diff.steps) {
    const line = `  ${r.differs ? "≠" : "="} ${r.step.padEnd(width)}  ${describe(r)}`;
    process.stdout.write((r.differs ? line : s.dim(line)) + "\n");
  }
  return diff.firstDivergence ? 1 : 0;
}

function describe(r: StepDiff): string {
  const parts: string[] = [];
  parts.push(r.status[0] === r.status[1] ? r.status[0] : `${r.status[0]} → ${r.status[1]}`);
  if (!r.inputEqual) parts.push("input differs");
  if (!r.outputEqual) parts.push("output differs");
  const [la, lb] = r.latencyMs;
  if (la !== null && lb !== null) parts.push(`${lb - la >= 0 ? "+" : ""}${lb - la} ms`);
  const [ca, cb] = r.costUsd;
  if (ca !== null || cb !== null) {
    const d = (cb ?? 0) - (ca ?? 0);
    parts.push(`${d >= 0 ? "+" : "-"}$${Math.abs(d).toFixed(6)}`);
  }
  if (r.model[0] !== r.model[1]) parts.push(`model ${r.model[0]} → ${r.model[1]}`);
  if (r.fingerprint[0] !== r.fingerprint[1])
    parts.push(`fingerprint ${r.fingerprint[0]} → ${r.fingerprint[1]}`);
  for (const p of r.promptFiles ?? [])
    parts.push(
      `prompt file ${p.path} ${p.hash[0] === null ? "added" : p.hash[1] === null ? "removed" : "changed"} (${(p.hash[0] ?? "none").slice(0, 8)} → ${(p.hash[1] ?? "none").slice(0, 8)})`,
    );
  parts.push(...scopesInWords(r));
  return parts.join(", ");
}
