// `keel show <run>`: one recorded run: its steps, attempts, outputs, findings and error.
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { defaultStorePath } from "@keel/core/node/store-path";
import type { AttemptRecord, EventRecord } from "@keel/core/store/records";
import { flag, parseArgs } from "../args";
import { styleFor, UsageError } from "../output";
import { duration } from "../progress";

export const usage = "keel show <run id | latest> [--json] [--store path]";

export async function runShow(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { "--json": false, "--store": true }, usage);
  if (args.positionals.length !== 1) throw new UsageError(`name one run\nusage: ${usage}`);
  const store = openSqliteStore(flag(args, "--store") ?? defaultStorePath("."));
  try {
    const wanted = args.positionals[0]!;
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

/** Folds the event log into one line per step, in the order steps started. */
function stepsOf(events: readonly EventRecord[], attempts: readonly AttemptRecord[]): StepView[] {
  const steps = new Map<string, StepView & { started?: number }>();
  for (const e of events) {
    if (!e.stepId || e.type === "finding") continue;
    let st = steps.get(e.stepId);
    if (!st)
      steps.set(
        e.stepId,
        (st = {
          id: e.stepId,
          status: "running",
          attempts: 0,
          durationMs: 0,
          origin: null,
          error: null,
        }),
      );
    if (e.type === "step_started") st.started = Date.parse(e.at);
    const end = (status: string, origin: string | null, error: string | null = null) => {
      st.status = status;
      st.origin = origin;
      st.error = error;
      st.durationMs = st.started ? Date.parse(e.at) - st.started : 0;
    };
    if (e.type === "step_succeeded") end("succeeded", "live");
    else if (e.type === "step_cached") end("succeeded", "cached");
    else if (e.type === "step_reused") end("succeeded", "reused");
    else if (e.type === "step_failed")
      end("failed", null, `${String(e.data?.kind)}: ${String(e.data?.message)}`);
    else if (e.type === "step_skipped") st.status = "skipped";
    else if (e.type === "step_cancelled") st.status = "cancelled";
  }
  for (const a of attempts) {
    const st = steps.get(a.stepId);
    if (st) st.attempts = Math.max(st.attempts, a.attempt);
  }
  return [...steps.values()].map(({ started: _started, ...rest }) => rest);
}
