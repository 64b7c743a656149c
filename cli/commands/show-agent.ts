// `keel show` of an agent step (docs/cli.md): its turns and tool calls read from the run's fold.
// Turn t of the agent unit U (the step, or an item of an agent map) is the unit `U#t`, its model
// call; the calls it asked for are `U#t/<tool>.<i>` (docs/dev/agents.md). These are what the run's
// line counts (`4 turns · 3 tool calls · $0.0123`), what the step lists, and what a turn or a call
// shown on its own is placed by.
import type { RunFold, StepAt } from "@keel/core/record/fold";
import type { ShowStep } from "@keel/core/protocol/cli";
import { didYouMean } from "@keel/core/model/suggest";
import type { Style } from "../output";
import { duration } from "../progress";

export type AgentTotals = NonNullable<ShowStep["agent"]>;
type TurnRow = NonNullable<ShowStep["turns"]>[number];
type CallRow = TurnRow["calls"][number];
type ErrorView = TurnRow["error"];

/**
 * A scope of an agent step read apart: the agent unit's own scope (null, or an item's `[k]`), the
 * turn, and for a tool call the tool's name as the scope has it and its index. Null for a scope
 * that is neither a turn nor a call (an item itself).
 */
export function agentScope(
  scope: string,
): { readonly base: string | null; readonly turn: number; readonly call: CallName | null } | null {
  const m = /^(\[.*\])?#(\d+)(?:\/([A-Za-z0-9_-]+)\.(\d+))?$/s.exec(scope);
  if (!m) return null;
  return {
    base: m[1] ?? null,
    turn: Number(m[2]),
    call: m[3] === undefined ? null : { name: m[3], index: Number(m[4]) },
  };
}

interface CallName {
  readonly name: string;
  readonly index: number;
}

/**
 * The turns of the agent unit `stepId + base` in order, each with its model call's status,
 * latency, usage and cost, and its tool calls by index. `reply` reads a turn's recorded reply
 * (the assistant's message), whose calls name the tools as the model sent them; without it, or
 * when the record lacks it, a call is named as its scope has it.
 */
export function agentTurns(
  fold: RunFold,
  stepId: string,
  base: string | null,
  reply?: (turn: StepAt) => unknown,
): TurnRow[] {
  return turnsByUnit(fold, stepId, reply).get(base) ?? [];
}

/**
 * The turns of every agent unit of a step, by the unit's scope (null for the step itself, `[k]`
 * for an item of an agent map), in one pass over the step's units.
 */
export function turnsByUnit(
  fold: RunFold,
  stepId: string,
  reply?: (turn: StepAt) => unknown,
): Map<string | null, TurnRow[]> {
  const bases = new Map<string | null, Map<number, { unit: StepAt | null; calls: StepAt[] }>>();
  for (const u of fold.units(stepId)) {
    const part = agentScope(u.scope!);
    if (!part) continue;
    let turns = bases.get(part.base);
    if (!turns) bases.set(part.base, (turns = new Map()));
    let t = turns.get(part.turn);
    if (!t) turns.set(part.turn, (t = { unit: null, calls: [] }));
    if (part.call) t.calls.push(u);
    else t.unit = u;
  }
  const out = new Map<string | null, TurnRow[]>();
  for (const [base, turns] of bases) {
    const rows = [...turns.entries()]
      .sort(([a], [b]) => a - b)
      .map(([turn, { unit, calls }]): TurnRow => {
        const answer = unit && reply?.(unit);
        const sent = answer ? sentCalls(answer) : [];
        return {
          unit: unit?.id ?? `${stepId}${base ?? ""}#${turn}`,
          turn,
          status: unit?.status ?? "pending",
          origin: unit?.origin ?? null,
          attempts: unit?.attempts ?? 0,
          durationMs: unit ? latency(unit) : null,
          usage: unit ? usageOf(unit.attempt?.meta?.usage) : null,
          costUsd: unit ? costOf(fold, unit) : null,
          error: unit ? errorOf(unit) : null,
          asked: answer ? sent.length : null,
          calls: calls.map((c) => callRow(c, sent)).sort((a, b) => a.index - b.index),
        };
      });
    out.set(base, rows);
  }
  return out;
}

/** The tool calls of a recorded reply (`{role, content, tool_calls}`); empty when it has none. */
export function sentCalls(
  reply: unknown,
): readonly { readonly name: string; readonly arguments: string }[] {
  const calls = (reply as { tool_calls?: unknown } | null | undefined)?.tool_calls;
  if (!Array.isArray(calls)) return [];
  return calls.map((c: { name?: unknown; arguments?: unknown }) => ({
    name: typeof c?.name === "string" ? c.name : "",
    arguments: typeof c?.arguments === "string" ? c.arguments : JSON.stringify(c?.arguments),
  }));
}

