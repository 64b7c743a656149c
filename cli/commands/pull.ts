// `keel pull <run> --store postgres://… [--into path]`: copies a run that ended from a team's
// PostgreSQL store into a local SQLite store (default the workspace's `.keel/runs.sqlite`), with
// its source, inputs, events, attempts, findings and every value they refer to, and its child
// runs, so the editor steps through it, replays it and diffs it offline.
import { basename } from "node:path";
import { importBatch, toGolden } from "@keel/core/replay/golden";
import { readRecordedRun } from "@keel/core/replay/record";
import { defaultStorePath } from "@keel/core/node/store-path";
import { isPgUrl } from "@keel/core/store/location";
import { flag, parseArgs } from "../args";
import { UsageError } from "../output";
import { openStoreAt, storeName } from "../store";
import { latestRunId } from "./recorded";

export const usage = "keel pull <run id | latest> --store postgres://… [--into path]";

export async function runPull(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { "--store": true, "--into": true }, usage);
  if (args.positionals.length !== 1) throw new UsageError(`name one run\nusage: ${usage}`);
  const from = flag(args, "--store");
  if (!from || !isPgUrl(from))
    throw new UsageError(`--store postgres://… is required\nusage: ${usage}`);
  const into = flag(args, "--into") ?? defaultStorePath(".");
  const source = await openStoreAt(from, { readOnly: true });
  let record;
  try {
    const wanted = args.positionals[0]!;
    const id = wanted === "latest" ? await latestRunId(source) : wanted;
    record = id ? await readRecordedRun(source, id) : undefined;
    if (!record) throw new UsageError(`no run '${wanted}' in ${storeName(from)}`);
  } finally {
    await source.close();
  }
  if (record.run.status === "running") {
    throw new UsageError(`run ${record.run.id} has not ended yet: pull it once it has`);
  }
  const target = await openStoreAt(into);
  try {
    if (await target.getRun(record.run.id)) {
      process.stdout.write(`run ${record.run.id} is already in ${into}\n`);
      return 0;
    }
    // The run with its child runs (a workflow step's, a map's items', a loop's iterations').
    const batch = importBatch(record, toGolden(record, basename(record.run.workflowPath)));
    // The copies have no owner here: no heartbeat to keep.
    const runs = (batch.runs ?? []).map((r) => ({ ...r, ownerPid: null, heartbeatAt: null }));
    await target.commit({ ...batch, runs });
  } finally {
    await target.close();
  }
  process.stdout.write(`pulled run ${record.run.id} (${record.run.workflowName}) into ${into}\n`);
  return 0;
}
