// A run's OpenTelemetry spans (docs/cli.md, "OpenTelemetry"), built from its record alone: recorded
// timestamps, values already redacted, so a local, a distributed and a replayed run export alike.
// GenAI semantic conventions (all still "Development" upstream): the run is
// `invoke_workflow {name}`, an `llm` step a `chat {model}` CLIENT span with the provider, request
// parameters, served model, response id and token usage, a `tool` step `execute_tool {id}`, an
// `http` step an HTTP client span named by its method; every step's attempts are its child spans;
// `keel.run.id`, `keel.step.id` and `keel.step.status` are on each.
// An `agent` step is `invoke_agent {id}`: below it, in call order, each turn's `chat {model}` span
// (scope `#t`) and the `execute_tool {tool}` spans of the calls it asked for (`#t/<tool>.<i>`),
// siblings rather than children of the turn's span, since they run after its model call ended
// (docs/dev/agents.md, "OpenTelemetry").
// Scopes (docs/dev/production-mode.md, "OpenTelemetry export"): a map's or a loop's span holds one
// span per item (`summarize[doc-17]`) or iteration (`refine#2`), each a step span of its own with
// its attempts; a child run's span (its steps, items, children…) sits under the attempt that
// started it, read from `RecordedRun.children`, so it is in the parent's trace.
// Invariant: without `content`, no prompt, reply, tool argument or result, query string or error
// message (which may quote them) is put in any span: only names, kinds, timings, parameters,
// usage and error kinds.
// Pure: no I/O and no OpenTelemetry SDK (export.ts sends what this builds).
import { parse } from "yaml";
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_AGENT_DESCRIPTION,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_OUTPUT_TYPE,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_SEED,
  ATTR_GEN_AI_REQUEST_STOP_SEQUENCES,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_REQUEST_TOP_P,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_SYSTEM_INSTRUCTIONS,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_DEFINITIONS,
  ATTR_GEN_AI_TOOL_DESCRIPTION,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_TYPE,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_WORKFLOW_NAME,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
  GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
  GEN_AI_OPERATION_NAME_VALUE_INVOKE_WORKFLOW,
  GEN_AI_OUTPUT_TYPE_VALUE_JSON,
  GEN_AI_OUTPUT_TYPE_VALUE_TEXT,
  GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC,
  GEN_AI_PROVIDER_NAME_VALUE_OPENAI,
} from "@opentelemetry/semantic-conventions/incubating";
import { foldToEnd, type StepAt, type Tally } from "../record/fold";
import type { RecordedRun } from "../replay/record";
import { itemScope, splitUnit, unitKey, type AttemptRecord } from "../record/records";

export type AttributeValue = string | number | boolean | readonly string[];

/** One span to send: what export.ts turns into an OpenTelemetry span. */
export interface SpanSpec {
  readonly name: string;
  readonly kind: "internal" | "client";
  /** ISO-8601 UTC, from the record. */
  readonly startedAt: string;
  readonly endedAt: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  /** The span's status is an error with this message; null: unset (a success). */
  readonly error: string | null;
  readonly children: readonly SpanSpec[];
  /** Point-in-time events on the span (a child run missing from the store). */
  readonly events?: readonly SpanEventSpec[];
}

