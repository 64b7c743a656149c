// `keel import <file>`: puts a golden file's run into the store (once: a run already there is
// left as it is).
import { dirname, resolve } from "node:path";
import { importBatch } from "@keel/core/replay/golden";
import { defaultStorePath } from "@keel/core/node/store-path";
import { flag, parseArgs } from "../args";
import { UsageError } from "../output";
import { openStoreAt } from "../store";
import { goldenRun, readGolden } from "../golden-files";

export const importUsage = "keel import <file.keel-run.json> [--store path]";

export async function runImport(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { "--store": true }, importUsage);
  if (args.positionals.length !== 1) throw new UsageError(`name one file\nusage: ${importUsage}`);
  const file = resolve(args.positionals[0]!);
  const golden = readGolden(file);
  const record = goldenRun(file, golden);
  const store = await openStoreAt(flag(args, "--store") ?? defaultStorePath(dirname(file)));
  try {
    if (await store.getRun(record.run.id)) {
      process.stdout.write(`run ${record.run.id} is already in the store\n`);
      return 0;
    }
    await store.commit(importBatch(record, golden));
  } finally {
    await store.close();
  }
  process.stdout.write(`imported run ${record.run.id} (${record.run.workflowName})\n`);
  return 0;
}