function callRow(u: StepAt, sent: ReturnType<typeof sentCalls>): CallRow {
  const call = agentScope(u.scope!)!.call!;
  return {
    unit: u.id,
    name: sent[call.index]?.name || call.name,
    index: call.index,
    status: u.status,
    origin: u.origin,
    attempts: u.attempts,
    durationMs: latency(u),
    error: errorOf(u),
    childRun: u.childRun,
  };
}

/** Totals of turns: how many, their calls, their cost, and the agent unit's stop reason. */
export function agentTotals(turns: readonly TurnRow[], agent: StepAt | undefined): AgentTotals {
  const costs = turns.flatMap((t) => (t.costUsd === null ? [] : [t.costUsd]));
  return {
    turns: turns.length,
    toolCalls: turns.reduce((n, t) => n + t.calls.length, 0),
    costUsd: costs.length > 0 ? costs.reduce((a, b) => a + b, 0) : null,
    stopReason: agent ? stopReasonOf(agent) : null,
  };
}

/** Why the agent unit stopped, as `steps.<id>.stop_reason` says: its end event records it. Null while it runs. */
function stopReasonOf(agent: StepAt): string | null {
  const reason = agent.ended?.data?.stopReason;
  return typeof reason === "string" ? reason : null;
}

/** A turn's or call's time from its start to its end; null when either is unknown (reused). */
function latency(u: StepAt): number | null {
  const ended = u.ended?.at;
  return u.startedAt && ended ? Date.parse(ended) - Date.parse(u.startedAt) : null;
}

function errorOf(u: StepAt): ErrorView {
  return u.status === "failed" || u.status === "cancelled" ? u.error : null;
}

function usageOf(value: unknown): TurnRow["usage"] {
  const u = value as { input?: unknown; output?: unknown } | null | undefined;
  return typeof u?.input === "number" && typeof u.output === "number"
    ? { input: u.input, output: u.output }
    : null;
}

/** What a unit's attempts cost (the providers' `costUsd`); null when none says. */
function costOf(fold: RunFold, u: StepAt): number | null {
  let sum: number | null = null;
  for (let n = 1; n <= u.attempts; n++) {
    const c = fold.attemptOf(u.id, n)?.meta?.costUsd;
    if (typeof c === "number") sum = (sum ?? 0) + c;
  }
  return sum;
}

/** `4 turns · 3 tool calls · $0.0123`, and `stop_reason max_turns` when it did not answer. */
export function totalsText(a: AgentTotals): string {
  const parts = [
    `${a.turns} turn${a.turns === 1 ? "" : "s"}`,
    `${a.toolCalls} tool call${a.toolCalls === 1 ? "" : "s"}`,
  ];
  if (a.costUsd !== null) parts.push(cost(a.costUsd));
  const reason = a.stopReason && a.stopReason !== "answer" ? `, stop_reason ${a.stopReason}` : "";
  return parts.join(" · ") + reason;
}

/** Dollars with four decimals, or enough to show a cost smaller than that. */
function cost(usd: number): string {
  return usd >= 0.0001 || usd === 0 ? `$${usd.toFixed(4)}` : `$${usd.toPrecision(2)}`;
}

/** How many turns `keel show` lists; --json has them all. */
const LISTED_TURNS = 50;

/**
 * The agent's turns as `keel show <run> <agent>` prints them: a line per turn (its model call's
 * status, latency, usage, cost), a line per tool call below it, refused calls with their error.
 */
export function turnLines(lines: string[], s: Style, runId: string, turns: readonly TurnRow[]) {
  lines.push("", s.dim("turns:"));
  if (turns.length === 0) lines.push("  none");
  const shown = turns.slice(0, LISTED_TURNS);
  const width = Math.min(
    30,
    Math.max(4, ...shown.flatMap((t) => t.calls.map((c) => callKey(c).length))),
  );
  for (const t of shown) {
    const unrun = (t.asked ?? 0) - t.calls.length;
    const answer =
      t.asked === 0
        ? "the answer"
        : unrun > 0
          ? t.calls.length === 0
            ? `asked for ${unrun} tool call${unrun === 1 ? "" : "s"}, not run`
            : `${unrun} of its ${t.asked} tool calls not run`
          : "";
    const parts = [
      t.origin && t.origin !== "live" ? t.origin : "",
      usageText(t.usage),
      t.costUsd !== null ? cost(t.costUsd) : "",
      t.attempts > 1 ? `${t.attempts} attempts` : "",
      answer,
      t.error ? `${t.error.kind}: ${t.error.message}` : "",
    ].filter(Boolean);
    lines.push(
      `  ${`#${t.turn}`.padEnd(4)}${status(s, t.status)}  ${ms(t.durationMs)}  ${s.dim(parts.join(", "))}`.trimEnd(),
    );
    for (const c of t.calls) lines.push(`      ${callLine(s, c, width)}`);
  }
  if (turns.length > LISTED_TURNS)
    lines.push(`  … ${turns.length - LISTED_TURNS} more (--json lists them all)`);
}