export interface SpanEventSpec {
  readonly name: string;
  /** ISO-8601 UTC. */
  readonly at: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

export interface SpanOptions {
  /** Put prompts, replies, tool arguments and results in the spans (opt-in). */
  readonly content?: boolean;
}

/** The provider name of the GenAI conventions for a Keel provider type. */
const PROVIDER_NAMES: Record<string, string> = {
  openai: GEN_AI_PROVIDER_NAME_VALUE_OPENAI,
  azure_openai: "azure.ai.openai",
  anthropic: GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC,
  scripted: "keel.scripted",
};

interface StepInfo {
  readonly type: string;
  readonly uses?: string;
  /** A `for_each` map or a `repeat` loop: its span holds one span per item or iteration. */
  readonly scoped: boolean;
  /** The step's `description` (an agent's is `gen_ai.agent.description`). */
  readonly description?: string;
  /** An agent's tools by name: how each runs (`uses`, `http` or `workflow`) and its module. */
  readonly tools?: ReadonlyMap<string, { readonly kind: ToolKind; readonly uses?: string }>;
}

type ToolKind = "tool" | "http" | "workflow";

/** The run's span, with a child per step that started or ended, and their attempts below them. */
export function spansOfRun(record: RecordedRun, options: SpanOptions = {}): SpanSpec {
  return runSpan(record, options.content === true, new Set());
}

/** A unit's key and an attempt number, as one map key (a unit key may hold `#`). */
const attemptKey = (unit: string, attempt: number | null) => `${unit}\u0000${attempt ?? ""}`;

/**
 * A run's span. The child runs its workflow steps started are spans of their own under the attempt
 * (or unit) that started them, read from `record.children`; `seen` guards against a record whose
 * children lead back to a run already on the path.
 */
function runSpan(record: RecordedRun, content: boolean, seen: ReadonlySet<string>): SpanSpec {
  const { run, events } = record;
  const steps = stepsOf(record.source);
  const fold = foldToEnd(events, record.attempts, [...steps.keys()]);
  const firstStart = new Map<string, string>();
  const itemIndex = new Map<string, number>();
  const childRuns = new Map<string, string[]>();
  for (const e of events) {
    if (e.stepId === null) continue;
    const unit = unitKey(e.stepId, e.scope);
    if (e.type === "step_started" && !firstStart.has(unit)) firstStart.set(unit, e.at);
    else if (e.type === "expanded" && Array.isArray(e.data?.keys)) {
      e.data.keys.forEach((k, i) => {
        const key = unitKey(e.stepId!, itemScope(String(k)));
        if (!itemIndex.has(key)) itemIndex.set(key, i);
      });
    } else if (e.type === "child_started" && typeof e.data?.childRun === "string") {
      push(childRuns, attemptKey(unit, e.attempt), e.data.childRun);
    }
  }
  const attemptsOf = new Map<string, AttemptRecord[]>();
  for (const a of record.attempts) push(attemptsOf, unitKey(a.stepId, a.scope), a);
  const runEnd = run.endedAt ?? events[events.length - 1]?.at ?? run.startedAt;
  const path = new Set(seen).add(run.id);
  const ctx: RunContext = {
    record,
    runEnd,
    content,
    firstStart,
    attemptsOf,
    begun: (u) => u.status !== "pending" && !(u.status === "cancelled" && !firstStart.has(u.id)),
    // The spans of the child runs an attempt (or a unit, when no attempt is named) started.
    children: (unit, attempt) =>
      (childRuns.get(attemptKey(unit, attempt)) ?? []).map((id) => {
        const child = record.children.get(id);
        return child && !path.has(id)
          ? { id, span: runSpan(child, content, path) }
          : { id, span: null };
      }),
  };
  const children: SpanSpec[] = [];
  for (const state of fold.steps()) {
    if (state.status === "pending") continue;
    const info = steps.get(state.id) ?? { type: "unknown", scoped: false };
    const units = fold.units(state.id);
    if (info.type === "agent") {
      children.push(agentStepSpan(ctx, state, info, units, itemIndex));
      continue;
    }
    if (!info.scoped && units.length === 0) {
      children.push(stepSpan(ctx, state, info));
      continue;
    }
    // A map's or a loop's span: its units below it, each a step span of its own. An item that
    // never started (cancelled once the map's failure limit was passed, or never reached) is left
    // out; the step's `keel.step.units.*` counts say how many there were.
    const shown = units.filter(ctx.begun);
    children.push(
      scopedStepSpan(
        ctx,
        state,
        info,
        shown.map((u) => unitSpan(ctx, u, info, itemIndex.get(u.id))),
        units.length - shown.length,
      ),
    );
  }
  children.sort(byStart);
  const attributes: Record<string, AttributeValue> = {
    [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_INVOKE_WORKFLOW,
    [ATTR_GEN_AI_WORKFLOW_NAME]: run.workflowName,
    "keel.run.id": run.id,
    "keel.run.status": run.status,
    "keel.run.mode": run.mode,
    "keel.workflow.source_hash": run.sourceHash,
  };
  if (run.parentId) attributes["keel.run.parent_id"] = run.parentId;
  if (run.parentScope) attributes["keel.run.parent_scope"] = run.parentScope;
  const failed = run.status === "failed" || run.status === "cancelled";
  if (failed) attributes[ATTR_ERROR_TYPE] = run.status;
  return {
    name: `${GEN_AI_OPERATION_NAME_VALUE_INVOKE_WORKFLOW} ${run.workflowName}`,
    kind: "internal",
    startedAt: earliest(run.startedAt, children[0]?.startedAt),
    endedAt: runEnd,
    attributes,
    // An error message may quote a reply or an input: only with content.
    error: failed ? ((content ? run.error : null) ?? run.status) : null,
    children,
  };
}

function byStart(a: SpanSpec, b: SpanSpec): number {
  return a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0;
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Each step's type (and a tool's module), read from the recorded source; empty if unreadable. */
function stepsOf(source: string): Map<string, StepInfo> {
  const out = new Map<string, StepInfo>();
  let doc: unknown;
  try {
    doc = parse(source, { maxAliasCount: 1000 });
  } catch {
    return out;
  }
  const steps = (doc as { steps?: unknown } | null)?.steps;
  if (!steps || typeof steps !== "object") return out;
  for (const [id, step] of Object.entries(steps as Record<string, unknown>)) {
    const s = (step ?? {}) as Record<string, unknown>;
    out.set(id, {
      type: typeof s.type === "string" ? s.type : "unknown",
      scoped: s.for_each !== undefined || s.repeat !== undefined,
      ...(typeof s.uses === "string" ? { uses: s.uses } : {}),
      ...(typeof s.description === "string" ? { description: s.description } : {}),
      ...(s.type === "agent" ? { tools: toolsOf(s.tools) } : {}),
    });
  }
  return out;
}

/** An agent's `tools:` as written: each tool's kind (`http`, `workflow`, else a module) and module. */
function toolsOf(tools: unknown): Map<string, { kind: ToolKind; uses?: string }> {
  const out = new Map<string, { kind: ToolKind; uses?: string }>();
  for (const [name, tool] of Object.entries(asObject(tools))) {
    const t = asObject(tool);
    if (t.http !== undefined) out.set(name, { kind: "http" });
    else if (t.workflow !== undefined) out.set(name, { kind: "workflow" });
    else out.set(name, { kind: "tool", ...(typeof t.uses === "string" ? { uses: t.uses } : {}) });
  }
  return out;
}

function earliest(a: string, b: string | undefined): string {
  return b !== undefined && b < a ? b : a;
}

interface RunContext {
  readonly record: RecordedRun;
  readonly runEnd: string;
  readonly content: boolean;
  /** A unit's first `step_started`, by unit key. */
  readonly firstStart: ReadonlyMap<string, string>;
  /** A unit's attempts, by unit key. */
  readonly attemptsOf: ReadonlyMap<string, readonly AttemptRecord[]>;
  /** Whether a unit gets a span: it started (an item cancelled before it started does not). */
  begun(unit: StepAt): boolean;
  /** The child runs a unit's attempt started: their spans, null for one missing from the store. */
  children(unit: string, attempt: number | null): { id: string; span: SpanSpec | null }[];
}

/** A step's (or an item's, an iteration's) span, its attempts below it. */
function stepSpan(ctx: RunContext, state: StepAt, info: StepInfo): SpanSpec {
  const { record } = ctx;
  const attempts = ctx.attemptsOf.get(state.id) ?? [];
  const status =
    state.origin === "cached" || state.origin === "reused" ? state.origin : state.status;
  const { stepId } = splitUnit(state.id);
  const common: Record<string, AttributeValue> = {
    "keel.run.id": record.run.id,
    "keel.step.id": stepId,
    "keel.step.status": status,
  };
  if (state.scope !== null) common["keel.scope"] = state.scope;
  const last = attempts[attempts.length - 1];
  const success = attempts.find((a) => a.status === "succeeded");
  // The call the step's outcome came from: after a fallback, the fallback's provider and model.
  const call = success ?? last;
  // Only a model call, a tool and an HTTP request say more from their values; the others' input
  // may be large (a pure map's items share one input: the whole list), so it is not read.
  const reads = TYPED.has(info.type);
  const input = call && reads ? asObject(record.value(call.inputHash)) : {};
  const output = success?.outputHash && reads ? record.value(success.outputHash) : undefined;
  const typed = typeSpecific(info, stepId, input, output, success, ctx.content);
  const endedAt = state.ended?.at ?? last?.endedAt ?? ctx.runEnd;
  const startedAt = [ctx.firstStart.get(state.id), attempts[0]?.startedAt].reduce<string>(
    (min, t) => (t !== undefined && t < min ? t : min),
    endedAt,
  );
  const attributes: Record<string, AttributeValue> = {
    ...typed.attributes,
    ...common,
    "keel.step.type": info.type,
    "keel.step.attempts": state.attempts,
  };
  if (state.continued) attributes["keel.step.continued"] = true;
  if (state.error) attributes[ATTR_ERROR_TYPE] = state.error.kind;
  const failed = state.status === "failed" || state.status === "cancelled";
  const span: SpanSpec = {
    name: typed.name,
    kind: typed.kind,
    startedAt,
    endedAt,
    attributes,
    error: failed ? (errorText(state.error, ctx.content) ?? state.status) : null,
    children: attempts.map((a) =>
      withChildRuns(attemptSpan(a, common, ctx.content), ctx.children(state.id, a.attempt)),
    ),
  };
  return withChildRuns(span, ctx.children(state.id, null));
}

/**
 * An item's or an iteration's span: a step span named by its unit key (`summarize[doc-17]`,
 * `refine#2`), with the item's key and index or the iteration's number.
 */
function unitSpan(
  ctx: RunContext,
  state: StepAt,
  info: StepInfo,
  index: number | undefined,
  span: SpanSpec = stepSpan(ctx, state, info),
): SpanSpec {
  const attributes: Record<string, AttributeValue> = { ...span.attributes };
  const scope = state.scope ?? "";
  if (scope.startsWith("#")) attributes["keel.iteration"] = Number(scope.slice(1));
  else if (scope.startsWith("[")) {
    attributes["keel.item.key"] = scope.slice(1, -1);
    if (index !== undefined) attributes["keel.item.index"] = index;
  }
  return { ...span, name: state.id, attributes };
}

/**
 * A map's or a loop's own span: its items or iterations below it, and what its tally counts
 * (`keel.step.units.<status>`, and `keel.step.units.not_started`: items left out).
 */
function scopedStepSpan(
  ctx: RunContext,
  state: StepAt,
  info: StepInfo,
  units: SpanSpec[],
  notStarted: number,
): SpanSpec {
  const own = stepSpan(ctx, state, { ...info, type: "scoped" });
  const attributes: Record<string, AttributeValue> = {
    ...own.attributes,
    "keel.step.type": info.type,
  };
  if (state.items !== null) attributes["keel.step.items"] = state.items;
  for (const [status, n] of Object.entries(state.tally ?? {})) {
    if (n > 0) attributes[`keel.step.units.${status}`] = n;
  }
  if (notStarted > 0) attributes["keel.step.units.not_started"] = notStarted;
  const children = [...own.children, ...units];
  const startedAt = children.reduce((min, c) => earliest(min, c.startedAt), own.startedAt);
  return { ...own, name: `${info.type} ${state.id}`, startedAt, attributes, children };
}

/**
 * Where a unit of an agent step sits: the item it belongs to (`[k]`, or "" for the step itself),
 * its turn, and for a tool call the tool (as its scope names it) and the call's index in the turn.
 * Null for a scope that is no turn or call (an item's own scope `[k]`).
 */
export function agentScope(
  scope: string | null,
): { item: string; turn: number; tool?: string; index?: number } | null {
  const m = /^((?:\[.*\])?)#(\d+)(?:\/([A-Za-z0-9_-]+)\.(\d+))?$/.exec(scope ?? "");
  if (!m) return null;
  return {
    item: m[1]!,
    turn: Number(m[2]),
    ...(m[3] !== undefined ? { tool: m[3], index: Number(m[4]) } : {}),
  };
}

/**
 * An agent step's span. Alone, the step is the agent (`invoke_agent {id}`); as a map, its span
 * holds one span per item, each an agent of its own with its turns and calls, and its
 * `keel.step.units.*` count the items only.
 */
function agentStepSpan(
  ctx: RunContext,
  state: StepAt,
  info: StepInfo,
  units: readonly StepAt[],
  itemIndex: ReadonlyMap<string, number>,
): SpanSpec {
  const shown = units.filter(ctx.begun);
  if (!info.scoped) return agentSpan(ctx, state, info, shown);
  const items = units.filter((u) => agentScope(u.scope) === null);
  const tally: Record<string, number> = {};
  for (const u of items) tally[u.status] = (tally[u.status] ?? 0) + 1;
  const started = items.filter(ctx.begun);
  return scopedStepSpan(
    ctx,
    { ...state, tally: tally as Tally },
    info,
    started.map((u) => unitSpan(ctx, u, info, itemIndex.get(u.id), agentSpan(ctx, u, info, shown))),
    items.length - started.length,
  );
}

/** The tool types of the GenAI conventions, by how a tool runs (docs/dev/agents.md). */
const TOOL_TYPES: Record<ToolKind, string> = {
  tool: "function",
  workflow: "function",
  http: "extension",
};

/**
 * One agent (the step, or an item of its map): `invoke_agent {id}`, with below it, in call order,
 * each turn's model call and then the tool calls it asked for. `units` may hold other items'
 * turns and calls: only this agent's are taken.
 */
function agentSpan(
  ctx: RunContext,
  state: StepAt,
  info: StepInfo,
  units: readonly StepAt[],
): SpanSpec {
  const { stepId } = splitUnit(state.id);
  const own = state.scope ?? "";
  const turns = new Map<
    number,
    { turn?: StepAt; calls: { index: number; tool: string; state: StepAt }[] }
  >();
  for (const u of units) {
    const at = agentScope(u.scope);
    if (!at || at.item !== own) continue;
    let entry = turns.get(at.turn);
    if (!entry) turns.set(at.turn, (entry = { calls: [] }));
    if (at.tool === undefined) entry.turn = u;
    else entry.calls.push({ index: at.index!, tool: at.tool, state: u });
  }
  const agentAttributes = { [ATTR_GEN_AI_AGENT_NAME]: stepId, "keel.step.type": "agent" };
  const chats: SpanSpec[] = [];
  const children: SpanSpec[] = [];
  for (const t of [...turns.keys()].sort((a, b) => a - b)) {
    const { turn, calls } = turns.get(t)!;
    const at = { ...agentAttributes, "keel.agent.turn": t };
    let reply: Record<string, unknown> = {};
    let offered: Record<string, unknown>[] = [];
    if (turn) {
      const span = stepSpan(ctx, turn, { type: "llm", scoped: false });
      const chat = { ...span, attributes: { ...span.attributes, ...at } };
      chats.push(chat);
      children.push(chat);
      if (calls.length > 0) {
        const attempts = ctx.attemptsOf.get(turn.id) ?? [];
        const success = attempts.find((a) => a.status === "succeeded");
        const input = success ? asObject(ctx.record.value(success.inputHash)) : {};
        if (Array.isArray(input.tools)) offered = input.tools.map(asObject);
        if (success?.outputHash) reply = asObject(ctx.record.value(success.outputHash));
      }
    }
    const requested = Array.isArray(reply.tool_calls) ? reply.tool_calls.map(asObject) : [];
    for (const call of calls.sort((a, b) => a.index - b.index)) {
      const spec = offered.find((o) => o.name === call.tool);
      children.push(
        toolCallSpan(ctx, call.state, info, call.tool, requested[call.index], spec, at),
      );
    }
  }
  const span = stepSpan(ctx, state, { ...info, type: "agent" });
  const first = chats[0]?.attributes ?? {};
  const attributes: Record<string, AttributeValue> = {
    [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
    ...agentAttributes,
  };
  if (info.description) attributes[ATTR_GEN_AI_AGENT_DESCRIPTION] = info.description;
  for (const key of [
    ATTR_GEN_AI_PROVIDER_NAME,
    "keel.provider.id",
    ATTR_GEN_AI_REQUEST_MODEL,
    ATTR_GEN_AI_OUTPUT_TYPE,
    ATTR_SERVER_ADDRESS,
    ATTR_SERVER_PORT,
  ]) {
    if (first[key] !== undefined) attributes[key] = first[key];
  }
  // The agent's usage and cost: its live model calls' (a cached or reused turn spent nothing).
  for (const key of [
    ATTR_GEN_AI_USAGE_INPUT_TOKENS,
    ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
    "keel.cost.usd",
  ]) {
    const spent = chats.filter((c) => typeof c.attributes[key] === "number");
    if (spent.length > 0) {
      attributes[key] = spent.reduce((sum, c) => sum + (c.attributes[key] as number), 0);
    }
  }
  Object.assign(attributes, span.attributes, {
    "keel.agent.turns": chats.length,
    "keel.agent.tool_calls": children.length - chats.length,
  });
  const stop = state.ended?.type === "step_succeeded" ? state.ended.data?.stopReason : undefined;
  if (typeof stop === "string") attributes["keel.agent.stop_reason"] = stop;
  return {
    ...span,
    name: `${GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT} ${stepId}`,
    kind: "internal",
    startedAt: children.reduce((min, c) => earliest(min, c.startedAt), span.startedAt),
    endedAt: children.reduce((max, c) => (c.endedAt > max ? c.endedAt : max), span.endedAt),
    attributes,
    children: [...span.children, ...children],
  };
}

/**
 * A tool call of an agent's turn: `execute_tool {tool}` with its attempts (and a workflow tool's
 * child run) below it, the call's id from the turn's reply, the tool's description as the model
 * was given it, and with content the arguments as the model sent them and the result it was told.
 * A call refused for its arguments has no attempt: its span is the error alone.
 */
function toolCallSpan(
  ctx: RunContext,
  state: StepAt,
  info: StepInfo,
  name: string,
  requested: Record<string, unknown> | undefined,
  offered: Record<string, unknown> | undefined,
  agentAttributes: Record<string, AttributeValue>,
): SpanSpec {
  const tool = info.tools?.get(name);
  // An HTTP tool's span keeps the request's attributes (method, URL, status).
  const span = stepSpan(ctx, state, {
    type: tool?.kind === "http" ? "http" : "agent",
    scoped: false,
  });
  const attributes: Record<string, AttributeValue> = {
    [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
    [ATTR_GEN_AI_TOOL_NAME]: name,
    ...span.attributes,
    ...agentAttributes,
  };
  if (tool) attributes[ATTR_GEN_AI_TOOL_TYPE] = TOOL_TYPES[tool.kind];
  if (tool?.uses) attributes["keel.tool.uses"] = tool.uses;
  if (typeof requested?.id === "string") attributes[ATTR_GEN_AI_TOOL_CALL_ID] = requested.id;
  if (typeof offered?.description === "string") {
    attributes[ATTR_GEN_AI_TOOL_DESCRIPTION] = offered.description;
  }
  if (ctx.content) {
    if (typeof requested?.arguments === "string") {
      attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = requested.arguments;
    }
    const success = (ctx.attemptsOf.get(state.id) ?? []).find((a) => a.status === "succeeded");
    if (success?.outputHash) {
      const output = ctx.record.value(success.outputHash);
      const told = tool?.kind === "http" ? asObject(output).body : output;
      attributes[ATTR_GEN_AI_TOOL_CALL_RESULT] =
        typeof told === "string" ? told : JSON.stringify(told ?? null);
    }
  }
  return {
    ...span,
    name: `${GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL} ${name}`,
    kind: "internal",
    attributes,
  };
}

/**
 * A span with the child runs it started below it. A child run the store lacks is an event
 * (`keel.child_run.missing`) and `keel.child_run.missing` on the span, never a failure.
 */
function withChildRuns(span: SpanSpec, runs: { id: string; span: SpanSpec | null }[]): SpanSpec {
  if (runs.length === 0) return span;
  const missing = runs.filter((r) => r.span === null);
  const attributes: Record<string, AttributeValue> = {
    ...span.attributes,
    "keel.child_run.ids": runs.map((r) => r.id),
  };
  if (missing.length > 0) attributes["keel.child_run.missing"] = missing.map((r) => r.id);
  return {
    ...span,
    attributes,
    children: [...span.children, ...runs.flatMap((r) => (r.span ? [r.span] : []))],
    events: [
      ...(span.events ?? []),
      ...missing.map((r) => ({
        name: "keel.child_run.missing",
        at: span.startedAt,
        attributes: { "keel.child_run.id": r.id },
      })),
    ],
  };
}

/** A span's error message: the error's kind, and its message only with content. */
function errorText(
  error: { readonly kind: string; readonly message: string } | null,
  content: boolean,
): string | null {
  if (!error) return null;
  return content ? `${error.kind}: ${error.message}` : error.kind;
}

function attemptSpan(
  a: AttemptRecord,
  common: Record<string, AttributeValue>,
  content: boolean,
): SpanSpec {
  const attributes: Record<string, AttributeValue> = {
    ...common,
    "keel.attempt": a.attempt,
    "keel.attempt.status": a.status,
    "keel.attempt.origin": a.origin,
  };
  if (a.sourceRunId) attributes["keel.source_run.id"] = a.sourceRunId;
  if (a.errorKind) attributes[ATTR_ERROR_TYPE] = a.errorKind;
  return {
    name: `attempt ${a.attempt}`,
    kind: "internal",
    startedAt: a.startedAt,
    endedAt: a.endedAt < a.startedAt ? a.startedAt : a.endedAt,
    attributes,
    error:
      a.status === "failed"
        ? (errorText({ kind: a.errorKind ?? "error", message: a.errorMessage ?? "" }, content) ??
          "failed")
        : null,
    children: [],
  };
}

/** The step types whose spans carry what their input and output say. */
const TYPED = new Set(["llm", "embed", "tool", "http"]);

interface Typed {
  readonly name: string;
  readonly kind: SpanSpec["kind"];
  readonly attributes: Record<string, AttributeValue>;
}

function typeSpecific(
  info: StepInfo,
  id: string,
  input: Record<string, unknown>,
  output: unknown,
  success: AttemptRecord | undefined,
  content: boolean,
): Typed {
  switch (info.type) {
    case "llm":
      return llmSpan(id, input, output, success, content);
    case "embed":
      return embedSpan(input, success);
    case "tool": {
      const attributes: Record<string, AttributeValue> = {
        [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
        [ATTR_GEN_AI_TOOL_NAME]: id,
        [ATTR_GEN_AI_TOOL_TYPE]: "function",
      };
      if (info.uses) attributes["keel.tool.uses"] = info.uses;
      if (content && input.args !== undefined) {
        attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = JSON.stringify(input.args);
      }
      if (content && output !== undefined) {
        attributes[ATTR_GEN_AI_TOOL_CALL_RESULT] = JSON.stringify(output);
      }
      return {
        name: `${GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL} ${id}`,
        kind: "internal",
        attributes,
      };
    }
    case "http":
      return httpSpan(input, output, content);
    default:
      return { name: `${info.type} ${id}`, kind: "internal", attributes: {} };
  }
}

/** An `embed` step: `embeddings {model}`, its provider, model and input tokens (never the texts' vectors). */
function embedSpan(input: Record<string, unknown>, success: AttemptRecord | undefined): Typed {
  const model = typeof input.model === "string" ? input.model : undefined;
  const providerType = typeof input.providerType === "string" ? input.providerType : undefined;
  const attributes: Record<string, AttributeValue> = {
    [ATTR_GEN_AI_OPERATION_NAME]: "embeddings",
  };
  if (providerType)
    attributes[ATTR_GEN_AI_PROVIDER_NAME] = PROVIDER_NAMES[providerType] ?? providerType;
  if (typeof input.provider === "string") attributes["keel.provider.id"] = input.provider;
  if (model) attributes[ATTR_GEN_AI_REQUEST_MODEL] = model;
  if (Array.isArray(input.input)) attributes["keel.embed.texts"] = input.input.length;
  if (typeof input.baseUrl === "string") Object.assign(attributes, serverOf(input.baseUrl));
  const meta = success?.origin === "live" ? success.meta : null;
  if (meta) {
    if (typeof meta.model === "string") attributes[ATTR_GEN_AI_RESPONSE_MODEL] = meta.model;
    const usage = asObject(meta.usage);
    if (typeof usage.input === "number") attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS] = usage.input;
  }
  return { name: model ? `embeddings ${model}` : "embeddings", kind: "client", attributes };
}

function llmSpan(
  id: string,
  input: Record<string, unknown>,
  output: unknown,
  success: AttemptRecord | undefined,
  content: boolean,
): Typed {
  const model = typeof input.model === "string" ? input.model : undefined;
  const providerType = typeof input.providerType === "string" ? input.providerType : undefined;
  const attributes: Record<string, AttributeValue> = {
    [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_CHAT,
  };
  if (providerType) {
    attributes[ATTR_GEN_AI_PROVIDER_NAME] = PROVIDER_NAMES[providerType] ?? providerType;
  }
  if (typeof input.provider === "string") attributes["keel.provider.id"] = input.provider;
  if (model) attributes[ATTR_GEN_AI_REQUEST_MODEL] = model;
  if (typeof input.json === "boolean") {
    attributes[ATTR_GEN_AI_OUTPUT_TYPE] = input.json
      ? GEN_AI_OUTPUT_TYPE_VALUE_JSON
      : GEN_AI_OUTPUT_TYPE_VALUE_TEXT;
  }
  const params = asObject(input.params);
  const number = (key: string, attr: string) => {
    if (typeof params[key] === "number") attributes[attr] = params[key];
  };
  number("temperature", ATTR_GEN_AI_REQUEST_TEMPERATURE);
  number("max_tokens", ATTR_GEN_AI_REQUEST_MAX_TOKENS);
  number("top_p", ATTR_GEN_AI_REQUEST_TOP_P);
  number("seed", ATTR_GEN_AI_REQUEST_SEED);
  const stop = params.stop;
  if (typeof stop === "string") attributes[ATTR_GEN_AI_REQUEST_STOP_SEQUENCES] = [stop];
  else if (Array.isArray(stop)) {
    attributes[ATTR_GEN_AI_REQUEST_STOP_SEQUENCES] = stop.map((s) => String(s));
  }
  if (typeof input.baseUrl === "string") Object.assign(attributes, serverOf(input.baseUrl));
  const meta = success?.origin === "live" ? success.meta : null;
  if (meta) {
    if (typeof meta.model === "string") attributes[ATTR_GEN_AI_RESPONSE_MODEL] = meta.model;
    if (typeof meta.responseId === "string") attributes[ATTR_GEN_AI_RESPONSE_ID] = meta.responseId;
    if (typeof meta.fingerprint === "string") {
      attributes["gen_ai.openai.response.system_fingerprint"] = meta.fingerprint;
    }
    const usage = asObject(meta.usage);
    if (typeof usage.input === "number") attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS] = usage.input;
    if (typeof usage.output === "number") {
      attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = usage.output;
    }
    if (typeof meta.costUsd === "number") attributes["keel.cost.usd"] = meta.costUsd;
  }
  if (content) {
    if (typeof input.system === "string") {
      attributes[ATTR_GEN_AI_SYSTEM_INSTRUCTIONS] = JSON.stringify([
        { type: "text", content: input.system },
      ]);
    }
    if (Array.isArray(input.messages)) {
      attributes[ATTR_GEN_AI_INPUT_MESSAGES] = JSON.stringify(
        input.messages.map((m) => ({ role: asObject(m).role, parts: messageParts(asObject(m)) })),
      );
    }
    if (Array.isArray(input.tools)) {
      attributes[ATTR_GEN_AI_TOOL_DEFINITIONS] = JSON.stringify(
        input.tools.map((t) => ({ type: "function", ...asObject(t) })),
      );
    }
    if (output !== undefined) {
      const reply = asObject(output);
      attributes[ATTR_GEN_AI_OUTPUT_MESSAGES] = JSON.stringify([
        // An agent's turn answers with the assistant's message, its tool calls in it.
        reply.role === "assistant" && Array.isArray(reply.tool_calls)
          ? {
              role: "assistant",
              parts: messageParts(reply),
              finish_reason: reply.tool_calls.length > 0 ? "tool_call" : "stop",
            }
          : {
              role: "assistant",
              parts: [
                {
                  type: "text",
                  content: typeof output === "string" ? output : JSON.stringify(output),
                },
              ],
            },
      ]);
    }
  }
  return {
    name: `${GEN_AI_OPERATION_NAME_VALUE_CHAT} ${model ?? id}`,
    kind: "client",
    attributes,
  };
}

/**
 * A message's parts as the GenAI conventions write them: its text, the tool calls an assistant
 * asked for (arguments parsed when they are JSON, else the text the model sent), a tool's result.
 */
function messageParts(m: Record<string, unknown>): Record<string, unknown>[] {
  if (m.role === "tool") {
    return [{ type: "tool_call_response", id: m.tool_call_id ?? null, response: m.content }];
  }
  const calls = Array.isArray(m.tool_calls) ? m.tool_calls.map(asObject) : [];
  const parts: Record<string, unknown>[] =
    calls.length > 0 && (m.content === "" || m.content === null || m.content === undefined)
      ? []
      : [{ type: "text", content: m.content }];
  for (const c of calls) {
    let args: unknown = c.arguments;
    try {
      if (typeof args === "string") args = JSON.parse(args);
    } catch {
      // not JSON: the text as the model sent it
    }
    parts.push({ type: "tool_call", id: c.id ?? null, name: c.name, arguments: args });
  }
  return parts;
}

function httpSpan(input: Record<string, unknown>, output: unknown, content: boolean): Typed {
  const method = typeof input.method === "string" ? input.method.toUpperCase() : "HTTP";
  const attributes: Record<string, AttributeValue> = { [ATTR_HTTP_REQUEST_METHOD]: method };
  if (typeof input.url === "string") {
    Object.assign(attributes, serverOf(input.url));
    try {
      const url = new URL(input.url);
      // A query string may carry data: only with content.
      if (!content) url.search = "";
      url.hash = "";
      url.username = "";
      url.password = "";
      attributes[ATTR_URL_FULL] = url.toString();
    } catch {
      // not a URL: no url.full
    }
  }
  const status = asObject(output).status;
  if (typeof status === "number") attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = status;
  return { name: method, kind: "client", attributes };
}

function serverOf(address: string): Record<string, AttributeValue> {
  try {
    const url = new URL(address);
    const port = url.port
      ? Number(url.port)
      : url.protocol === "https:"
        ? 443
        : url.protocol === "http:"
          ? 80
          : undefined;
    return {
      [ATTR_SERVER_ADDRESS]: url.hostname,
      ...(port !== undefined ? { [ATTR_SERVER_PORT]: port } : {}),
    };
  } catch {
    return {};
  }
}

function asObject(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : {};
}
