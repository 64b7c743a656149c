// What the CLI writes for a program to read, and the extension reads: the only place these
// messages are defined. The CLI builds each answer with these types and the extension checks
// each answer with these schemas, so a change on one side fails the typecheck (or the round-trip
// tests) of the other. Fields a newer CLI adds are tolerated (the schemas drop them); a field
// missing or of another type is an error the user is shown, naming the command and its answer.
// docs/dev/cli-protocol.md lists which command writes which message.
import { z } from "zod";
import { EVENT_TYPES, RUN_MODES, RUN_STATUSES, STEP_STATUSES } from "../record/records";

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
  /** The item or iteration of the step (`[doc-17]`, `#2`); null for the step itself. */
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

/** `keel runs --json`: the recorded runs, newest first, with the status to show. */
export const RunList = z.array(
  z.object({
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
  }),
);
export type RunList = z.infer<typeof RunList>;

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
