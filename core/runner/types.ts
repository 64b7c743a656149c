// The local executor's options and results.
import type { StepGraph } from "../graph/graph";
import type { Workflow } from "../model/schema";
import type { EventRecord, Origin, RunMode, RunStatus } from "../record/records";
import type { RunStore } from "../store/run-store";
import type { Effects } from "./effects";
import type { ErrorKind } from "./errors";
import type { ChildCall, StepOutput } from "./steps";

export interface RunOptions {
  readonly workflowPath: string;
  readonly source: string;
  readonly workflow: Workflow;
  readonly graph: StepGraph;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly store: RunStore;
  readonly effects: Effects;
  /** Values of the `env.NAME` the workflow reads. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly secrets?: Readonly<Record<string, string>>;
  /** Steps running at once, at most; default 16. */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly noCache?: boolean;
  readonly onEvent?: (e: EventRecord) => void;
  readonly runId?: string;
  /**
   * Steps whose outputs come from an earlier run instead of running (keel run --step, rerun), by
   * step id, and items of maps by unit key (`summarize[doc-3]`: rerun --failed, --from an item).
   */
  readonly reuse?: ReadonlyMap<string, ReusedStep>;
  /** Continue a recorded run instead of starting one (keel resume). */
  readonly resume?: ResumePoint;
  readonly mode?: RunMode;
  readonly parentId?: string | null;
  /** The unit of the parent run that started this one (a child workflow; docs/dev/scopes.md). */
  readonly parentScope?: string | null;
  /** How many parents this run has (a child workflow's child is at depth 2). */
  readonly depth?: number;
  /**
   * Reads `env.NAME` values for a child workflow, which may read names its parent does not;
   * without it a child sees the parent's values and nothing else.
   */
  readonly readEnv?: (names: readonly string[]) => Record<string, string | undefined>;
  /**
   * The effects of a child workflow, whose providers and folder are its own; default: the Node
   * effects for them (node-effects.ts).
   */
  readonly childEffects?: (child: { readonly workflow: Workflow; readonly dir: string }) => Effects;
  /**
   * Replay (core/replay): every attempt of a non-pure step is answered from the record instead of
   * executed; the cache is not consulted and retry waits are skipped.
   */
  readonly replay?: ReplayAnswers;
  /** What expressions see as `run.id` and `run.started_at`, when not this run's own (a replay). */
  readonly runView?: { readonly id: string; readonly startedAt: string };
  /**
   * Prompt files' texts by path as written, instead of the files on disk: a replay renders the
   * texts its record holds (docs/dev/authoring.md). A path not here is read from disk.
   */
  readonly promptTexts?: ReadonlyMap<string, string>;
}

/** Answers a step's attempts from a recorded run (core/replay/answers.ts). */
export interface ReplayAnswers {
  /** The recorded result of the step's `attempt`-th attempt: its output, or its error thrown. */
  answer(stepId: string, attempt: number): Promise<StepOutput>;
  /**
   * The recorded output of the step's `attempt`-th attempt when it succeeded, without a promise;
   * undefined when the record has no such success (then `answer` says what happened).
   */
  success(stepId: string, attempt: number): StepOutput | undefined;
  /**
   * Replays the child run that a `workflow` step's attempt started, in its place (its record's
   * own answers; core/replay/replay.ts); undefined: the step is answered like any other.
   */
  readonly children?: {
    run(unit: string, attempt: number, call: ChildCall, signal: AbortSignal): Promise<StepOutput>;
  };
}

export interface StepSummary {
  readonly id: string;
  readonly status: "succeeded" | "failed" | "skipped" | "cancelled" | "pending";
  readonly origin: Origin | null;
  readonly continued: boolean;
  readonly attempts: number;
  readonly durationMs: number;
  readonly error: { kind: ErrorKind; message: string } | null;
}

export interface RunResult {
  readonly runId: string;
  readonly status: RunStatus;
  readonly outputs: Record<string, unknown> | null;
  readonly error: string | null;
  readonly findings: { kind: string; message: string }[];
  readonly steps: StepSummary[];
}

/** What `steps.X.items` holds for each item of a map (map.ts). */
export interface ItemView {
  readonly key: string;
  readonly index: number;
  readonly status: string;
  readonly output: unknown;
}

export interface StepState {
  status: StepSummary["status"] | "running";
  output: unknown;
  origin: Origin | null;
  continued: boolean;
  attempts: number;
  startedMs: number;
  endedMs: number;
  error: { kind: ErrorKind; message: string } | null;
  snapshot?: { source: string; version: unknown };
  meta?: Record<string, unknown> | null;
  /** How dependents' expressions see the step once it ended: `{ output, status }`, made once. */
  view?: {
    output: unknown;
    status: string;
    items?: readonly ItemView[];
    iterations?: readonly unknown[];
    turns?: readonly unknown[];
    stop_reason?: string;
  };
  /** A quick step's input reference: its input is its own text, the same every time. */
  quickInput?: string;
  /** A skipped step: skipped after a failure upstream (true) or on a branch not taken (false); see conditions.ts. */
  blocked?: boolean;
  /** A map step's items once it ended: what `steps.<id>.items` shows (map.ts). */
  items?: readonly ItemView[];
  /** A repeated step's outputs, one per iteration: what `steps.<id>.iterations` shows. */
  iterations?: readonly unknown[];
  /** An agent's turns and why it stopped: `steps.<id>.turns` and `.stop_reason` (agent.ts). */
  turns?: readonly unknown[];
  stopReason?: string;
}

/**
 * What a resumed run starts from: the recorded run's identity and the steps that had ended, by
 * step id, with the items and iterations of steps in flight that had ended, by unit key.
 */
export interface ResumePoint {
  readonly runId: string;
  readonly startedAt: string;
  readonly lastSeq: number;
  readonly ended: ReadonlyMap<string, EndedStep>;
  /** Steps that had started and not ended: they run again. */
  readonly inFlight: readonly string[];
  /** Attempts already recorded per unit (step, item, iteration), so new ones continue the numbering. */
  readonly attempts: ReadonlyMap<string, number>;
}

export interface EndedStep {
  readonly status: "succeeded" | "failed" | "skipped";
  /** An agent's turns and why it stopped, from its end event's `transcript` (agent.ts). */
  readonly turns?: readonly unknown[];
  readonly stopReason?: string;
  readonly output: unknown;
  readonly origin: Origin | null;
  readonly continued: boolean;
  readonly attempts: number;
  readonly snapshot?: { source: string; version: unknown };
  readonly meta?: Record<string, unknown> | null;
}

export interface ReusedStep {
  readonly output: unknown;
  readonly sourceRunId: string;
}
