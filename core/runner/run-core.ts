// What every part of a local run works on (docs/dev/architecture.md, "The runner"): the run's
// options, its record, the state of every step and unit, the expression context, its cancel and
// limits. The scheduler (run.ts), the quick path (quick.ts), attempts (attempts.ts), maps and
// loops (units.ts) and child runs (child-run.ts) each take it.
import type { Step } from "../model/schema";
import { newRunId } from "../store/ids";
import { RunLimits } from "./limits";
import { Outcomes, pendingState } from "./outcomes";
import { PromptFiles } from "./prompt-files";
import { Recorder } from "./recorder";
import { Redactor } from "./redact";
import type { RunContext, ScopeSource } from "./scope";
import type { RunOptions, RunResult, StepState } from "./types";

export class RunCore implements ScopeSource {
  readonly runId: string;
  readonly startedAt: string;
  readonly recorder: Recorder;
  readonly redactor: Redactor;
  /** The steps' own states: what a run's end and its dependents' expressions read. */
  readonly states = new Map<string, StepState>();
  /**
   * Every unit's state by its key (docs/dev/scopes.md): the steps' own, the same objects as in
   * `states`, and the items of maps and the iterations of loops.
   */
  readonly units = new Map<string, StepState>();
  readonly graph: RunOptions["graph"];
  readonly context: RunContext;
  readonly steps: Record<string, Step>;
  /** The workflow file's folder: where its relative paths start. */
  readonly dir: string;
  /** Aborted by the run's cancel. */
  readonly internal = new AbortController();
  readonly limits: RunLimits;
  readonly outcomes: Outcomes;
  /** The prompt files the run's steps read, each read and recorded once. */
  readonly prompts: PromptFiles;

  constructor(
    readonly o: RunOptions,
    /** Runs a child workflow as a run of its own (run.ts's runWorkflow). */
    readonly runChildWorkflow: (options: RunOptions) => Promise<RunResult>,
  ) {
    this.runId = o.resume?.runId ?? o.runId ?? newRunId();
    this.startedAt = o.resume?.startedAt ?? o.effects.now();
    this.graph = o.graph;
    // A replay records under its own id, while its expressions see the recorded run's clock and id.
    this.context = {
      inputs: o.inputs,
      run: {
        id: o.runView?.id ?? this.runId,
        started_at: o.runView?.startedAt ?? this.startedAt,
      },
      env: o.env ?? {},
      secrets: o.secrets ?? {},
    };
    this.redactor = new Redactor(o.secrets ?? {});
    this.recorder = new Recorder(
      o.store,
      this.runId,
      this.redactor,
      o.resume?.lastSeq ?? 0,
      o.onEvent,
    );
    this.steps = o.workflow.steps as Record<string, Step>;
    this.outcomes = new Outcomes(
      this.runId,
      this.recorder,
      this.units,
      o.effects,
      o.store,
      o.workflow,
    );
    this.dir = o.workflowPath.replace(/[\\/][^\\/]*$/, "") || ".";
    this.prompts = new PromptFiles(this.dir, o.promptTexts, (text) => this.recorder.textBlob(text));
    for (const id of o.graph.ids) {
      const state = pendingState();
      this.states.set(id, state);
      this.units.set(id, state);
    }
    this.limits = new RunLimits(this.internal.signal, o.effects, o.workflow);
    for (const [id, n] of o.resume?.attempts ?? []) {
      const state = this.states.get(id);
      if (state) state.attempts = n;
    }
    for (const [id, ended] of o.resume?.ended ?? []) {
      const state = this.states.get(id);
      if (state) Object.assign(state, ended, { meta: ended.meta ?? null });
    }
  }

  cancelled(): boolean {
    return this.internal.signal.aborted;
  }

  now(): string {
    return this.o.effects.now();
  }

  /**
   * A unit's state as a resumed run starts it: as it ended before, when it did (an item, an
   * iteration), else pending with its attempts so far counted.
   */
  resumedUnit(unit: string): StepState {
    const state = pendingState(this.o.resume?.attempts.get(unit) ?? 0);
    const ended = this.o.resume?.ended.get(unit);
    if (ended) Object.assign(state, ended, { meta: ended.meta ?? null });
    return state;
  }

  /** Marks a unit started and records it. */
  started(unit: string): void {
    const state = this.units.get(unit)!;
    state.status = "running";
    state.startedMs = Date.now();
    this.outcomes.event("step_started", unit, null, this.now());
  }
}
