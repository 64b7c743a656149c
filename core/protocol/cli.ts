// What the CLI writes for a program to read, and the extension reads: the only place these
// messages are defined. The CLI builds each answer with these types and the extension checks
// each answer with these schemas, so a change on one side fails the typecheck (or the round-trip
// tests) of the other. Fields a newer CLI adds are tolerated (the schemas drop them); a field
// missing or of another type is an error the user is shown, naming the command and its answer.
// docs/dev/cli-protocol.md lists which command writes which message.
import { z } from "zod";
import {
  ATTEMPT_STATUSES,
  EVENT_TYPES,
  FINDING_KINDS,
  ORIGINS,
  RUN_MODES,
  RUN_STATUSES,
  STEP_STATUSES,
} from "../record/records";

const Strings = z.array(z.string()).readonly();

/** One entry of a run's log, as the store keeps it (`EventRecord` in core/record/records.ts). */
export const EventRecord = z.object({
  runId: z.string(),
  seq: z.number().int().min(1),
  type: z.enum(EVENT_TYPES),
  stepId: z.string().nullable(),
  /** The item or iteration (docs/dev/scopes.md); null for the step itself. */
  scope: z.string().nullable(),
  attempt: z.number().int().nullable(),
  at: z.string(),
  data: z.record(z.string(), z.unknown()).nullable(),
});

/**
 * A run's result: what `keel run --json` prints (so do `keel rerun --json` and
 * `keel resume --json`), and the last line of `--events`.
 */
export const RunSummary = z.object({
  runId: z.string(),
  status: z.enum(RUN_STATUSES),
  outputs: z.record(z.string(), z.unknown()).nullable(),
  /** What the run found wrong without failing (a success with findings is never shown bare). */
  findings: z.array(z.object({ kind: z.string(), message: z.string() })),
  error: z.string().nullable(),
  steps: z.array(
    z.object({
      id: z.string(),
      status: z.enum(STEP_STATUSES),
      attempts: z.number().int().min(0),
      durationMs: z.number(),
      /** The output came from the cache. */
      cached: z.boolean(),
    }),
  ),
});
export type RunSummary = z.infer<typeof RunSummary>;

/**
 * A piece of a streamed step's reply as it arrives (`stream: true`; docs/runner.md, "Streaming"):
 * redacted, never recorded. Joined in order, the pieces of one attempt give its reply.
 */
export const Chunk = z.object({
  runId: z.string().nullable(),
  stepId: z.string().nullable(),
  /** The item or iteration (docs/dev/scopes.md); null for the step itself. */
  scope: z.string().nullable(),
  attempt: z.number().int().nullable(),
  text: z.string(),
});
export type Chunk = z.infer<typeof Chunk>;

/**
 * One line of `keel run --events` (and `keel rerun --events`): every event as it is recorded,
 * the chunks of streamed steps as they arrive, then the result on the last line.
 */
export const EventsLine = z.union([
  z.object({ event: EventRecord }),
  z.object({ chunk: Chunk }),
  z.object({ result: RunSummary }),
]);
export type EventsLine = z.infer<typeof EventsLine>;

/** Where a replay departs from its record (`Divergence` in core/replay/divergence.ts). */
export const Divergence = z.object({
  /** The step; null for the run's outputs. */
  step: z.string().nullable(),
  /**
   * The item or iteration of the step (`[doc-17]`, `#2`), or an agent's turn or tool call (`#2`,
   * `#3/search.1`); null for the step itself.
   */
  scope: z.string().nullable(),
  field: z.string(),
  /** Where inside the step's resolved input; "" for the whole. */
  path: z.string(),
  expected: z.unknown(),
  actual: z.unknown(),
  /** 1-based line of the workflow's source that produced it; null when unknown. */
  line: z.number().int().nullable(),
  message: z.string(),
});

/** `keel replay --json`: the verdict of a replay, its first divergence or null. */
export const ReplayResult = z.object({
  /** The replay's own id (it is not stored). */
  runId: z.string(),
  replayOf: z.string(),
  status: z.enum(RUN_STATUSES),
  divergence: Divergence.nullable(),
  /** Effects that reached the outside world: 0 unless a step escaped the record. */
  effectsExecuted: z.number().int().min(0),
  outputs: z.record(z.string(), z.unknown()).nullable(),
});
export type ReplayResult = z.infer<typeof ReplayResult>;

