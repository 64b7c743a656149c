// Replay (docs/replay.md, #5): the workflow evaluated again with every effect answered from the
// record.
// Invariants:
// - Nothing is executed: model calls, HTTP, tools and commands are answered by RecordedAnswers;
//   the Effects given to the runner throw and count if anything reaches them (effectsExecuted).
//   The one exception is a tool declared `pure: true`: it is computed again, like a transform,
//   in its isolated worker (docs/replay.md).
// - The replay sees what the run saw (docs/replay.md, "Replay"): its inputs, env, `run.id` and
//   `run.started_at`; secrets as their redacted marks `«secret:NAME»`.
// - A replay is not stored: it records into a memory store under a new id (mode `replay`, parent
//   the replayed run), compared with the record, and the report is what remains (docs/replay.md).
import { newRunId } from "../store/ids";
import { MemoryStore } from "../store/memory-store";
import type { RunStatus } from "../record/records";
import type { Effects } from "../runner/effects";
import { StepError } from "../runner/errors";
import type { LoadedWorkflow } from "../runner/load";
import { resolve } from "node:path";
import type { Step, Workflow } from "../model/schema";
import { createNodeEffects } from "../runner/node-effects";
import { runWorkflow } from "../runner/run";
import { replayRecomputes } from "../runner/steps";
import type { ReusedStep } from "../runner/types";
import { RecordedAnswers } from "./answers";
import { divergences, type Divergence } from "./divergence";
import { readRecordedRun, type RecordedRun } from "./record";

export interface ReplayReport {
  /** The replay's own id (it is not stored). */
  readonly runId: string;
  /** The recorded run that was replayed. */
  readonly replayOf: string;
  /** How the replay ended. */
  readonly status: RunStatus;
  /** The first divergence, or null when the replay reproduced the record. */
  readonly divergence: Divergence | null;
  readonly divergences: readonly Divergence[];
  /** Effects that reached the outside world: always 0 unless a step escaped the record. */
  readonly effectsExecuted: number;
  readonly outputs: Record<string, unknown> | null;
  /** The replay's record, for callers that compare more (tests, diff). */
  readonly replayed: RecordedRun;
}

/**
 * Replays `record` with `loaded` (the recorded source, or the file on disk for `--current`).
 * `pureTools: false` answers tools declared pure from the record too, so that nothing of the
 * workspace runs (an untrusted workspace).
 */
export async function replayRun(
  record: RecordedRun,
  loaded: LoadedWorkflow,
  options: { readonly pureTools?: boolean } = {},
): Promise<ReplayReport> {
  const workflow =
    options.pureTools === false ? withoutPureTools(loaded.workflow) : loaded.workflow;
  const store = new MemoryStore();
  const counter = { effects: 0 };
  const answers = new RecordedAnswers(record);
  const runId = newRunId();
  const declared = loaded.workflow.inputs ?? {};
  const defaults = Object.fromEntries(
    Object.entries(declared)
      .filter(([, v]) => v.default !== undefined)
      .map(([k, v]) => [k, v.default]),
  );
  const secrets = Object.fromEntries(loaded.secretNames.map((n) => [n, `«secret:${n}»`]));
  const result = await runWorkflow({
    workflowPath: loaded.path,
    source: loaded.source,
    workflow,
    graph: loaded.graph,
    inputs: { ...defaults, ...record.inputs },
    env: record.env,
    secrets,
    store,
    effects: refusingEffects(
      record.run.startedAt,
      counter,
      pureTools(workflow, loaded.dir),
      loaded.dir,
    ),
    runId,
    runView: { id: record.run.id, startedAt: record.run.startedAt },
    mode: "replay",
    parentId: record.run.id,
    reuse: reusedSteps(record),
    replay: answers,
  });
  const replayed = (await readRecordedRun(store, runId))!;
  const found = divergences(record, replayed, loaded);
  return {
    runId,
    replayOf: record.run.id,
    status: result.status,
    divergence: found[0] ?? null,
    divergences: found,
    effectsExecuted: counter.effects,
    outputs: result.outputs,
    replayed,
  };
}

/** Steps the recorded run itself reused from its parent (a rerun): reused again, as recorded. */
function reusedSteps(record: RecordedRun): Map<string, ReusedStep> {
  const reuse = new Map<string, ReusedStep>();
  for (const e of record.events) {
    if (e.type !== "step_reused" || !e.stepId) continue;
    reuse.set(e.stepId, {
      output: record.value(String(e.data?.output)) ?? null,
      sourceRunId: String(e.data?.sourceRun ?? record.run.parentId),
    });
  }
  return reuse;
}

/** The `module#export` of every tool step declared pure, its module resolved as a run does. */
function pureTools(workflow: Workflow, dir: string): Set<string> {
  const out = new Set<string>();
  for (const step of Object.values(workflow.steps as Record<string, Step>)) {
    if (step.type !== "tool" || !replayRecomputes(step)) continue;
    const [path, exportName] = step.uses.split("#") as [string, string];
    out.add(`${resolve(dir, path)}#${exportName}`);
  }
  return out;
}

/** The workflow with every tool answered from the record, pure or not. */
function withoutPureTools(workflow: Workflow): Workflow {
  const steps = Object.fromEntries(
    Object.entries(workflow.steps as Record<string, Step>).map(([id, step]) => [
      id,
      step.type === "tool" && step.pure ? { ...step, pure: false } : step,
    ]),
  );
  return { ...workflow, steps } as Workflow;
}

/**
 * Effects for a replay: the recorded clock, a pure tool run in its worker, and a typed error
 * (counted) for anything else.
 */
function refusingEffects(
  startedAt: string,
  counter: { effects: number },
  pure: Set<string>,
  dir: string,
): Effects {
  const refuse = async (): Promise<never> => {
    counter.effects++;
    throw new StepError("config", "replay: an effect was reached outside the record");
  };
  const run = createNodeEffects({ providers: {}, dir }).tool;
  const tool: Effects["tool"] = (call, signal, scope) =>
    pure.has(`${call.module}#${call.exportName}`) ? run(call, signal, scope) : refuse();
  return { now: () => startedAt, llm: refuse, http: refuse, shell: refuse, tool };
}
