// `keel rerun <run> --from <step>`: a new run of the workflow file on disk that reuses the parent's
// outputs upstream of the step (docs/replay.md, "Rerun from a step"). `--from 'step[key]'` runs
// one item of a map again and keeps the others; `--failed` runs what failed again, keeping what
// succeeded, items of a failed map included. It lists the http, shell and
// tool steps that will execute again and asks first (`--yes` answers); it refuses a changed
// upstream unless `--force`.
import { createInterface } from "node:readline/promises";
import { planRerun } from "@keel/core/replay/rerun";
import { defaultStorePath } from "@keel/core/node/store-path";
import type { RerunPlan } from "@keel/core/protocol/cli";
import { flag, parseArgs } from "../args";
import { UsageError } from "../output";
import { loadForReplay, readRunAt } from "./recorded";
import { secretsFromEnv } from "../run-options";
import { performRun } from "./run";

export const usage =
  "keel rerun <run id | latest> (--from <step | step[key] | agent#turn> | --failed) [--set <step | agent#turn/tool.index>=json]... [--yes] [--force] [--plan] [--json | --events] [--store path]";

const SPEC = {
  "--from": true,
  "--failed": false,
  "--set": true,
  "--yes": false,
  "--force": false,
  "--json": false,
  "--events": false,
  "--plan": false,
  "--store": true,
};

export async function runRerun(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, SPEC, usage);
  if (args.positionals.length !== 1) throw new UsageError(`name one run\nusage: ${usage}`);
  const step = flag(args, "--from");
  const failed = args.flags.has("--failed");
  if (!step && !failed)
    throw new UsageError(`--from <step> or --failed is required\nusage: ${usage}`);
  if (step && failed) throw new UsageError(`give --from or --failed, not both\nusage: ${usage}`);
  const from = step ?? ({ failed: true } as const);
  const set = new Map<string, unknown>();
  for (const pair of args.flags.get("--set") ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set takes step=json, not '${pair}'`);
    try {
      set.set(pair.slice(0, eq), JSON.parse(pair.slice(eq + 1)) as unknown);
    } catch {
      throw new UsageError(
        `--set ${pair.slice(0, eq)}: the value must be JSON (quote a string: '"text"')`,
      );
    }
  }
  const storePath = flag(args, "--store") ?? defaultStorePath(".");
  const record = await readRunAt(storePath, args.positionals[0]!);
  const loaded = loadForReplay(record, true);
  if (!loaded) return 2;
  const plan = planRerun(record, loaded, from, set, args.flags.has("--force"));
  if (!plan.ok) throw new UsageError(plan.problem);
  // What would run, for an editor to show and confirm; nothing runs.
  if (args.flags.has("--plan")) {
    const { live, effectful, changed } = plan;
    const answer: RerunPlan = {
      from: step ?? "--failed",
      reused: [...plan.reuse.keys()],
      live,
      effectful,
      changed,
    };
    process.stdout.write(JSON.stringify(answer) + "\n");
    return 0;
  }
  if (plan.effectful.length > 0) {
    const list = plan.effectful.map((id) => `${id} (${loaded.workflow.steps[id]!.type})`);
    process.stderr.write(`these steps will execute again: ${list.join(", ")}\n`);
    if (!args.flags.has("--yes") && !(await confirm())) {
      process.stderr.write("keel: not confirmed; nothing was run (pass --yes to confirm)\n");
      return 2;
    }
  }
  return performRun({
    loaded,
    inputs: record.inputs,
    env: Object.fromEntries(loaded.envNames.map((n) => [n, process.env[n]])),
    secrets: secretsFromEnv(loaded.secretNames),
    storePath,
    json: args.flags.has("--json"),
    events: args.flags.has("--events"),
    reuse: plan.reuse,
    parentId: record.run.id,
  });
}

/** Asks on the terminal; false without one (CI), so nothing runs unconfirmed. */
async function confirm(): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question("run them? [y/N] ")).trim());
  } finally {
    rl.close();
  }
}
