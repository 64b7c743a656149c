// The only place where Keel's extensions to LSP are defined: settings, custom methods and the
// commands code lenses carry. Each message is checked with zod where it arrives; a bad message is
// logged and dropped. Any LSP client can ignore all of it: the standard features work without.
import { z } from "zod";
import { ORIGINS, RUN_STATUSES, STEP_STATUSES } from "../record/records";

const Level = z.enum(["error", "warning", "information", "hint", "off"]);

/**
 * Server settings: sent as `initializationOptions` at start, and as `settings.keel` in
 * `workspace/didChangeConfiguration`. Severities apply on top of `.keel/settings.json`.
 */
export const ServerSettings = z
  .object({
    /** Wait this long after the last change before publishing diagnostics; 0 publishes at once. */
    debounceMs: z.number().int().min(0).max(10_000),
    /** Severity per code (`KEEL207`) or code name (`undeclared-output-field`), or `off`. */
    severity: z.record(z.string(), Level),
  })
  .partial();
export type ServerSettings = z.infer<typeof ServerSettings>;

export const DEFAULT_DEBOUNCE_MS = 150;

/** A step of a recorded run, as hover and code lenses show it. */
export const StepRunSummary = z.object({
  status: z.enum(STEP_STATUSES),
  origin: z.enum(ORIGINS).optional(),
  durationMs: z.number().min(0).optional(),
  /** A short rendering of the output (the extension truncates it). */
  outputPreview: z.string().optional(),
  error: z.string().optional(),
  /**
   * An llm step's prompt as its last attempt rendered it, when it came from a prompt file: each
   * message as `role: text` (docs/editor.md "Prompt files"; the extension truncates it).
   */
  promptPreview: z.string().optional(),
});
export type StepRunSummary = z.infer<typeof StepRunSummary>;

export const LastRun = z.object({
  runId: z.string(),
  status: z.enum(RUN_STATUSES),
  /** ISO-8601 time the run started. */
  startedAt: z.string().optional(),
  steps: z.record(z.string(), StepRunSummary),
});
export type LastRun = z.infer<typeof LastRun>;

/**
 * Server → client request: the newest recorded run of the workflow at `uri`, or null. The
 * extension answers from the run store; a client without a handler answers MethodNotFound, and
 * the server then stops asking. Hover and code lenses work without an answer.
 */
export const lastRunRequest = {
  method: "keel/lastRun",
  params: z.object({ uri: z.string() }),
  result: LastRun.nullable(),
} as const;

/**
 * Client → server notification: a run of the workflow at `uri` finished (or any workflow, when
 * `uri` is absent). The server forgets the last runs it was told and asks clients that support it
 * to refresh code lenses (`workspace/codeLens/refresh`).
 */
export const runDidFinishNotification = {
  method: "keel/runDidFinish",
  params: z.object({ uri: z.string().optional(), runId: z.string().optional() }),
} as const;

/** Commands carried by code lenses; the extension implements them. Arguments: `[uri, stepId?]`. */
export const COMMANDS = {
  /** Run the whole workflow: `[uri]`. */
  runWorkflow: "keel.workflow.run",
  /** Run one step, reusing recorded upstream outputs: `[uri, stepId]`. */
  runStep: "keel.step.run",
  /** Run the step and everything it depends on: `[uri, stepId]`. */
  runToStep: "keel.step.runTo",
  /** Show a step of a recorded run: `[uri, stepId, runId]`. */
  showStepRun: "keel.stepRun.show",
} as const;