/** How to see one turn or one call of the turns listed. */
export function turnsHint(lines: string[], s: Style, runId: string, turns: readonly TurnRow[]) {
  const example = turns.find((t) => t.calls.length > 0) ?? turns[0];
  if (example) {
    const call = example.calls[0];
    lines.push(
      s.dim(
        `keel show ${runId} '${example.unit}': a turn's conversation, tools and reply${call ? `; keel show ${runId} '${call.unit}': a call's arguments, input, output and log` : ""}`,
      ),
    );
  }
}

/** `search.1  succeeded  12ms`, then its origin, attempts, child run and error. */
function callLine(s: Style, c: CallRow, width: number): string {
  const extra = [
    c.origin && c.origin !== "live" ? c.origin : "",
    c.attempts > 1 ? `${c.attempts} attempts` : "",
    c.childRun ? `child run ${c.childRun}` : "",
    c.error ? `${c.error.kind}: ${c.error.message}` : "",
  ].filter(Boolean);
  return `${callKey(c).padEnd(width)}  ${status(s, c.status)}  ${ms(c.durationMs)}  ${s.dim(extra.join(", "))}`.trimEnd();
}

/** `refund_policy.0`, and the name the model sent when the scope had to change it. */
function callKey(c: CallRow): string {
  const scoped = c.unit.slice(c.unit.lastIndexOf("/") + 1);
  return c.name && !scoped.startsWith(`${c.name}.`) ? `${scoped} ("${c.name}")` : scoped;
}

function status(s: Style, st: string): string {
  const colour = st === "succeeded" ? s.green : st === "failed" ? s.red : s.yellow;
  return colour(st.padEnd(9));
}

function ms(durationMs: number | null): string {
  return (durationMs !== null ? duration(durationMs) : "").padStart(6);
}

export function usageText(usage: unknown): string {
  if (!usage || typeof usage !== "object") return "";
  const u = usage as { input?: unknown; output?: unknown };
  if (typeof u.input !== "number" && typeof u.output !== "number") return "";
  return `${String(u.input ?? "?")} tokens in, ${String(u.output ?? "?")} out`;
}

/**
 * The message for a turn or call the agent does not have: the closest of its turns or calls (a
 * call at the same index of the same turn first: `#2/refund.0` for `#2/refund_policy.0`), and
 * what the agent ran.
 */
export function noAgentUnit(runId: string, stepId: string, key: string, fold: RunFold): string {
  const scope = key.slice(stepId.length);
  const part = agentScope(scope);
  const turns = agentTurns(fold, stepId, part?.base ?? null);
  const calls = turns.flatMap((t) => t.calls);
  const what = part?.call ? "tool call" : "turn";
  const sameSlot = part?.call
    ? turns.find((t) => t.turn === part.turn)?.calls.find((c) => c.index === part.call!.index)
    : undefined;
  // A turn's number past the last is no typo: the count below says how many there were.
  const hint = sameSlot
    ? `: did you mean '${sameSlot.unit}'?`
    : part?.call
      ? didYouMean(
          key,
          calls.map((c) => c.unit),
        )
      : part
        ? ""
        : didYouMean(
            key,
            turns.map((t) => t.unit),
          );
  const agent = stepId + (part?.base ?? "");
  return `run ${runId} has no ${what} '${key}'${hint} (keel show ${runId} ${agent.includes("[") ? `'${agent}'` : agent} lists its ${turns.length} turn${turns.length === 1 ? "" : "s"} and ${calls.length} tool call${calls.length === 1 ? "" : "s"})`;
}

/**
 * The totals of an agent step for its line in `keel show <run>`; for a map of agents, over all
 * its items, with no stop reason (each item has its own).
 */
export function stepAgentTotals(fold: RunFold, stepId: string): AgentTotals {
  const byUnit = turnsByUnit(fold, stepId);
  const step = fold.step(stepId);
  if (step?.items == null) return agentTotals(byUnit.get(null) ?? [], step);
  return agentTotals([...byUnit.values()].flat(), undefined);
}

