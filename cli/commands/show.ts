// `keel show <run>`: one recorded run: its steps, attempts, outputs, findings and error; an agent
// step's line counts its turns, tool calls and their cost (show-agent.ts).
// `keel show <run> <step>`: one step of it: what it was sent, what it answered, every attempt and
// what it printed (docs/cli.md).
import { defaultStorePath } from "@keel/core/node/store-path";
import type { AttemptRecord, EventRecord } from "@keel/core/record/records";
import { foldToEnd } from "@keel/core/record/fold";
import { flag, parseArgs } from "../args";
import { styleFor, UsageError } from "../output";
import { duration } from "../progress";
import { openStoreAt, storeName } from "../store";
import { findRecordedRun, latestRunId } from "./recorded";
import type { ShowRun } from "@keel/core/protocol/cli";
import { stepAgentTotals, totalsText } from "./show-agent";
import { showStep, stepTypes, tallyOf, tallyText, unitsOf } from "./show-step";

export const usage =
  "keel show <run id | latest> [<step> | <step>[<item key>] | <step>#<iteration> | <agent>#<turn>[/<tool>.<index>]] [--json] [--store path]";

export async function runShow(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { "--json": false, "--store": true }, usage);
  if (args.positionals.length < 1 || args.positionals.length > 2)
    throw new UsageError(`name one run, and at most one of its steps\nusage: ${usage}`);
  const location = flag(args, "--store") ?? defaultStorePath(".");
  const store = await openStoreAt(location, { readOnly: true });
  try {
    const wanted = args.positionals[0]!;
    const stepId = args.positionals[1];
    if (stepId !== undefined) {
      const record = await findRecordedRun(store, wanted, storeName(location));
      return showStep(record, stepId, args.flags.has("--json"));
    }
    const id = wanted === "latest" ? await latestRunId(store) : wanted;
    const run = id === undefined ? undefined : await store.getRun(id);
    if (!run) throw new UsageError(`no run '${wanted}' in the store`);
    const [events, attempts, findings] = await Promise.all([
      store.events(run.id),
      store.attempts(run.id),
      store.findings(run.id),
    ]);
    const outputs = run.outputsHash
      ? (JSON.parse((await store.blob(run.outputsHash)) ?? "null") as unknown)
      : null;
    const source = await store.blob(run.sourceHash);
    const steps = stepsOf(events, attempts, stepTypes(source ?? ""));
    if (args.flags.has("--json")) {
      const json: ShowRun = { run, outputs, findings, steps, attempts };
      process.stdout.write(JSON.stringify(json, null, 2) + "\n");
      return 0;
    }
    const s = styleFor(process.stdout);
    process.stdout.write(`${s.bold(run.workflowName)}  ${run.id}\n${run.workflowPath}\n`);
    process.stdout.write(
      `${run.status}, started ${run.startedAt}${run.endedAt ? `, took ${duration(Date.parse(run.endedAt) - Date.parse(run.startedAt))}` : ""}\n`,
    );
    if (run.parentId && run.parentScope)
      process.stdout.write(
        `child run of ${run.parentId}, started by ${run.parentScope}: ${s.dim(`keel show ${run.parentId} '${run.parentScope}'`)}\n`,
      );
    if (run.error) process.stdout.write(`${s.red(run.error)}\n`);
    process.stdout.write("\n");
    for (const st of steps) {
      const extra = [
        st.items ? `${st.items.count} items: ${tallyText(st.items.tally, s)}` : "",
        st.iterations !== null ? `${st.iterations} iteration${st.iterations === 1 ? "" : "s"}` : "",
        st.agent ? totalsText(st.agent) : "",
        childRunsText(st.childRuns),
        st.attempts > 1 ? `${st.attempts} attempts` : "",
        st.origin && st.origin !== "live" ? st.origin : "",
        st.error ?? "",
      ]
        .filter(Boolean)
        .join(", ");
      process.stdout.write(
        `  ${st.id.padEnd(24)} ${st.status.padEnd(10)} ${duration(st.durationMs).padStart(7)}  ${s.dim(extra)}\n`,
      );
    }
    for (const f of findings) process.stdout.write(`\n${s.yellow(f.kind)}: ${f.message}`);
    if (findings.length > 0) process.stdout.write("\n");
    if (outputs !== null) process.stdout.write(`\noutputs: ${JSON.stringify(outputs, null, 2)}\n`);
    if (steps.length > 0)
      process.stdout.write(
        s.dim(
          `\nkeel show ${run.id} <step>: a step's input, output, attempts and logs (a map's items, a loop's iterations, an agent's turns)\n`,
        ),
      );
    if (steps.some((st) => st.childRuns.length > 0))
      process.stdout.write(s.dim(`keel show <child run id>: a child run\n`));
    return 0;
  } finally {
    await store.close();
  }
}

type StepLine = ShowRun["steps"][number];

/** One child run's id; a few; or how many when there are more. */
function childRunsText(ids: readonly string[]): string {
  if (ids.length === 0) return "";
  if (ids.length === 1) return `child run ${ids[0]!}`;
  return ids.length <= 3 ? `child runs ${ids.join(", ")}` : `${ids.length} child runs`;
}

/** One line per step that has an event, in the order steps first appear in the log. */
function stepsOf(
  events: readonly EventRecord[],
  attempts: readonly AttemptRecord[],
  types: ReadonlyMap<string, string>,
): StepLine[] {
  const out: StepLine[] = [];
  const fold = foldToEnd(events, attempts);
  for (const st of fold.steps()) {
    if (st.lastSeq === 0) continue; // named by a finding only
    const ended = st.status === "succeeded" || st.status === "failed";
    const units = unitsOf(fold, st.id, null);
    const agent = types.get(st.id) === "agent";
    out.push({
      id: st.id,
      status: st.status,
      attempts: st.attempts,
      durationMs:
        ended && st.ended && st.startedAt ? Date.parse(st.ended.at) - Date.parse(st.startedAt) : 0,
      origin: st.origin,
      error: st.status === "failed" && st.error ? `${st.error.kind}: ${st.error.message}` : null,
      items: units.items && {
        count: st.items ?? units.items.length,
        tally: tallyOf(units.items),
      },
      // An agent's turns are not iterations: its line counts turns and tool calls.
      iterations: agent ? null : units.iterations && units.iterations.length,
      childRuns: units.childRuns,
      agent: agent ? stepAgentTotals(fold, st.id) : null,
    });
  }
  return out;
}
