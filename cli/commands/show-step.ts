// `keel show <run> <step>`: one step of a recorded run as its record holds it: the resolved input
// it was sent (prompt, request, arguments, command), its output, every attempt (status, origin,
// error, timing, provider and model, usage) and what it printed (a shell step's stdout and
// stderr, a tool's captured output). Secrets were replaced before anything was recorded.
// `<step>` may name one item or iteration of a step (a unit key: `summarize[doc-17]`, `refine#2`),
// shown the same way; a map step lists its items, a repeated step its iterations, and a workflow
// step (or its item or iteration) names the child run it started. An agent step lists its turns
// and tool calls, and `agent#2`, `agent#2/search.0` show one turn or call (show-agent.ts;
// docs/cli.md).
import { parse } from "yaml";
import { foldToEnd, type RunFold, type StepAt } from "@keel/core/record/fold";
import type { RecordedRun } from "@keel/core/replay/record";
import { splitUnit, type AttemptRecord } from "@keel/core/record/records";
import { didYouMean } from "@keel/core/model/suggest";
import type { ShowStep } from "@keel/core/protocol/cli";
import { styleFor, UsageError, type Style } from "../output";
import { duration } from "../progress";
import {
  agentScope,
  agentTotals,
  agentTurns,
  argumentsLines,
  noAgentUnit,
  sentCalls,
  totalsText,
  turnDetailLines,
  turnLines,
  turnsHint,
  usageText,
} from "./show-agent";

type StepView = ShowStep;
type AttemptView = StepView["attempts"][number];
type Logs = AttemptView["logs"];
/** One item or iteration of a step, as a row of its step's list. */
type UnitRow = NonNullable<StepView["items"]>[number];

/** How many of a map step's items are in each status. */
export type ItemTally = Readonly<Record<string, number>>;

/**
 * Prints the step, item or iteration `key` names (`--json`: the StepView); bad usage when the run
 * has no such step or unit.
 */
export function showStep(record: RecordedRun, key: string, json: boolean): number {
  const view = stepView(record, key);
  if (json) process.stdout.write(JSON.stringify(view, null, 2) + "\n");
  else process.stdout.write(formatStep(view, styleFor(process.stdout)));
  return 0;
}

/** The step, or the item or iteration of a step, that the unit key `key` names. */
export function stepView(record: RecordedRun, key: string): StepView {
  const { stepId, scope } = splitUnit(key);
  const types = stepTypes(record.source);
  const fold = foldToEnd(record.events, record.attempts);
  const own = fold.step(stepId);
  if ((!own || own.lastSeq === 0) && !types.has(stepId)) {
    const known = [...types.keys()];
    throw new UsageError(
      `run ${record.run.id} has no step '${stepId}'${didYouMean(stepId, known)}${known.length ? ` (its steps: ${known.join(", ")})` : ""}`,
    );
  }
  const agent = types.get(stepId) === "agent";
  const part = agent && scope !== null ? agentScope(scope) : null;
  const state = scope === null ? own : fold.unit(key);
  if (!state)
    throw new UsageError(
      part || (agent && scope!.startsWith("#"))
        ? noAgentUnit(record.run.id, stepId, key, fold)
        : noUnit(record, fold, stepId, key),
    );
  const attempts = record.attempts
    .filter((a) => a.stepId === stepId && a.scope === scope)
    .map((a) => attemptView(record, a));
  const last = attempts.at(-1);
  const endedAt = state?.ended?.at ?? null;
  const startedAt = state?.startedAt ?? attempts[0]?.startedAt ?? null;
  const units = unitsOf(fold, stepId, scope);
  // An agent's turns are not a loop's iterations: an agent unit (the step, or an item of an agent
  // map) lists its turns, and a turn or call says which it is (show-agent.ts).
  const counts = units.items && !agent ? iterationCounts(fold, stepId) : new Map<string, number>();
  const reply = (turn: StepAt) => (turn.output ? record.value(turn.output) : undefined);
  const turns =
    agent && !units.items && (scope === null || /^\[.*\]$/s.test(scope))
      ? agentTurns(fold, stepId, scope, reply)
      : null;
  const sent = part?.call ? callOf(fold, stepId, part, record) : undefined;
  const turnOf = (n: number) =>
    agentTurns(fold, stepId, part!.base, reply).find((t) => t.turn === n);
  return {
    runId: record.run.id,
    workflow: record.run.workflowName,
    step: stepId,
    scope,
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
    items: units.items && units.items.map((u) => unitRow(u, counts)),
    tally: units.items && tallyOf(units.items),
    iterations:
      turns || part ? null : units.iterations && units.iterations.map((u) => unitRow(u, counts)),
    childRuns: turns
      ? [
          ...new Set([
            ...(state.childRun ? [state.childRun] : []),
            ...turns.flatMap((t) => t.calls.flatMap((c) => (c.childRun ? [c.childRun] : []))),
          ]),
        ]
      : units.childRuns,
    agent: turns && agentTotals(turns, state),
    turns,
    turn: part && !part.call ? { turn: part.turn, calls: turnOf(part.turn)?.calls ?? [] } : null,
    call: part?.call
      ? {
          turn: part.turn,
          index: part.call.index,
          name: sent?.name || part.call.name,
          arguments: sent?.arguments ?? null,
        }
      : null,
  };
}

