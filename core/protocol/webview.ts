// The graph panel's messages, both ways between the extension host and the webview. Each side
// checks what arrives with these schemas; a bad message is logged and dropped, never thrown into
// React or the event loop.
import { z } from "zod";
import { ATTEMPT_STATUSES, ORIGINS, STEP_STATUSES } from "../record/records";
import type { AgentLanes } from "../record/agent-lanes";
import { EventRecord, RunDiff } from "./cli";

export const StepType = z.enum([
  "llm",
  "http",
  "tool",
  "shell",
  "transform",
  "assert",
  "workflow",
  "agent",
  "unknown",
]);

/** The workflow as a graph: what parses of the file, also while it has errors. */
export const GraphMessage = z.object({
  type: z.literal("graph"),
  /** The workflow file the panel shows. */
  uri: z.string(),
  name: z.string(),
  steps: z.array(
    z.object({
      id: z.string(),
      type: StepType,
      /** Zero-based line of the step's key. */
      line: z.number().int().min(0),
      /** The step has an `if`: edges into it are drawn dashed. */
      conditional: z.boolean(),
      /** The step has `for_each`: its node counts its items (docs/editor.md, "The graph panel"). */
      map: z.boolean().optional(),
      /** A `workflow` step with `repeat`: its node counts its iterations. */
      repeat: z.boolean().optional(),
    }),
  ),
  edges: z.array(z.object({ from: z.string(), to: z.string() })),
  /** Error diagnostics in the file: the panel says the graph may be incomplete. */
  errors: z.number().int().min(0),
});
export type GraphMessage = z.infer<typeof GraphMessage>;

export const StepStatus = z.enum(STEP_STATUSES);

/** A map's items or a loop's iterations by status (core/record/fold.ts Tally). */
export const TallyMessage = z.object({
  pending: z.number().int().min(0),
  running: z.number().int().min(0),
  succeeded: z.number().int().min(0),
  failed: z.number().int().min(0),
  skipped: z.number().int().min(0),
  cancelled: z.number().int().min(0),
});

/**
 * An agent step's turns, each with its tool calls (core/record/agent-lanes.ts): the node's
 * summary and its lanes when expanded (docs/editor.md, "Agents").
 */
export const AgentLanesMessage = z.object({
  turns: z.array(
    z.object({
      turn: z.number().int().min(1),
      status: StepStatus,
      ms: z.number().min(0).optional(),
      costUsd: z.number().min(0).optional(),
      calls: z.array(
        z.object({
          /** As in the call's scope: `[A-Za-z0-9_-]`, a made-up name made safe by the runner. */
          name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
          index: z.number().int().min(0),
          status: StepStatus,
          ms: z.number().min(0).optional(),
          refused: z.boolean().optional(),
        }),
      ),
    }),
  ),
  costUsd: z.number().min(0).optional(),
}) satisfies z.ZodType<AgentLanes>;

/** Step states of a run, live or recorded; steps not listed are pending. */
export const StatusMessage = z.object({
  type: z.literal("status"),
  runId: z.string(),
  steps: z.record(
    z.string(),
    z.object({
      status: StepStatus,
      durationMs: z.number().min(0).optional(),
      attempts: z.number().int().min(0).optional(),
      cached: z.boolean().optional(),
      /** A map step's item count, once its list is known. */
      items: z.number().int().min(0).optional(),
      /** A map's items or a loop's iterations known so far, by status. */
      tally: TallyMessage.optional(),
      /** A loop's iterations' statuses by number, `[0]` being #1 (the node's lane of cells). */
      iterations: z.array(StepStatus).optional(),
      /** An agent step's turns and tool calls so far (its node's summary and lanes). */
      agent: AgentLanesMessage.optional(),
      /**
       * A streamed step's reply so far (`stream: true`), redacted: its latest attempt's chunks
       * from `keel run --events`, joined (the inspector shows it growing).
       */
      reply: z.string().optional(),
    }),
  ),
});
export type StatusMessage = z.infer<typeof StatusMessage>;

const AttemptRecord = z.object({
  runId: z.string(),
  stepId: z.string(),
  /** The item or iteration (docs/dev/scopes.md); null for the step itself. */
  scope: z.string().nullable(),
  attempt: z.number().int().min(1),
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

/** A recorded run to step through: its whole log and its attempts. */
export const RecordingMessage = z.object({
  type: z.literal("recording"),
  runId: z.string(),
  status: z.string(),
  startedAt: z.string(),
  /** A child run's parent run and the unit there that started it (`per_ticket[t-9]`, `refine#2`). */
  parentId: z.string().nullable().optional(),
  parentScope: z.string().nullable().optional(),
  events: z.array(EventRecord),
  attempts: z.array(AttemptRecord),
});
export type RecordingMessage = z.infer<typeof RecordingMessage>;

/** The JSON text of a value reference the panel asked for (null: not in the store). */
export const ValueMessage = z.object({
  type: z.literal("value"),
  ref: z.string(),
  text: z.string().nullable(),
});

/** The editor's cursor entered a step: select its node. */
export const SelectMessage = z.object({ type: z.literal("select"), id: z.string().nullable() });

/**
 * Two recorded runs compared, as `keel diff --json` answers them (core/protocol/cli.ts): the host
 * sends `{ type: "diff", ...diff }`.
 */
export const DiffMessage = RunDiff.extend({ type: z.literal("diff") });
export type DiffMessage = z.infer<typeof DiffMessage>;

/**
 * The replay debugger (docs/debugger.md) stopped at event `index` of run `runId` (the panel was
 * sent that run's recording first): move the step-through there and select the event's step. While
 * `active`, the step-through controls move the debugger; `active: false` when the session ends.
 */
export const DebugMessage = z.object({
  type: z.literal("debug"),
  runId: z.string(),
  active: z.boolean(),
  index: z.number().int().min(0).optional(),
  stepId: z.string().nullable().optional(),
});
export type DebugMessage = z.infer<typeof DebugMessage>;

export const HostMessage = z.discriminatedUnion("type", [
  GraphMessage,
  StatusMessage,
  SelectMessage,
  RecordingMessage,
  ValueMessage,
  DiffMessage,
  DebugMessage,
]);
export type HostMessage = z.infer<typeof HostMessage>;

/** What the panel asks of the extension. */
export const PanelMessage = z.discriminatedUnion("type", [
  /** The panel is listening: send it the graph. */
  z.object({ type: z.literal("ready") }),
  /** A node was selected: reveal the step in the editor. */
  z.object({ type: z.literal("select"), id: z.string() }),
  /** Run one step ("step") or the step and everything upstream of it ("to"). */
  z.object({ type: z.literal("run"), what: z.enum(["step", "to"]), id: z.string() }),
  /** The inspector needs a value's text (an input, an output) by its reference. */
  z.object({ type: z.literal("value"), ref: z.string() }),
  /**
   * Rerun the recorded run `runId` from step `from` (the host lists what runs again and asks:
   * docs/replay.md, "Rerun from a step").
   */
  z.object({ type: z.literal("rerun"), runId: z.string(), from: z.string() }),
  /**
   * Move the replay debugger to event `seq` of run `runId` ("Debug from here", and the
   * step-through controls while a session follows the panel); starts a session when none does.
   */
  z.object({ type: z.literal("debug"), runId: z.string(), seq: z.number().int().min(1) }),
  /**
   * Show recorded run `runId` (a child run of the shown run, or its parent) in the graph panel of
   * its own workflow file, opened beside if need be.
   */
  z.object({ type: z.literal("open"), runId: z.string() }),
]);
export type PanelMessage = z.infer<typeof PanelMessage>;
