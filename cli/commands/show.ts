// `keel show <run>`: one recorded run: its steps, attempts, outputs, findings and error.
// `keel show <run> <step>`: one step of it: what it was sent, what it answered, every attempt and
// what it printed (docs/cli.md).
import { defaultStorePath } from "@keel/core/node/store-path";
import type { AttemptRecord, EventRecord } from "@keel/core/record/records";
import { foldToEnd } from "@keel/core/record/fold";
import { flag, parseArgs } from "../args";
import { styleFor, UsageError } from "../output";
import { duration } from "../progress";
import { openStoreAt, storeName } from "../store";
import { findRecordedRun } from "./recorded";
import { showStep } from "./show-step";

export const usage = "keel show <run id | latest> [<step>] [--json] [--store path]";

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
    const run =
      wanted === "latest" ? (await store.listRuns({ limit: 1 }))[0] : await store.getRun(wanted);
    if (!run) throw new UsageError(`no run '${wanted}' in the store`);
    const [events, attempts, findings] = await Promise.all([
      store.events(run.id),
      store.attempts(run.id),
      store.findings(run.id),
    ]);
    const outputs = run.outputsHash
      ? (JSON.parse((await store.blob(run.outputsHash)) ?? "null") as unknown)
      : null;
    const steps = stepsOf(events, attempts);
    if (args.flags.has("--json")) {
      process.stdout.write(
        JSON.stringify({ run, outputs, findings, steps, attempts }, null, 2) + "\n",
      );
      return 0;
    }
    const s = styleFor(process.stdout);
    process.stdout.write(`${s.bold(run.workflowName)}  ${run.id}\n${run.workflowPath}\n`);
    process.stdout.write(
      `${run.status}, started ${run.startedAt}${run.endedAt ? `, took ${duration(Date.parse(run.endedAt) - Date.parse(run.startedAt))}` : ""}\n`,
    );
    if (run.error) process.stdout.write(`${s.red(run.error)}\n`);
    process.stdout.write("\n");
    for (const st of steps) {
      const extra = [
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
        s.dim(`\nkeel show ${run.id} <step>: a step's input, output, attempts and logs\n`),
      );
    return 0;
  } finally {
    await store.close();
  }
}

interface StepView {
  id: string;
  status: string;
  attempts: number;
  durationMs: number;
  origin: string | null;
  error: string | null;
}

/** One line per step that has an event, in the order steps first appear in the log. */
function stepsOf(events: readonly EventRecord[], attempts: readonly AttemptRecord[]): StepView[] {
  const out: StepView[] = [];
  for (const st of foldToEnd(events, attempts).steps()) {
    if (st.lastSeq === 0) continue; // named by a finding only
    const ended = st.status === "succeeded" || st.status === "failed";
    out.push({
      id: st.id,
      status: st.status,
      attempts: st.attempts,
      durationMs:
        ended && st.ended && st.startedAt ? Date.parse(st.ended.at) - Date.parse(st.startedAt) : 0,
      origin: st.origin,
      error: st.status === "failed" && st.error ? `${st.error.kind}: ${st.error.message}` : null,
    });
  }
  return out;
}