/** The call as the turn's recorded reply holds it: the tool's name and the raw arguments. */
function callOf(
  fold: RunFold,
  stepId: string,
  part: NonNullable<ReturnType<typeof agentScope>>,
  record: RecordedRun,
): ReturnType<typeof sentCalls>[number] | undefined {
  const turn = fold.unit(`${stepId}${part.base ?? ""}#${part.turn}`);
  return turn?.output ? sentCalls(record.value(turn.output))[part.call!.index] : undefined;
}

/**
 * The units under a step (`scope` null) or under one of its items: its items (a map step's, in
 * list order) and its iterations (by number), null when it has none, and every child run they
 * and it started.
 */
export function unitsOf(
  fold: RunFold,
  stepId: string,
  scope: string | null,
): {
  readonly items: readonly StepAt[] | null;
  readonly iterations: readonly StepAt[] | null;
  readonly childRuns: readonly string[];
} {
  const all = fold.units(stepId);
  // An item's scope is its key in brackets; an iteration's `#n` after its unit's scope.
  const items = scope === null ? all.filter((u) => /^\[.*\]$/s.test(u.scope!)) : [];
  const prefix = scope ?? "";
  const iterations = all.filter(
    (u) => u.scope!.startsWith(`${prefix}#`) && /^\d+$/.test(u.scope!.slice(prefix.length + 1)),
  );
  const self = scope === null ? fold.step(stepId) : fold.unit(stepId + scope);
  const under = scope === null ? all : [self, ...iterations];
  const childRuns = [self, ...under].flatMap((u) => (u?.childRun ? [u.childRun] : []));
  return {
    items: items.length > 0 || self?.items != null ? items : null,
    iterations: iterations.length > 0 ? iterations : null,
    childRuns: [...new Set(childRuns)],
  };
}

/** How many iterations each item of a repeated map step ran, by the item's scope. */
function iterationCounts(fold: RunFold, stepId: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const u of fold.units(stepId)) {
    const m = /^(\[.*\])#\d+$/s.exec(u.scope!);
    if (m) out.set(m[1]!, (out.get(m[1]!) ?? 0) + 1);
  }
  return out;
}

/** The row of the item or iteration `u`; `iterations`: iterationCounts of its step. */
function unitRow(u: StepAt, iterations: ReadonlyMap<string, number>): UnitRow {
  const scope = u.scope!;
  const ended = u.ended?.at ?? null;
  const item = scope.endsWith("]");
  return {
    unit: u.id,
    key: item ? scope.slice(1, -1) : scope.slice(scope.lastIndexOf("#") + 1),
    // An item of a repeated step: its iterations have the attempts.
    iterations: (item && iterations.get(scope)) || null,
    status: u.status,
    origin: u.origin,
    attempts: u.attempts,
    durationMs: u.startedAt && ended ? Date.parse(ended) - Date.parse(u.startedAt) : null,
    error: u.status === "failed" || u.status === "cancelled" ? u.error : null,
    childRun: u.childRun,
  };
}

/** How many units are in each status that any is in. */
export function tallyOf(units: readonly { readonly status: string }[]): ItemTally {
  const out: Record<string, number> = {};
  for (const u of units) out[u.status] = (out[u.status] ?? 0) + 1;
  return out;
}

