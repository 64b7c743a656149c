// The graph panel's messages, both ways between the extension host and the webview. Each side
// checks what arrives with these schemas; a bad message is logged and dropped, never thrown into
// React or the event loop.
import { z } from "zod";

export const StepType = z.enum(["llm", "http", "tool", "shell", "transform", "assert", "unknown"]);

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
    }),
  ),
  edges: z.array(z.object({ from: z.string(), to: z.string() })),
  /** Error diagnostics in the file: the panel says the graph may be incomplete. */
  errors: z.number().int().min(0),
});
export type GraphMessage = z.infer<typeof GraphMessage>;

export const StepStatus = z.enum([
  "pending",
  "running",
  "succeeded",
  "failed",
  "skipped",
  "cancelled",
]);

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
    }),
  ),
});
export type StatusMessage = z.infer<typeof StatusMessage>;

/** The editor's cursor entered a step: select its node. */
export const SelectMessage = z.object({ type: z.literal("select"), id: z.string().nullable() });

export const HostMessage = z.discriminatedUnion("type", [
  GraphMessage,
  StatusMessage,
  SelectMessage,
]);
export type HostMessage = z.infer<typeof HostMessage>;

/** What the panel asks of the extension. */
export const PanelMessage = z.discriminatedUnion("type", [
  /** The panel is listening: send it the graph. */
  z.object({ type: z.literal("ready") }),
  /** A node was selected: reveal the step in the editor. */
  z.object({ type: z.literal("select"), id: z.string() }),
  z.object({ type: z.literal("run"), what: z.enum(["step", "to"]), id: z.string() }),
]);
export type PanelMessage = z.infer<typeof PanelMessage>;
