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
import { readRecordedRun, recordedPromptTexts, type RecordedRun } from "./record";
import { unitKey } from "../record/records";
import { loadWorkflow, loadWorkflowText } from "../runner/load";
import { resolveInputs } from "../runner/inputs";
import type { ChildCall, StepOutput } from "../runner/steps";

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
export interface ReplayOptions {
  /** False: tools declared pure are answered from the record too. */
  readonly pureTools?: boolean;
  /**
   * Child workflows and prompt files as their files are now (`--current`, `keel test`), rather
   * than as recorded; the parent's own text is `loaded` either way.
   */
  readonly currentChildren?: boolean;
}

export async function replayRun(
  record: RecordedRun,
  loaded: LoadedWorkflow,
  options: ReplayOptions = {},
  /** A child's inputs as its parent's replay computed them (default: as recorded). */
  inputs?: Record<string, unknown>,
): Promise<ReplayReport> {
  const workflow =
    options.pureTools === false ? withoutPureTools(loaded.workflow) : loaded.workflow;
  const store = new MemoryStore();
  const counter = { effects: 0 };
  const children = new ChildReplays(record, loaded, options, counter);
  const answers = new RecordedAnswers(record, children);
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
    inputs: { ...defaults, ...(inputs ?? record.inputs) },
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
    // The prompt files as recorded; `--current` (and `keel test`) reads them from disk.
    promptTexts: options.currentChildren ? undefined : recordedPromptTexts(record),
  });
  const replayed = (await readRecordedRun(store, runId))!;
  const found = divergences(record, replayed, loaded, children.divergences);
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
  const node = createNodeEffects({ providers: {}, dir });
  const tool: Effects["tool"] = (call, signal, scope) =>
    pure.has(`${call.module}#${call.exportName}`) ? node.tool(call, signal, scope) : refuse();
  return {
    now: () => startedAt,
    llm: refuse,
    embed: refuse,
    http: refuse,
    shell: refuse,
    tool,
    // The pure tools' workers end with the replay.
    close: () => node.close?.() ?? Promise.resolve(),
  };
}

/**
 * The child runs of a replayed run, replayed in place of the workflow steps' attempts that started
 * them: the recorded child (found by the unit and attempt of its `child_started`) is replayed from
 * its own record with the inputs the parent's replay gives it, so nothing runs and an edit inside
 * the child is reported where it is, in the child's file.
 */
class ChildReplays {
  /** The first divergence inside each unit's child run, by unit key. */
  readonly divergences = new Map<string, Divergence>();

  constructor(
    private readonly record: RecordedRun,
    private readonly loaded: LoadedWorkflow,
    private readonly options: ReplayOptions,
    private readonly counter: { effects: number },
  ) {}

  async run(unit: string, attempt: number, call: ChildCall): Promise<StepOutput> {
    const started = this.record.events.find(
      (e) =>
        e.type === "child_started" &&
        e.stepId !== null &&
        unitKey(e.stepId, e.scope) === unit &&
        e.attempt === attempt,
    );
    const child = this.record.children.get(String(started?.data?.childRun));
    if (!child) {
      throw new StepError(
        "config",
        `replay: the record has no attempt ${attempt} of step '${unit}' (no child run), so it is not run`,
      );
    }
    const path = resolve(this.loaded.dir, call.uses);
    const loaded = this.options.currentChildren
      ? loadWorkflow(path)
      : loadWorkflowText(child.run.workflowPath, child.source);
    if (!loaded.ok) {
      const first = loaded.diagnostics.find((d) => d.severity === "error");
      throw new StepError(
        "config",
        `the child workflow ${call.uses} does not validate${first ? `: ${first.code} ${first.message}` : ""}`,
      );
    }
    const resolved = resolveInputs(loaded.loaded.workflow, call.inputs, []);
    const report = await replayRun(child, loaded.loaded, this.options, resolved.inputs);
    this.counter.effects += report.effectsExecuted;
    const d = report.divergence;
    if (d && !this.divergences.has(unit)) {
      const inner = d.step === null ? "(outputs)" : d.step + (d.scope ?? "");
      const where = d.line !== null ? `${call.uses}:${d.line}` : call.uses;
      this.divergences.set(unit, {
        ...d,
        message: `${unit} › ${inner} (${where}): ${d.message}`,
        within: { file: call.uses, step: d.step, scope: d.scope, line: d.line },
      });
    }
    if (report.status === "succeeded") return { value: report.outputs ?? {} };
    const failed = report.replayed.events.find((e) => e.type === "step_failed" && e.scope === null);
    const kind = typeof failed?.data?.kind === "string" ? failed.data.kind : "config";
    throw new StepError(
      kind as StepError["kind"],
      `the child run of ${call.uses} failed${failed?.stepId ? ` at step '${failed.stepId}': ${String(failed.data?.message ?? "")}` : ""}`,
    );
  }
}