/** `40 ✓ 2 ✗` and the other statuses that have units (`1 cancelled`). */
export function tallyText(tally: ItemTally, s: Style): string {
  const rest = Object.entries(tally)
    .filter(([status, n]) => n > 0 && status !== "succeeded" && status !== "failed")
    .map(([status, n]) => `${n} ${status}`);
  return [
    `${tally.succeeded ?? 0} ${s.green("✓")} ${tally.failed ?? 0} ${s.red("✗")}`,
    ...rest,
  ].join(", ");
}

/** A unit key of a known step that names no item or iteration: what it has, and the closest. */
function noUnit(record: RecordedRun, fold: RunFold, stepId: string, key: string): string {
  const units = unitsOf(fold, stepId, null);
  const keys = fold.units(stepId).map((u) => u.id);
  const what = key.slice(stepId.length).startsWith("#") ? "iteration" : "item";
  const its = [
    units.items ? `${units.items.length} items` : "",
    units.iterations ? `${units.iterations.length} iterations` : "",
  ].filter(Boolean);
  const has =
    its.length === 0
      ? `step '${stepId}' has no items or iterations`
      : `keel show ${record.run.id} ${stepId} lists its ${its.join(" and ")}`;
  return `run ${record.run.id} has no ${what} '${key}'${didYouMean(key, keys)} (${has})`;
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
    stream: streamOf(meta.stream),
    partial: text("partial"),
    python: text("python"),
    lockfile: text("lockfile"),
    logs: { ...streamsOf(output), printed: text("log") },
  };
}