/** A message of a turn's conversation, as the recorded request holds it. */
interface Message {
  readonly role?: unknown;
  readonly content?: unknown;
  readonly tool_calls?: unknown;
  readonly tool_call_id?: unknown;
}

/**
 * What a turn was sent and what it answered, for `keel show <run> 'agent#t'`: the conversation
 * (the system prompt, then each message by role; a tool result names the call it answers), the
 * tools offered (name, description, parameter names), the reply (its text and the calls it asked
 * for, by the units they ran as) and those calls' rows.
 */
export function turnDetailLines(
  lines: string[],
  s: Style,
  input: unknown,
  reply: unknown,
  calls: readonly CallRow[],
  /** False for a turn reused by a rerun: it was sent nothing in this run. */
  sent: boolean,
): void {
  if (sent) conversationLines(lines, s, input);
  lines.push(s.dim("reply:"));
  const content = (reply as Message | null)?.content;
  if (typeof content === "string" && content !== "")
    for (const line of content.split("\n")) lines.push(`  ${line}`);
  for (const [i, c] of sentCalls(reply).entries())
    lines.push(`  calls ${c.name}.${i} ${c.arguments}`);
  if (calls.length > 0) {
    lines.push(s.dim("tool calls:"));
    const width = Math.min(30, Math.max(...calls.map((c) => callKey(c).length)));
    for (const c of calls) lines.push(`  ${callLine(s, c, width)}`);
  }
}

/** The conversation a turn was sent, and the tools it was offered. */
function conversationLines(lines: string[], s: Style, input: unknown): void {
  const request = (input ?? {}) as {
    system?: unknown;
    messages?: unknown;
    tools?: unknown;
  };
  // A tool result answers a call by its id; the id's call is shown as its unit is named.
  const named = new Map<string, string>();
  const messages = Array.isArray(request.messages) ? (request.messages as Message[]) : [];
  for (const m of messages) {
    if (m.role !== "assistant" || !Array.isArray(m.tool_calls)) continue;
    (m.tool_calls as { id?: unknown; name?: unknown }[]).forEach((c, i) => {
      if (typeof c.id === "string") named.set(c.id, `${String(c.name)}.${i}`);
    });
  }
  lines.push(s.dim("conversation:"));
  if (typeof request.system === "string") roleLines(lines, s, "system", request.system);
  for (const m of messages) {
    const role = typeof m.role === "string" ? m.role : "?";
    const text =
      typeof m.content === "string" ? m.content : m.content == null ? "" : json(m.content);
    const answers =
      role === "tool" && typeof m.tool_call_id === "string"
        ? `${named.get(m.tool_call_id) ?? m.tool_call_id}: `
        : "";
    const asked = sentCalls(m).map((c, i) => `calls ${c.name}.${i} ${c.arguments}`);
    roleLines(lines, s, role, [answers + text, ...asked].filter(Boolean).join("\n"));
  }
  const tools = Array.isArray(request.tools)
    ? (request.tools as { name?: unknown; description?: unknown; parameters?: unknown }[])
    : [];
  lines.push(s.dim(`tools${tools.length === 0 ? ": none (the last turn answers without)" : ":"}`));
  const width = Math.min(24, Math.max(0, ...tools.map((t) => String(t.name).length)));
  for (const t of tools) {
    const props = (t.parameters as { properties?: unknown } | null)?.properties;
    const params = props && typeof props === "object" ? Object.keys(props).join(", ") : "";
    const about = typeof t.description === "string" ? t.description : "";
    lines.push(`  ${String(t.name).padEnd(width)}  (${params})  ${s.dim(about)}`.trimEnd());
  }
}

/** One message of a conversation: its role, then its text, each line indented under it. */
function roleLines(lines: string[], s: Style, role: string, text: string): void {
  const [first = "", ...rest] = text.split("\n");
  lines.push(`  ${s.bold(role.padEnd(9))}  ${first}`.trimEnd());
  for (const line of rest) lines.push(`  ${" ".repeat(9)}  ${line}`.trimEnd());
}

/** A tool call's arguments as the model sent them: indented JSON, or the text when not JSON. */
export function argumentsLines(lines: string[], s: Style, text: string | null): void {
  lines.push(s.dim("arguments (as the model sent them):"));
  if (text === null) {
    lines.push(s.dim("  not in the record (the turn's reply is missing)"));
    return;
  }
  let shown = text;
  try {
    shown = json(JSON.parse(text));
  } catch {
    // Not JSON: shown as the model sent it, which is why the call was refused.
  }
  for (const line of shown.split("\n")) lines.push(`  ${line}`);
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? "null";
}
