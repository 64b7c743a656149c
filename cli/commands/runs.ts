// `keel runs [<file>]`: the recorded runs, newest first. A child run (one a `workflow` step
// started: parentScope set) is not a row of its own; its parent's row counts it (docs/cli.md).
// `--json` lists every run, children too.
import { resolve } from "node:path";
import { defaultStorePath } from "@keel/core/node/store-path";
import { shownStatus } from "@keel/core/node/liveness";
import { isPgUrl } from "@keel/core/store/location";
import type { RunList } from "@keel/core/protocol/cli";
import type { RunRecord } from "@keel/core/record/records";
import type { RunStore } from "@keel/core/store/run-store";
import { flag, parseArgs } from "../args";
import { styleFor, UsageError } from "../output";
import { duration } from "../progress";
import { openStoreAt } from "../store";

export const usage = "keel runs [<file>] [--json] [--store path] [--limit n]";

export async function runRuns(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { "--json": false, "--store": true, "--limit": true }, usage);
  if (args.positionals.length > 1)
    throw new UsageError(`name at most one workflow file\nusage: ${usage}`);
  const limit = Number(flag(args, "--limit") ?? 20);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit takes a whole number above 0\nusage: ${usage}`);
  const file = args.positionals[0] ? resolve(args.positionals[0]) : undefined;
  const location = flag(args, "--store") ?? defaultStorePath(file ? resolve(file, "..") : ".");
  const store = await openStoreAt(location, { readOnly: true });
  // A PostgreSQL store's runs belong to workers on other machines: judged by their heartbeat.
  const where = isPgUrl(location) ? "remote" : "local";
  try {
    const runs = await store.listRuns({
      workflowPath: file,
      limit,
    });
    if (args.flags.has("--json")) {
      const shown: RunList = runs.map((r) => ({
        ...r,
        status: shownStatus(r, Date.now(), where),
      }));
      process.stdout.write(JSON.stringify(shown, null, 2) + "\n");
      return 0;
    }
    const { top, children } = await topLevelRuns(store, file, limit);
    const s = styleFor(process.stdout);
    if (top.length === 0) process.stdout.write("no runs recorded yet\n");
    for (const record of top) {
      const r = { ...record, status: shownStatus(record, Date.now(), where) };
      const colour =
        r.status === "succeeded"
          ? s.green
          : r.status === "running"
            ? s.blue
            : r.status === "cancelled"
              ? s.yellow
              : s.red;
      const took = r.endedAt ? duration(Date.parse(r.endedAt) - Date.parse(r.startedAt)) : "";
      const n = children.get(r.id) ?? 0;
      const more = n > 0 ? s.dim(`  +${n} child run${n > 1 ? "s" : ""}`) : "";
      process.stdout.write(
        `${r.id}  ${colour(r.status.padEnd(11))} ${r.startedAt}  ${took.padStart(7)}  ${r.workflowName}${more}\n`,
      );
    }
    return 0;
  } finally {
    await store.close();
  }
}

/**
 * The newest `limit` runs that are not child runs (of `file`, when given), and how many child
 * runs each run started. A child starts after its parent, so the runs newer than the oldest row
 * hold every child of the rows: the store is read, newest first, until that far.
 */
async function topLevelRuns(
  store: RunStore,
  file: string | undefined,
  limit: number,
): Promise<{ top: RunRecord[]; children: Map<string, number> }> {
  let top: RunRecord[] = [];
  for (let fetch = limit * 4; ; fetch *= 8) {
    const runs = await store.listRuns({ workflowPath: file, limit: fetch });
    top = runs.filter((r) => !r.parentScope).slice(0, limit);
    if (top.length === limit || runs.length < fetch) break;
  }
  const children = new Map<string, number>();
  const oldest = top.at(-1)?.id;
  if (oldest === undefined) return { top, children };
  for (let fetch = limit * 4; ; fetch *= 8) {
    const runs = await store.listRuns({ limit: fetch });
    const reached = runs.length < fetch || runs.at(-1)!.id <= oldest;
    if (!reached) continue;
    for (const r of runs) {
      if (r.parentScope && r.parentId)
        children.set(r.parentId, (children.get(r.parentId) ?? 0) + 1);
    }
    return { top, children };
  }
}