function streamOf(value: unknown): AttemptView["stream"] {
  if (!value || typeof value !== "object") return null;
  const v = value as { ttftMs?: unknown; chunks?: unknown };
  return {
    ttftMs: typeof v.ttftMs === "number" ? v.ttftMs : null,
    chunks: typeof v.chunks === "number" ? v.chunks : 0,
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
export function stepTypes(source: string): Map<string, string> {
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

/** How many rows of items or iterations are printed; --json has them all. */
const LISTED = 50;

function formatStep(v: StepView, s: Style): string {
  const lines: string[] = [];
  const colour = v.status === "succeeded" ? s.green : v.status === "failed" ? s.red : s.yellow;
  const unit = v.step + (v.scope ?? "");
  const head = [
    s.bold(unit),
    v.type ?? "",
    v.turn ? `turn ${v.turn.turn}` : "",
    v.call ? `turn ${v.call.turn}, call ${v.call.name}.${v.call.index}` : "",
    colour(v.status),
    v.origin && v.origin !== "live" ? v.origin : "",
    v.durationMs !== null ? duration(v.durationMs) : "",
  ].filter(Boolean);
  lines.push(`${head.join("  ")}  ${s.dim(`(run ${v.runId}, ${v.workflow})`)}`);
  if (v.error) lines.push(s.red(`${v.error.kind}: ${v.error.message}`));
  if (v.agent) lines.push(totalsText(v.agent));
  if (v.tally) lines.push(`${v.items!.length} items: ${tallyText(v.tally, s)}`);
  // An agent's turns list the child runs of its workflow tools, each on its call's line.
  for (const child of v.iterations || v.turns ? [] : v.childRuns.slice(0, v.items ? 0 : 1))
    lines.push(`child run ${child}: ${s.dim(`keel show ${child}`)}`);
  if (v.items && v.items.length > 0 && v.childRuns.length > 0)
    lines.push(`${v.childRuns.length} child runs, one per item (listed below)`);
  if (v.call) argumentsLines(lines, s, v.call.arguments);
  // A map, a loop or an agent has no attempt of its own: its items, iterations and turns have them.
  const units = v.items ?? v.iterations ?? v.turns;
  if (v.attempts.length === 0 && units) {
    // Nothing to show of an input: each unit was sent its own.
  } else if (v.attempts.length === 0 && v.error?.kind === "invalid_arguments")
    lines.push(s.dim("refused before it ran (no attempt): the model was told the error"));
  else if (v.attempts.length === 0)
    lines.push(s.dim(`no attempt was recorded for this ${v.scope ? "unit" : "step"}`));
  else if (v.origin === "reused" && v.input === null) {
    // A reused step did not run here: what it was sent is in the run it came from.
    const from = v.attempts.at(-1)?.sourceRunId;
    const shown = v.scope ? `'${unit}'` : unit;
    lines.push(
      s.dim(`input: not sent in this run (reused${from ? `: keel show ${from} ${shown}` : ""})`),
    );
    if (v.turn) turnDetailLines(lines, s, null, v.output, v.turn.calls, false);
  } else if (v.turn) turnDetailLines(lines, s, v.input, v.output, v.turn.calls, true);
  else block(lines, s, "input", json(v.input));
  if (v.output !== null && !v.turn && !v.turns) block(lines, s, "output", json(v.output));
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
      a.stream
        ? `streamed in ${a.stream.chunks} chunk${a.stream.chunks === 1 ? "" : "s"}${a.stream.ttftMs !== null ? `, first after ${duration(a.stream.ttftMs)}` : ""}`
        : "",
      a.responseId ? s.dim(`response ${a.responseId}`) : "",
      a.python ? `Python ${a.python}` : "",
      a.lockfile ? `lockfile ${s.dim(`sha256 ${a.lockfile.slice(0, 12)}`)}` : "",
    ].filter(Boolean);
    if (call.length > 0) lines.push(`  ${call.join(", ")}`);
    if (a.error) lines.push(`  ${s.red(`${a.error.kind}: ${a.error.message}`)}`);
    if (a.partial !== null) block(lines, s, "partial reply", a.partial, "  ");
    // An attempt sent something else than the step's last one (a fallback, a changed retry).
    const later = v.attempts[i + 1] ?? null;
    if (later && json(a.input) !== json(v.input)) block(lines, s, "input", json(a.input), "  ");
    if (later && a.output !== null) block(lines, s, "output", json(a.output), "  ");
    if (a.logs.stdout) block(lines, s, "stdout", a.logs.stdout, "  ");
    if (a.logs.stderr) block(lines, s, "stderr", a.logs.stderr, "  ");
    if (a.logs.printed) block(lines, s, "printed", a.logs.printed, "  ");
  }
  if (v.items) unitList(lines, s, v, "items", v.items);
  if (v.iterations) unitList(lines, s, v, "iterations", v.iterations);
  if (v.turns) {
    turnLines(lines, s, v.runId, v.turns);
    if (v.output !== null) block(lines, s, "answer", json(v.output));
    if (v.agent?.stopReason) lines.push(`${s.dim("stop_reason:")} ${v.agent.stopReason}`);
    turnsHint(lines, s, v.runId, v.turns);
  }
  return lines.join("\n") + "\n";
}

/** A map's items or a loop's iterations, one row each: the first LISTED, then how many more. */
function unitList(
  lines: string[],
  s: Style,
  v: StepView,
  title: string,
  rows: readonly UnitRow[],
): void {
  lines.push("", s.dim(`${title}:`));
  if (rows.length === 0) {
    lines.push("  none");
    return;
  }
  const width = Math.min(30, Math.max(4, ...rows.slice(0, LISTED).map((r) => r.key.length)));
  for (const r of rows.slice(0, LISTED)) {
    const colour = r.status === "succeeded" ? s.green : r.status === "failed" ? s.red : s.yellow;
    const extra = [
      r.origin && r.origin !== "live" ? r.origin : "",
      r.iterations !== null ? `${r.iterations} iteration${r.iterations === 1 ? "" : "s"}` : "",
      r.childRun ? `child run ${r.childRun}` : "",
      r.error ? `${r.error.kind}: ${r.error.message}` : "",
    ].filter(Boolean);
    lines.push(
      `  ${r.key.padEnd(width)}  ${colour(r.status.padEnd(9))}  ${`${r.attempts} attempt${r.attempts === 1 ? "" : "s"}`.padEnd(10)}  ${(r.durationMs !== null ? duration(r.durationMs) : "").padStart(7)}  ${s.dim(extra.join(", "))}`.trimEnd(),
    );
  }
  if (rows.length > LISTED) lines.push(`  … ${rows.length - LISTED} more (--json lists them all)`);
  const example = (rows.find((r) => r.status === "failed") ?? rows[0]!).unit;
  lines.push(
    s.dim(
      `keel show ${v.runId} '${example}': one of them, its input, output, attempts and logs${v.childRuns.length > 0 ? "; keel show <child run id>: its child run" : ""}`,
    ),
  );
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? "null";
}

/** A titled, indented block; a text's last newline is not a line of its own. */
function block(lines: string[], s: Style, title: string, text: string, indent = ""): void {
  lines.push(`${indent}${s.dim(`${title}:`)}`);
  for (const line of text.replace(/\n$/, "").split("\n")) lines.push(`${indent}  ${line}`);
}
