// A run's OpenTelemetry spans (docs/cli.md, "OpenTelemetry"), built from its record alone: recorded
// timestamps, values already redacted, so a local, a distributed and a replayed run export alike.
// GenAI semantic conventions (all still "Development" upstream): the run is
// `invoke_workflow {name}`, an `llm` step a `chat {model}` CLIENT span with the provider, request
// parameters, served model, response id and token usage, a `tool` step `execute_tool {id}`, an
// `http` step an HTTP client span named by its method; every step's attempts are its child spans;
// `keel.run.id`, `keel.step.id` and `keel.step.status` are on each.
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
  ATTR_GEN_AI_TOOL_CALL_RESULT,
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
  GEN_AI_OPERATION_NAME_VALUE_INVOKE_WORKFLOW,
  GEN_AI_OUTPUT_TYPE_VALUE_JSON,
  GEN_AI_OUTPUT_TYPE_VALUE_TEXT,
  GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC,
  GEN_AI_PROVIDER_NAME_VALUE_OPENAI,
} from "@opentelemetry/semantic-conventions/incubating";
import { foldToEnd, type StepAt } from "../record/fold";
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
}

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
    if (!info.scoped && units.length === 0) {
      children.push(stepSpan(ctx, state, info));
      continue;
    }
    // A map's or a loop's span: its units below it, each a step span of its own. An item that
    // never started (cancelled once the map's failure limit was passed, or never reached) is left
    // out; the step's `keel.step.units.*` counts say how many there were.
    const shown = units.filter(
      (u) => u.status !== "pending" && !(u.status === "cancelled" && !firstStart.has(u.id)),
    );
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
    });
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
): SpanSpec {
  const span = stepSpan(ctx, state, info);
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
        (input.messages as { role?: unknown; content?: unknown }[]).map((m) => ({
          role: m.role,
          parts: [{ type: "text", content: m.content }],
        })),
      );
    }
    if (output !== undefined) {
      attributes[ATTR_GEN_AI_OUTPUT_MESSAGES] = JSON.stringify([
        {
          role: "assistant",
          parts: [
            { type: "text", content: typeof output === "string" ? output : JSON.stringify(output) },
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
