// `keel resume <run>`: continues a run whose process died, from what was recorded: same run id,
// the recorded source, inputs and env; steps that had ended are kept, steps in flight run again.
import { loadWorkflowText } from "@keel/core/runner/load";
import { loadResumePoint } from "@keel/core/runner/resume";
import { defaultStorePath } from "@keel/core/node/store-path";
import { ownerAlive } from "@keel/core/node/liveness";
import { endProcessGroups } from "@keel/core/node/processes";
import { flag, parseArgs } from "../args";
import { formatDiagnostic, locate } from "../diagnostics";
import { isPgUrl } from "@keel/core/store/location";
import { styleFor, UsageError } from "../output";
import { openStoreAt } from "../store";
import { secretsFromEnv } from "../run-options";
import { performRun } from "./run";
import { latestRunId } from "./recorded";

export const usage = "keel resume <run id | latest> [--json] [--store path]";

export async function runResume(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { "--json": false, "--store": true }, usage);
  if (args.positionals.length !== 1) throw new UsageError(`name one run\nusage: ${usage}`);
  const storePath = flag(args, "--store") ?? defaultStorePath(".");
  if (isPgUrl(storePath)) {
    throw new UsageError(
      "a run in a PostgreSQL store is resumed by its workers, not by keel resume",
    );
  }
  const store = await openStoreAt(storePath);
  let recorded;
  try {
    const wanted = args.positionals[0]!;
    const id = wanted === "latest" ? await latestRunId(store) : wanted;
    recorded = id ? await loadResumePoint(store, id) : undefined;
    if (!recorded) throw new UsageError(`no run '${wanted}' in ${storePath}`);
  } finally {
    await store.close();
  }
  const { run, point } = recorded;
  if (run.status !== "running") {
    throw new UsageError(`run ${run.id} already ended (${run.status}): there is nothing to resume`);
  }
  if (ownerAlive(run, Date.now(), isPgUrl(storePath) ? "remote" : "local")) {
    throw new UsageError(
      run.ownerPid === null
        ? `run ${run.id} is executed by the team's workers: they take it over if one dies (keel cancel ${run.id} --store … stops it)`
        : `run ${run.id} is still running in process ${run.ownerPid}`,
    );
  }
  const loaded = loadWorkflowText(run.workflowPath, recorded.source);
  if (!loaded.ok) {
    const s = styleFor(process.stderr);
    for (const d of locate(run.workflowPath, recorded.source, loaded.diagnostics)) {
      if (d.severity === "error") process.stderr.write(formatDiagnostic(d, s) + "\n");
    }
    process.stderr.write(
      "keel: the recorded workflow no longer validates here (a tool module may be missing)\n",
    );
    return 2;
  }
  // What the dead run left running goes first: a command past its timeout must not run beside
  // the copy the resume starts.
  for (const g of await endProcessGroups(recorded.processes)) {
    process.stderr.write(
      `keel: ended process group ${g.record.pid} of step '${g.record.stepId}' (attempt ${g.record.attempt}), left running by the run's dead process (${g.processes} process${g.processes === 1 ? "" : "es"})\n`,
    );
  }
  const effectful = point.inFlight.filter((id) =>
    ["http", "shell", "tool"].includes(loaded.loaded.workflow.steps[id]?.type ?? ""),
  );
  if (effectful.length > 0 && !args.flags.has("--json")) {
    process.stderr.write(
      `keel: ${effectful.join(", ")} ${effectful.length === 1 ? "was" : "were"} running when the run stopped and will run again (at least once: check for duplicate effects)\n`,
    );
  }
  return performRun({
    loaded: loaded.loaded,
    inputs: recorded.inputs,
    env: recorded.env,
    secrets: secretsFromEnv(loaded.loaded.secretNames),
    storePath,
    json: args.flags.has("--json"),
    resume: point,
  });
}
