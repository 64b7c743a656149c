// `keel runs [<file>]`: the recorded runs, newest first.
import { resolve } from "node:path";
import { defaultStorePath } from "@keel/core/node/store-path";
import { shownStatus } from "@keel/core/node/liveness";
import { isPgUrl } from "@keel/core/store/location";
import type { RunList } from "@keel/core/protocol/cli";
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
    const s = styleFor(process.stdout);
    if (runs.length === 0) process.stdout.write("no runs recorded yet\n");
    for (const record of runs) {
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
      process.stdout.write(
        `${r.id}  ${colour(r.status.padEnd(11))} ${r.startedAt}  ${took.padStart(7)}  ${r.workflowName}\n`,
      );
    }
    return 0;
  } finally {
    await store.close();
  }
}