/** A run's record as the store keeps it (`RunRecord` in core/record/records.ts). */
const RunRecord = z.object({
  id: z.string(),
  workflowPath: z.string(),
  workflowName: z.string(),
  sourceHash: z.string(),
  inputsHash: z.string(),
  /** `interrupted` for a running run whose owner is gone (core/node/liveness.ts). */
  status: z.enum(RUN_STATUSES),
  mode: z.enum(RUN_MODES),
  parentId: z.string().nullable(),
  /** The unit of the parent run that started this one (a child workflow). */
  parentScope: z.string().nullable(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  outputsHash: z.string().nullable(),
  error: z.string().nullable(),
  ownerPid: z.number().int().nullable(),
  heartbeatAt: z.string().nullable(),
});

/** `keel runs --json`: the recorded runs, newest first, with the status to show. */
export const RunList = z.array(RunRecord);
export type RunList = z.infer<typeof RunList>;

const ErrorView = z.object({ kind: z.string(), message: z.string() }).nullable();

/** An attempt as the store keeps it (`AttemptRecord` in core/record/records.ts). */
const AttemptRecord = z.object({
  runId: z.string(),
  stepId: z.string(),
  scope: z.string().nullable(),
  attempt: z.number().int(),
  status: z.enum(ATTEMPT_STATUSES),
  origin: z.enum(ORIGINS),
  inputHash: z.string(),
  outputHash: z.string().nullable(),
  errorKind: z.string().nullable(),
  errorMessage: z.string().nullable(),
  startedAt: z.string(),
  endedAt: z.string(),
  cacheKey: z.string().nullable(),
  sourceRunId: z.string().nullable(),
  meta: z.record(z.string(), z.unknown()).nullable(),
});

/**
 * An agent step's (or an agent map item's) turns and tool calls in a line: how many of each,
 * what the turns' model calls cost (null when no attempt says: scripted, reused), and why it
 * stopped (`steps.<id>.stop_reason`; null while it runs).
 */
const AgentTotals = z.object({
  turns: z.number().int().min(0),
  toolCalls: z.number().int().min(0),
  costUsd: z.number().nullable(),
  stopReason: z.string().nullable(),
});

/** `keel show <run> --json`: the run record, its outputs, findings, a line per step, attempts. */
export const ShowRun = z.object({
  run: RunRecord,
  outputs: z.unknown(),
  findings: z.array(
    z.object({
      runId: z.string(),
      kind: z.enum(FINDING_KINDS),
      message: z.string(),
      data: z.record(z.string(), z.unknown()),
    }),
  ),
  steps: z.array(
    z.object({
      id: z.string(),
      status: z.enum(STEP_STATUSES),
      attempts: z.number().int().min(0),
      durationMs: z.number(),
      origin: z.enum(ORIGINS).nullable(),
      error: z.string().nullable(),
      /** A map step's items: how many, and how many in each status; null for another step. */
      items: z
        .object({ count: z.number().int(), tally: z.record(z.string(), z.number()) })
        .nullable(),
      /** A repeated step's iterations; null when it does not repeat (an agent's turns are `agent`'s). */
      iterations: z.number().int().nullable(),
      /** The child runs the step (its items, iterations, an agent's workflow tools) started. */
      childRuns: Strings,
      /** An agent step's turns and calls, over all its items for a map; null for another step. */
      agent: AgentTotals.nullable(),
    }),
  ),
  attempts: z.array(AttemptRecord),
});
export type ShowRun = z.infer<typeof ShowRun>;

/** One attempt of the unit `keel show <run> <unit>` shows, with its values and logs. */
const AttemptView = z.object({
  attempt: z.number().int(),
  status: z.enum(ATTEMPT_STATUSES),
  origin: z.enum(ORIGINS),
  sourceRunId: z.string().nullable(),
  startedAt: z.string(),
  endedAt: z.string(),
  durationMs: z.number(),
  input: z.unknown(),
  output: z.unknown(),
  error: ErrorView,
  provider: z.string().nullable(),
  model: z.string().nullable(),
  responseId: z.string().nullable(),
  usage: z.unknown(),
  costUsd: z.number().nullable(),
  /** A streamed reply's time to first token and chunk count (core/runner/stream.ts). */
  stream: z.object({ ttftMs: z.number().nullable(), chunks: z.number().int() }).nullable(),
  /** What a streamed reply had received when its attempt failed (a stream cut off). */
  partial: z.string().nullable(),
  /** A Python tool's interpreter version and lockfile sha256 (docs/format.md, "Python tools"). */
  python: z.string().nullable(),
  lockfile: z.string().nullable(),
  /** A shell step's streams; what a tool printed (console, ctx.log), captured with its attempt. */
  logs: z.object({
    stdout: z.string().nullable(),
    stderr: z.string().nullable(),
    printed: z.string().nullable(),
  }),
});

/** One item or iteration of a step, as a row of its step's list. */
const UnitRow = z.object({
  /** Its unit key: `summarize[doc-17]`, `refine#2`. */
  unit: z.string(),
  /** An item's key, or an iteration's number (as text). */
  key: z.string(),
  /** How many iterations an item of a repeated step ran; null otherwise. */
  iterations: z.number().int().nullable(),
  status: z.enum(STEP_STATUSES),
  origin: z.enum(ORIGINS).nullable(),
  attempts: z.number().int().min(0),
  durationMs: z.number().nullable(),
  error: ErrorView,
  /** The child run it started (a workflow step); null when none. */
  childRun: z.string().nullable(),
});

/** One tool call of an agent's turn: the unit `<agent>#<turn>/<tool>.<index>`. */
const ToolCallRow = z.object({
  unit: z.string(),
  /** The tool's name as the model sent it (the unit's has characters outside [A-Za-z0-9_-] as `_`). */
  name: z.string(),
  /** Its place among the turn's calls, from 0, in the order the model sent them. */
  index: z.number().int().min(0),
  status: z.enum(STEP_STATUSES),
  origin: z.enum(ORIGINS).nullable(),
  attempts: z.number().int().min(0),
  durationMs: z.number().nullable(),
  /** A refused call's `invalid_arguments`, a failed call's error. */
  error: ErrorView,
  /** The child run a workflow tool started; null when none. */
  childRun: z.string().nullable(),
});

/** One turn of an agent: its model call (the unit `<agent>#<turn>`) and the calls it asked for. */
const TurnRow = z.object({
  unit: z.string(),
  turn: z.number().int().min(1),
  status: z.enum(STEP_STATUSES),
  origin: z.enum(ORIGINS).nullable(),
  attempts: z.number().int().min(0),
  durationMs: z.number().nullable(),
  /** The model call's token usage (its last attempt's); null when not reported or reused. */
  usage: z.object({ input: z.number(), output: z.number() }).nullable(),
  /** Its attempts' costs summed; null when none says (scripted, reused). */
  costUsd: z.number().nullable(),
  error: ErrorView,
  /**
   * How many tool calls its reply asked for (0: the reply is the agent's answer); more than
   * `calls` when a limit stopped the agent before they ran. Null when the reply is not read.
   */
  asked: z.number().int().min(0).nullable(),
  calls: z.array(ToolCallRow),
});

/**
 * `keel show <run> <unit> --json`: one step, or an item or iteration of one, or an agent's turn
 * or tool call, as its record holds it (docs/cli.md).
 */
export const ShowStep = z.object({
  runId: z.string(),
  workflow: z.string(),
  step: z.string(),
  /** The unit shown (`[doc-17]`, `#2`, `#2/search.0`); null for the step itself. */
  scope: z.string().nullable(),
  type: z.string().nullable(),
  status: z.enum(STEP_STATUSES),
  origin: z.enum(ORIGINS).nullable(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  /** The resolved input of the last attempt: what the unit was sent when it ended. */
  input: z.unknown(),
  output: z.unknown(),
  error: ErrorView,
  attempts: z.array(AttemptView),
  /** A map step's items in list order, with their tally; null for another step or a unit. */
  items: z.array(UnitRow).nullable(),
  tally: z.record(z.string(), z.number()).nullable(),
  /** A repeated step's (or item's) iterations by number; null when it does not repeat. */
  iterations: z.array(UnitRow).nullable(),
  /** The child runs it started: its own, its iterations', its items', its tool calls'. */
  childRuns: Strings,
  /** An agent step (or an item of an agent map): its totals, and its turns in order. */
  agent: AgentTotals.nullable(),
  turns: z.array(TurnRow).nullable(),
  /** A turn of an agent: its number and the tool calls its reply asked for. */
  turn: z.object({ turn: z.number().int().min(1), calls: z.array(ToolCallRow) }).nullable(),
  /**
   * A tool call of an agent: its turn, index, the tool's name and the arguments as the model
   * sent them (raw text, JSON or not); null arguments when the turn's reply is not in the record.
   */
  call: z
    .object({
      turn: z.number().int().min(1),
      index: z.number().int().min(0),
      name: z.string(),
      arguments: z.string().nullable(),
    })
    .nullable(),
});
export type ShowStep = z.infer<typeof ShowStep>;

/** `keel rerun --from <step> --plan`: what a rerun would do; nothing runs. */
export const RerunPlan = z.object({
  from: z.string(),
  /** Steps whose recorded outputs are reused. */
  reused: Strings,
  /** Steps that run again. */
  live: Strings,
  /** Of those, the steps that reach outside (the editor asks before they do). */
  effectful: Strings,
  /** Reused steps changed since the parent run (only with --force). */
  changed: Strings,
});
export type RerunPlan = z.infer<typeof RerunPlan>;

const Pair = <T extends z.ZodType>(t: T) => z.tuple([t, t]).readonly();

/** An item of a map step (by key) or an iteration of a repeated step (its number as text). */
const UnitDiff = z.object({
  key: z.string(),
  status: Pair(z.string()),
  inputEqual: z.boolean(),
  outputEqual: z.boolean(),
  latencyMs: Pair(z.number().nullable()),
  /** Anything but latency differs, an iteration of the item included. */
  differs: z.boolean(),
});

/**
 * `keel diff --json`: two recorded runs compared, as the core's `diffRuns` returns them
 * (`RunDiff` in core/replay/diff.ts). Each pair is [run a, run b]; a status is "absent" when the
 * step did not run there.
 */
export const RunDiff = z.object({
  a: z.string(),
  b: z.string(),
  /** The first step that differs, in run a's order; null when none does. */
  firstDivergence: z.string().nullable(),
  steps: z
    .array(
      z.object({
        step: z.string(),
        status: Pair(z.string()),
        inputEqual: z.boolean(),
        outputEqual: z.boolean(),
        latencyMs: Pair(z.number().nullable()),
        costUsd: Pair(z.number().nullable()),
        model: Pair(z.string().nullable()),
        fingerprint: Pair(z.string().nullable()),
        /** Anything above but latency, or an item or iteration, differs. */
        differs: z.boolean(),
        /** A map step's items by key: run a's in list order, then those only in run b. */
        items: z.array(UnitDiff).readonly().optional(),
        /** A repeated step's iterations by number. */
        iterations: z.array(UnitDiff).readonly().optional(),
        /** An agent's turns by number. */
        turns: z.array(UnitDiff).readonly().optional(),
        /** An agent's tool calls, keyed `<turn>/<tool>.<index>`. */
        calls: z.array(UnitDiff).readonly().optional(),
      }),
    )
    .readonly(),
});
export type RunDiff = z.infer<typeof RunDiff>;

type UnitDiff = z.infer<typeof UnitDiff>;

/**
 * How a diff's step differs in its items and iterations, in words (keel diff's row, the panel's
 * inspector): how many of those in both runs differ and which (`3 of 42 items differ (doc-3,
 * doc-17, doc-30)`), then the keys only in run b (added) and only in run a (removed). Empty when
 * none differs.
 */
export function scopesInWords(row: RunDiff["steps"][number]): string[] {
  return [
    ...unitsInWords(row.items ?? [], "item", (k) => k),
    ...unitsInWords(row.iterations ?? [], "iteration", (k) => `#${k}`),
    ...unitsInWords(row.turns ?? [], "turn", (k) => `#${k}`),
    ...unitsInWords(row.calls ?? [], "tool call", (k) => `#${k}`),
  ];
}

function unitsInWords(
  rows: readonly UnitDiff[],
  noun: string,
  name: (key: string) => string,
): string[] {
  const both = rows.filter((u) => u.status[0] !== "absent" && u.status[1] !== "absent");
  const differ = both.filter((u) => u.differs);
  const added = rows.filter((u) => u.status[0] === "absent");
  const removed = rows.filter((u) => u.status[1] === "absent");
  const count = (n: number) => `${n} ${noun}${n === 1 ? "" : "s"}`;
  const listed = (us: readonly UnitDiff[]) =>
    ` (${us
      .slice(0, 5)
      .map((u) => name(u.key))
      .join(", ")}${us.length > 5 ? ", …" : ""})`;
  const out: string[] = [];
  if (differ.length > 0)
    out.push(
      `${differ.length} of ${count(both.length)} differ${differ.length === 1 ? "s" : ""}${listed(differ)}`,
    );
  if (added.length > 0) out.push(`${count(added.length)} added${listed(added)}`);
  if (removed.length > 0) out.push(`${count(removed.length)} removed${listed(removed)}`);
  return out;
}
