// What the replay debugger's Variables, Watch and Debug Console read at a stop (docs/debugger.md,
// "Variables, Watch and the Debug Console"): an item's or iteration's scope, an agent's turn and
// tool call, and the state a JSONata expression sees (`inputs`, `run`, `steps`, and on an item's
// frame its `key`, `index`, `item`, `iteration` and `unit`; on a turn's or call's, the Turn and
// Tool call scopes' fields). Values are read from the store only when needed.
import { argumentsOf, sentCall } from "./agents";
import type { Level } from "./level";
import type { FrameAt } from "./stack";
import { isPlainObject, Lazy, type ValueCache } from "./variables";
import { runView, stepView } from "./views";

/**
 * An item's or iteration's scope: `key`, `index` and `item` (its value in the map's list), or
 * `iteration`; and `unit`, its own state (as a step's: status, input, output, attempts, …).
 */
export async function unitView(
  l: Level,
  values: ValueCache,
  unit: string,
): Promise<Record<string, unknown>> {
  const f = l.threads.facts(unit);
  const ref = f.index === undefined ? null : l.threads.listOf(f.stepId);
  const list = ref === null ? undefined : await values.load(ref);
  return {
    ...(f.key === undefined ? {} : { key: f.key }),
    ...(f.index === undefined ? {} : { index: f.index }),
    ...(Array.isArray(list) ? { item: list[f.index!] as unknown } : {}),
    ...(f.iteration === undefined ? {} : { iteration: f.iteration }),
    unit: stepView(l.fold, unit),
  };
}

/**
 * An agent's turn (the Turn scope) at the position: `turn`, `conversation` (the messages the model
 * was sent, after the system prompt `system`), `reply` (the assistant's message: its text and the
 * tool calls it asked for, arguments as sent), `usage` and `cost` (from the provider's metadata),
 * and `model_call`, the turn's own state as a step's (status, input, attempts, timings, …).
 */
export async function turnView(
  l: Level,
  values: ValueCache,
  turnKey: string,
): Promise<Record<string, unknown>> {
  const turn = l.agents.placeOfUnit(turnKey)?.turn ?? null;
  const state = stepView(l.fold, turnKey);
  const request = state.input instanceof Lazy ? await values.load(state.input.ref) : null;
  const sent = isPlainObject(request) ? request : {};
  const meta = l.fold.unit(turnKey)?.attempt?.meta ?? null;
  return {
    turn,
    conversation: Array.isArray(sent.messages) ? sent.messages : [],
    system: sent.system ?? null,
    reply: state.output,
    usage: meta?.usage ?? null,
    cost: typeof meta?.costUsd === "number" ? meta.costUsd : null,
    model_call: state,
  };
}

/**
 * An agent's tool call (the Tool call scope) at the position: `call` (`search.1`), `tool` (the
 * name the model called), `args` (the arguments it sent, as JSON when they parse), the call's
 * `status`, resolved `input` (what the tool was run with), `output`, `error` (a call refused for
 * its arguments has only this) and `attempts`.
 */
export async function toolCallView(
  l: Level,
  values: ValueCache,
  callKey: string,
): Promise<Record<string, unknown>> {
  const p = l.agents.placeOfUnit(callKey);
  const state = stepView(l.fold, callKey);
  const ref = p ? l.agents.replyRef(p.turnKey) : null;
  const sent = p?.call && ref !== null ? sentCall(await values.load(ref), p.call.index) : undefined;
  return {
    call: p?.call?.name ?? null,
    tool: typeof sent?.name === "string" ? sent.name : (p?.call?.tool ?? null),
    args: argumentsOf(sent),
    status: state.status,
    input: state.input,
    output: state.output,
    error: state.error,
    attempts: state.attempts,
  };
}

/**
 * The fields at the top of an expression's scope on a unit's frame: an item's or iteration's
 * (unitView); on an agent's turn, its item's when the agent is one, and the turn's (turnView);
 * on a tool call, its turn's and the call's (toolCallView) too.
 */
async function unitFields(
  l: Level,
  values: ValueCache,
  unit: string,
): Promise<Record<string, unknown>> {
  const p = l.agents.placeOfUnit(unit);
  if (!p) return (await values.resolve(await unitView(l, values, unit))) as Record<string, unknown>;
  const item = p.agent === p.stepId ? {} : await unitFields(l, values, p.agent);
  const turn = await values.resolve(await turnView(l, values, p.turnKey));
  const call = p.call ? await values.resolve(await toolCallView(l, values, p.call.key)) : {};
  return { ...item, ...(turn as object), ...(call as object) };
}

/**
 * What an expression sees at the current position of `l`: `inputs`, `run` and `steps`, and on an
 * item's or iteration's frame (or event) its `key`, `index`, `item`, `iteration` and `unit`; on an
 * agent's turn's or tool call's, the Turn and Tool call scopes' fields (unitFields). Steps
 * the expression names (and the selected frame's) come whole, values read; the others with their
 * status, origin and error only, so that a large run costs no store reads it does not need.
 */
export async function expressionScope(
  l: Level,
  values: ValueCache,
  frame: FrameAt | undefined,
  expression: string,
): Promise<Record<string, unknown>> {
  const e = l.fold.current;
  const framed = frame ? frame.step : e?.stepId;
  const unit = frame ? frame.unit : e?.stepId && e.scope !== null ? e.stepId + e.scope : null;
  const steps: Record<string, unknown> = {};
  for (const s of l.fold.steps()) {
    if (s.id === framed || expression.includes(s.id)) {
      steps[s.id] = await values.resolve(stepView(l.fold, s.id));
    } else {
      steps[s.id] = {
        status: s.status,
        ...(s.origin ? { origin: s.origin } : {}),
        error: s.error,
      };
    }
  }
  return {
    // An item's or iteration's frame: `key`, `index`, `item` or `iteration`, and `unit`; an
    // agent's turn's or tool call's: the Turn and Tool call scopes' fields.
    ...(unit ? await unitFields(l, values, unit) : {}),
    inputs: await values.load(l.rec.run.inputsHash),
    run: runView(l.fold, l.rec.run, l.rec.findings),
    steps,
  };
}
