// `keel show <run> <step>`: one step of a recorded run as its record holds it: the resolved input
// it was sent (prompt, request, arguments, command), its output, every attempt (status, origin,
// error, timing, provider and model, usage) and what it printed (a shell step's stdout and
// stderr, a tool's captured output). Secrets were replaced before anything was recorded.
import { parse } from "yaml";
import { foldToEnd } from "@keel/core/record/fold";
import type { RecordedRun } from "@keel/core/replay/record";
import type { AttemptRecord } from "@keel/core/record/records";
import { didYouMean } from "@keel/core/model/suggest";
import { styleFor, UsageError, type Style } from "../output";
import { duration } from "../progress";

/** What one attempt printed: a shell step's streams, a tool's captured output. */
interface Logs {
  readonly stdout: string | null;
  readonly stderr: string | null;
  /** What a tool printed (console, ctx.log), captured with its attempt. */
  readonly printed: string | null;
}

interface AttemptView {
  readonly attempt: number;
  readonly status: AttemptRecord["status"];
  readonly origin: AttemptRecord["origin"];
  readonly sourceRunId: string | null;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly durationMs: number;
  readonly input: unknown;
  readonly output: unknown;
  readonly error: { readonly kind: string; readonly message: string } | null;
  readonly provider: string | null;
  readonly model: string | null;
  readonly responseId: string | null;
  readonly usage: unknown;
  readonly costUsd: number | null;
  readonly logs: Logs;
}

export interface StepView {
  readonly runId: string;
  readonly workflow: string;
  readonly step: string;
  readonly type: string | null;
  readonly status: string;
  readonly origin: string | null;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly durationMs: number | null;
  /** The resolved input of the last attempt: what the step was sent when it ended. */
  readonly input: unknown;
  readonly output: unknown;
  readonly error: { readonly kind: string; readonly message: string } | null;
  readonly attempts: readonly AttemptView[];
}

/** Prints the step (`--json`: the StepView); bad usage when the run has no such step. */
export function showStep(record: RecordedRun, stepId: string, json: boolean): number {
  const view = stepView(record, stepId);
  if (json) process.stdout.write(JSON.stringify(view, null, 2) + "\n");
  else process.stdout.write(formatStep(view, styleFor(process.stdout)));
  return 0;
}

export function stepView(record: RecordedRun, stepId: string): StepView {
  const types = stepTypes(record.source);
  const state = foldToEnd(record.events, record.attempts).step(stepId);
  if ((!state || state.lastSeq === 0) && !types.has(stepId)) {
    const known = [...types.keys()];
    throw new UsageError(
      `run ${record.run.id} has no step '${stepId}'${didYouMean(stepId, known)}${known.length ? ` (its steps: ${known.join(", ")})` : ""}`,
    );
  }
  const attempts = record.attempts
    .filter((a) => a.stepId === stepId)
    .map((a) => attemptView(record, a));
  const last = attempts.at(-1);
  const endedAt = state?.ended?.at ?? null;
  const startedAt = state?.startedAt ?? attempts[0]?.startedAt ?? null;
  return {
    runId: record.run.id,
    workflow: record.run.workflowName,
    step: stepId,
    type: types.get(stepId) ?? null,
    status: state?.status ?? "pending",
    origin: state?.origin ?? null,
    startedAt,
    endedAt,
    durationMs: startedAt && endedAt ? Date.parse(endedAt) - Date.parse(startedAt) : null,
    input: last ? last.input : null,
    output: state?.output ? (record.value(state.output) ?? null) : null,
    error: state?.status === "failed" || state?.status === "cancelled" ? state.error : null,
    attempts,
  };
}

function attemptView(record: RecordedRun, a: AttemptRecord): AttemptView {
  const meta = a.meta ?? {};
  const text = (key: string) => (typeof meta[key] === "string" ? (meta[key] as string) : null);
  const output = a.outputHash ? (record.value(a.outputHash) ?? null) : null;
  return {
    attempt: a.attempt,
    status: a.status,
    origin: a.origin,
    sourceRunId: a.sourceRunId,
    startedAt: a.startedAt,
    endedAt: a.endedAt,
    durationMs: Date.parse(a.endedAt) - Date.parse(a.startedAt),
    input: record.value(a.inputHash) ?? null,
    output,
    error: a.errorKind ? { kind: a.errorKind, message: a.errorMessage ?? "" } : null,
    provider: text("provider"),
    model: text("model"),
    responseId: text("responseId"),
    usage: meta.usage ?? null,
    costUsd: typeof meta.costUsd === "number" ? meta.costUsd : null,
    logs: { ...streamsOf(output), printed: text("log") },
  };
}

/** A shell step's output holds what it printed: `{ exit_code, stdout, stderr }`. */
function streamsOf(output: unknown): Pick<Logs, "stdout" | "stderr"> {
  if (!output || typeof output !== "object" || !("exit_code" in output))
    return { stdout: null, stderr: null };
  const o = output as { stdout?: unknown; stderr?: unknown };
  const asText = (v: unknown) =>
    v === undefined || v === null ? null : typeof v === "string" ? v : JSON.stringify(v, null, 2);
  return { stdout: asText(o.stdout), stderr: asText(o.stderr) };
}

/** Each step's type, read from the recorded source; empty when it does not parse. */
function stepTypes(source: string): Map<string, string> {
  const out = new Map<string, string>();
  try {
    const steps = (parse(source) as { steps?: Record<string, { type?: unknown }> } | null)?.steps;
    for (const [id, step] of Object.entries(steps ?? {}))
      out.set(id, typeof step?.type === "string" ? step.type : "");
  } catch {
    // The record's source is shown as it is; without its types, steps are still found in the log.
  }
  return out;
}

function formatStep(v: StepView, s: Style): string {
  const lines: string[] = [];
  const colour = v.status === "succeeded" ? s.green : v.status === "failed" ? s.red : s.yellow;
  const head = [
    s.bold(v.step),
    v.type ?? "",
    colour(v.status),
    v.origin && v.origin !== "live" ? v.origin : "",
    v.durationMs !== null ? duration(v.durationMs) : "",
  ].filter(Boolean);
  lines.push(`${head.join("  ")}  ${s.dim(`(run ${v.runId}, ${v.workflow})`)}`);
  if (v.error) lines.push(s.red(`${v.error.kind}: ${v.error.message}`));
  if (v.attempts.length === 0) lines.push(s.dim("no attempt was recorded for this step"));
  else if (v.origin === "reused" && v.input === null) {
    // A reused step did not run here: what it was sent is in the run it came from.
    const from = v.attempts.at(-1)?.sourceRunId;
    lines.push(
      s.dim(`input: not sent in this run (reused${from ? `: keel show ${from} ${v.step}` : ""})`),
    );
  } else block(lines, s, "input", json(v.input));
  if (v.output !== null) block(lines, s, "output", json(v.output));
  for (const [i, a] of v.attempts.entries()) {
    lines.push("");
    lines.push(
      s.bold(`attempt ${a.attempt}`) +
        `  ${a.status === "succeeded" ? s.green(a.status) : s.red(a.status)}  ${a.origin}  ${duration(a.durationMs)}  ${s.dim(a.startedAt)}`,
    );
    if (a.sourceRunId) lines.push(`  from run ${a.sourceRunId}`);
    const call = [
      a.provider ? `provider ${a.provider}` : "",
      a.model ? `model ${a.model}` : "",
      usageText(a.usage),
      a.costUsd !== null ? `$${a.costUsd.toFixed(6)}` : "",
      a.responseId ? s.dim(`response ${a.responseId}`) : "",
    ].filter(Boolean);
    if (call.length > 0) lines.push(`  ${call.join(", ")}`);
    if (a.error) lines.push(`  ${s.red(`${a.error.kind}: ${a.error.message}`)}`);
    // An attempt sent something else than the step's last one (a fallback, a changed retry).
    const later = v.attempts[i + 1] ?? null;
    if (later && json(a.input) !== json(v.input)) block(lines, s, "input", json(a.input), "  ");
    if (later && a.output !== null) block(lines, s, "output", json(a.output), "  ");
    if (a.logs.stdout) block(lines, s, "stdout", a.logs.stdout, "  ");
    if (a.logs.stderr) block(lines, s, "stderr", a.logs.stderr, "  ");
    if (a.logs.printed) block(lines, s, "printed", a.logs.printed, "  ");
  }
  return lines.join("\n") + "\n";
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? "null";
}

/** A titled, indented block; a text's last newline is not a line of its own. */
function block(lines: string[], s: Style, title: string, text: string, indent = ""): void {
  lines.push(`${indent}${s.dim(`${title}:`)}`);
  for (const line of text.replace(/\n$/, "").split("\n")) lines.push(`${indent}  ${line}`);
}

function usageText(usage: unknown): string {
  if (!usage || typeof usage !== "object") return "";
  const u = usage as { input?: unknown; output?: unknown };
  if (typeof u.input !== "number" && typeof u.output !== "number") return "";
  return `${String(u.input ?? "?")} tokens in, ${String(u.output ?? "?")} out`;
}
