// What each step type does, in two halves: `prepare` resolves the step's templates into the exact
// input it will use (recorded, and compared by replay), and `execute` performs it, through Effects
// when it touches the world.
import { resolve } from "node:path";
import type { Provider, Step, Workflow } from "../model/schema";
import type {
  AttemptScope,
  EmbedRequest,
  Effects,
  LlmMessage,
  LlmRequest,
  LlmResponse,
  LlmToolSpec,
} from "./effects";
import { StepError } from "./errors";
import { checkOutput } from "./output-schema";
import { toolModuleHash } from "./cache";
import { chooseInterpreter, isPythonTool, lockfileHash } from "./python/interpreter";
import { PromptFiles, type PromptText } from "./prompt-files";
import { lineOf, MUSTACHE, type PromptMessage } from "../model/prompt-file";
import {
  asText,
  evaluateBare,
  FALLBACK,
  render,
  renderSync,
  toJson,
  type ExprScope,
} from "../expr/evaluate";

export interface StepOutput {
  readonly value: unknown;
  /** Provider metadata of a model call. */
  readonly reply?: LlmResponse;
  /** What else the attempt records in its `meta` (a Python tool's version and lockfile hash). */
  readonly meta?: Readonly<Record<string, unknown>>;
}

export interface PreparedStep {
  /** The resolved input, as recorded. */
  readonly input: unknown;
  /** True when executing it reaches outside the process (through Effects). */
  readonly effectful: boolean;
  /** True for in-process computations that end by themselves at once (transform, assert). */
  readonly quick?: boolean;
  /**
   * An agent's turn: its input is the previous turn's with messages appended, and is recorded as
   * a link to it (`base`, whose first `keep` messages it shares; core/store/chains.ts).
   */
  readonly chain?: { readonly base: unknown; readonly keep: number };
  /** The provider an `llm` step calls (fallbacks change it). */
  readonly provider?: string;
  /** `scope` says which attempt it is, for the effects that report to it (effects.ts). */
  execute(effects: Effects, signal: AbortSignal, scope?: AttemptScope): Promise<StepOutput>;
}

export interface StepEnv {
  readonly workflow: Workflow;
  /** Folder of the workflow file: tool modules and `cwd` are relative to it. */
  readonly dir: string;
  /** Runs a `workflow` step's child workflow; given by the scheduler that can. */
  readonly children?: ChildRuns;
  /** The run's prompt files, read once per run (default: read from `dir` at each preparation). */
  readonly prompts?: PromptFiles;
  /** An agent step's model call: the conversation so far and the tools (core/runner/agent.ts). */
  readonly turn?: AgentTurn;
}

/** What an agent's turn adds to the model call its step's prompt makes (core/runner/agent.ts). */
export interface AgentTurn {
  /** The messages after the prompt's: replies with their tool calls, and the tools' results. */
  readonly appended: readonly LlmMessage[];
  readonly tools: readonly LlmToolSpec[];
  /** The last call of `on_max_turns: answer`: tools are listed, and the model must answer. */
  readonly final: boolean;
  /** Whether the model may ask for several calls at once (`parallel_tool_calls`), when set. */
  readonly parallel?: boolean;
  /** The agent's `output`: what its answer must be (the turn's own output is the message). */
  readonly output?: { readonly format?: string; readonly schema?: Record<string, unknown> };
  /** The previous turn's request, which this one extends. */
  readonly previous?: LlmRequest;
  /** Told the request each attempt of the turn sends. */
  sent?(request: LlmRequest): void;
}

/** What an agent's model call answers (a turn's output): the assistant's message. */
export interface AgentReply {
  readonly role: "assistant";
  readonly content: string;
  readonly tool_calls: readonly { id: string; name: string; arguments: string }[];
}

/** The version of how an agent's conversation is rendered; recorded with each of its model calls. */
export const AGENT_PROTOCOL = 1;

/** A child workflow to run: its file as written in `uses`, and its inputs. */
export interface ChildCall {
  readonly uses: string;
  readonly inputs: Record<string, unknown>;
}

/** Runs a child workflow for one attempt of a `workflow` step (docs/dev/scopes.md). */
export interface ChildRuns {
  run(call: ChildCall, signal: AbortSignal): Promise<StepOutput>;
}

/**
 * A step's preparation, written once for both ways of rendering: it yields each template value it
 * needs rendered and receives the rendered value back; it returns the prepared step.
 */
type Preparation = Generator<unknown, PreparedStep, unknown>;

/**
 * A value a preparation yields to have it rendered in a context of its own instead of the step's:
 * a prompt file's text, which sees its declared inputs only (docs/format.md "Prompt files").
 */
class Scoped {
  constructor(
    readonly value: unknown,
    readonly context: Readonly<Record<string, unknown>>,
    /** Where the text is, `file:line`, for the message of an expression that fails there. */
    readonly where: string,
  ) {}
}

/** A bare expression a preparation yields: evaluated, not rendered as a template (`messages:`). */
class Bare {
  constructor(readonly expr: string) {}
}

/** What a yielded value renders, and in which scope. */
function renderOf(value: unknown, scope: ExprScope): [unknown, ExprScope] {
  return value instanceof Scoped
    ? [value.value, { context: value.context, signal: scope.signal, timeoutMs: scope.timeoutMs }]
    : [value, scope];
}

/** Renders a yielded value; an expression failing in a prompt file names the file and line. */
async function renderYielded(value: unknown, scope: ExprScope): Promise<unknown> {
  if (value instanceof Bare) return toJson(await evaluateBare(value.expr, scope));
  try {
    return await render(...renderOf(value, scope));
  } catch (e) {
    throw located(e, value);
  }
}

function renderYieldedSync(value: unknown, scope: ExprScope): unknown {
  if (value instanceof Bare) return FALLBACK;
  try {
    return renderSync(...renderOf(value, scope));
  } catch (e) {
    throw located(e, value);
  }
}

function located(e: unknown, value: unknown): unknown {
  if (value instanceof Scoped && e instanceof Error && !e.message.startsWith(value.where))
    e.message = `${value.where}: ${e.message}`;
  return e;
}

export async function prepareStep(
  step: Step,
  scope: ExprScope,
  env: StepEnv,
  providerOverride?: string,
): Promise<PreparedStep> {
  const preparation = prepare(step, scope, env, providerOverride);
  let next = preparation.next();
  while (!next.done) next = preparation.next(await renderYielded(next.value, scope));
  return next.value;
}

/**
 * `prepareStep` without a promise, when every template the step renders is within the fast
 * expression subset; else FALLBACK (then use `prepareStep`: preparing has no effects, so it may
 * start again). It throws what `prepareStep` would reject with.
 */
export function prepareStepSync(
  step: Step,
  scope: ExprScope,
  env: StepEnv,
  providerOverride?: string,
): PreparedStep | typeof FALLBACK {
  const preparation = prepare(step, scope, env, providerOverride);
  let next = preparation.next();
  while (!next.done) {
    const rendered = renderYieldedSync(next.value, scope);
    if (rendered === FALLBACK) return FALLBACK;
    next = preparation.next(rendered);
  }
  return next.value;
}

function* prepare(
  step: Step,
  scope: ExprScope,
  env: StepEnv,
  providerOverride: string | undefined,
): Preparation {
  switch (step.type) {
    case "transform":
      return {
        input: { expr: step.expr },
        effectful: false,
        quick: true,
        // The signal is the attempt's: its time limit and the run's cancel stop the evaluation.
        execute: async (_effects, signal) => ({
          value: toJson(await evaluateBare(step.expr, { ...scope, signal })),
        }),
      };
    case "assert":
      return prepareAssert(step, scope);
    case "llm":
    case "agent":
      return yield* prepareLlm(step, env, providerOverride);
    case "shell":
      return yield* prepareShell(step, env);
    case "http":
      return yield* prepareHttp(step);
    case "tool":
      return yield* prepareTool(step, env);
    case "workflow":
      return yield* prepareWorkflow(step, env);
    case "embed":
      return yield* prepareEmbed(step, env, providerOverride);
  }
}

/** An `embed` step: its texts (one, or a list) and the provider's embeddings API. */
function* prepareEmbed(
  step: Extract<Step, { type: "embed" }>,
  env: StepEnv,
  providerOverride: string | undefined,
): Preparation {
  const providerId = providerOverride ?? providerOf(step, env.workflow);
  const provider = providerId ? env.workflow.providers?.[providerId] : undefined;
  if (!providerId || !provider) throw new StepError("config", "embed step has no provider");
  if (provider.type === "anthropic")
    throw new StepError(
      "config",
      `provider '${providerId}' is an anthropic provider, which has no embeddings API: use an openai, azure_openai or scripted provider`,
    );
  const value = toJson(yield step.input);
  const one = typeof value === "string";
  if (!one && !(Array.isArray(value) && value.every((t) => typeof t === "string")))
    throw new StepError(
      "expression",
      `the input of an embed step must be a text or a list of texts, not ${Array.isArray(value) ? "a list holding other values" : value === null ? "null" : typeof value}`,
    );
  const connection = yield* renderConnection(provider);
  const request: EmbedRequest = {
    provider: providerId,
    providerType: provider.type,
    // A step's own model applies to its provider only; a fallback uses the fallback's model.
    model:
      (step.model !== undefined && !providerOverride ? asText(yield step.model) : undefined) ??
      (provider.type === "azure_openai" ? provider.deployment : provider.model) ??
      null,
    input: one ? [value] : (value as string[]),
    dimensions: step.dimensions ?? null,
    baseUrl: connection.baseUrl,
    headers: connection.headers,
    ...(provider.type === "azure_openai" ? { apiVersion: provider.api_version } : {}),
  };
  // No text, no call: the embeddings APIs refuse an empty input.
  if (request.input.length === 0)
    return { input: request, effectful: false, execute: async () => ({ value: [] }) };
  return {
    input: request,
    effectful: provider.type !== "scripted",
    provider: providerId,
    execute: async (effects, signal) => {
      const r = await effects.embed(request, signal, connection.apiKey);
      if (r.vectors.length !== request.input.length)
        throw new StepError(
          "invalid_output",
          `provider '${providerId}' returned ${r.vectors.length} embeddings for ${request.input.length} texts`,
        );
      // Recorded like a model call's reply (served model, usage); an embedding has no text.
      const reply = { ...r, text: "", responseId: null, fingerprint: null };
      return { value: one ? r.vectors[0] : r.vectors, reply };
    },
  };
}

function* prepareWorkflow(step: Extract<Step, { type: "workflow" }>, env: StepEnv): Preparation {
  const call: ChildCall = {
    uses: step.uses,
    inputs: toJson(yield step.with ?? {}) as Record<string, unknown>,
  };
  const children = env.children;
  return {
    input: { uses: call.uses, with: call.inputs },
    // The child's effects wait for what its inputs came from to be committed.
    effectful: true,
    execute: async (_effects, signal) => {
      if (!children)
        throw new StepError("config", "a workflow step runs only in a local run (keel run)");
      return children.run(call, signal);
    },
  };
}

function prepareAssert(step: Extract<Step, { type: "assert" }>, scope: ExprScope): PreparedStep {
  const checks = Array.isArray(step.that) ? step.that : [step.that];
  return {
    input: { that: checks },
    effectful: false,
    quick: true,
    execute: async (_effects, signal) => {
      const bounded = { ...scope, signal };
      for (const check of checks) {
        const value = await evaluateBare(check, bounded);
        if (value !== true) {
          const message =
            step.message !== undefined
              ? asText(await render(step.message, bounded))
              : `\`${String(check)}\` is ${JSON.stringify(toJson(value))}${calledTools(check, scope)}`;
          throw new StepError("assertion", `assertion failed: ${message}`);
        }
      }
      return { value: true };
    },
  };
}

/**
 * What the agents a failed `$trajectory(steps.<id>, …)` check names called, for its message:
 * ` (research called: search, fetch_page)`; "" for any other check.
 */
function calledTools(check: unknown, scope: ExprScope): string {
  if (typeof check !== "string") return "";
  const parts: string[] = [];
  for (const [, id] of check.matchAll(/\$trajectory\(\s*steps\.([a-z][a-z0-9_]*)/g)) {
    const view = (scope.context.steps as Record<string, { turns?: unknown }> | undefined)?.[id!];
    if (!Array.isArray(view?.turns)) continue;
    const names = (view.turns as { tool_calls?: { name?: unknown }[] }[]).flatMap((t) =>
      (t.tool_calls ?? []).map((c) => String(c.name)),
    );
    parts.push(`${id} called: ${names.length > 0 ? names.join(", ") : "no tool"}`);
  }
  return parts.length > 0 ? ` (${parts.join("; ")})` : "";
}

/** The provider an llm step uses: its own, then `defaults.provider`, then the only one declared. */
export function providerOf(step: { provider?: string }, workflow: Workflow): string | undefined {
  if (step.provider) return step.provider;
  if (workflow.defaults?.provider) return workflow.defaults.provider;
  const ids = Object.keys(workflow.providers ?? {});
  return ids.length === 1 ? ids[0] : undefined;
}

function* prepareLlm(
  step: Extract<Step, { type: "llm" | "agent" }>,
  env: StepEnv,
  providerOverride: string | undefined,
): Preparation {
  const providerId = providerOverride ?? providerOf(step, env.workflow);
  const provider: Provider | undefined = providerId
    ? env.workflow.providers?.[providerId]
    : undefined;
  if (!providerId || !provider) throw new StepError("config", `llm step has no provider`);
  const files =
    (step.prompt_file ?? step.system_file) ? (env.prompts ?? new PromptFiles(env.dir)) : undefined;
  const promptFile = step.prompt_file !== undefined ? files!.get(step.prompt_file) : undefined;
  const systemFile = step.system_file !== undefined ? files!.get(step.system_file) : undefined;
  const args = files ? (toJson(yield step.with ?? {}) as Record<string, unknown>) : {};
  const messages: LlmMessage[] = [];
  let system: string | null = null;
  if (systemFile) {
    const only = systemFile.file.messages;
    if (only.length !== 1 || (only[0]!.role !== "system" && !systemFile.file.headless))
      throw new StepError(
        "config",
        `the system_file ${systemFile.path} must be one text (no heading, or one \`## system\`)`,
      );
    system = yield* renderPromptText(
      systemFile,
      only[0]!,
      promptArgs(systemFile, args, promptFile),
    );
  } else if (step.system !== undefined) system = asText(yield step.system);
  if (promptFile) {
    const context = promptArgs(promptFile, args, systemFile);
    for (const m of promptFile.file.messages)
      messages.push({
        role: m.role,
        content: yield* renderPromptText(promptFile, m, context),
      });
  } else if (typeof step.messages === "string") {
    messages.push(...chatHistory(yield new Bare(step.messages)));
  } else if (step.messages) {
    for (const m of step.messages) {
      const id = m.tool_call_id !== undefined ? asText(yield m.tool_call_id) : undefined;
      messages.push({
        role: m.role,
        content: asText(yield m.content),
        ...(id !== undefined ? { tool_call_id: id } : {}),
      });
    }
  } else if (step.prompt !== undefined || system === null)
    messages.push({ role: "user", content: asText(yield step.prompt ?? "") });
  // `system:` alone is the whole prompt: the conversation has no message.
  const turn = env.turn;
  if (turn) messages.push(...turn.appended);
  // A prompt file's `params` lie under the step's own.
  let params = {
    ...systemFile?.file.params,
    ...promptFile?.file.params,
    ...((toJson(yield step.params ?? {}) ?? {}) as Record<string, unknown>),
  };
  // `defaults.llm.params` lie under the step's own, key by key.
  const typeParams = env.workflow.defaults?.llm?.params;
  if (typeParams) params = { ...(toJson(yield typeParams) as Record<string, unknown>), ...params };
  const connection = yield* renderConnection(provider);
  const request: LlmRequest = {
    provider: providerId,
    providerType: provider.type,
    // A step's own model applies to its provider only; a fallback uses the fallback's model.
    model:
      (providerOverride
        ? undefined
        : step.model !== undefined
          ? asText(yield step.model)
          : undefined) ??
      (providerOverride ? undefined : (promptFile?.file.model ?? systemFile?.file.model)) ??
      (provider.type === "azure_openai" ? provider.deployment : provider.model) ??
      null,
    system,
    messages,
    params,
    json: (env.turn ? env.turn.output : step.output)?.format === "json",
    baseUrl: connection.baseUrl,
    headers: connection.headers,
    ...(provider.type === "azure_openai" ? { apiVersion: provider.api_version } : {}),
    ...(promptFile ? { promptFile: { path: promptFile.path, hash: promptFile.hash } } : {}),
    ...(systemFile ? { systemFile: { path: systemFile.path, hash: systemFile.hash } } : {}),
    ...(turn
      ? {
          tools: turn.tools,
          ...(turn.final ? { toolChoice: "none" as const } : {}),
          ...(turn.parallel !== undefined ? { parallelToolCalls: turn.parallel } : {}),
          agentProtocol: AGENT_PROTOCOL,
        }
      : {}),
  };
  if (turn) {
    const previous = turn.previous;
    turn.sent?.(request);
    return {
      input: request,
      effectful: provider.type !== "scripted",
      provider: providerId,
      ...(previous ? { chain: { base: previous, keep: previous.messages.length } } : {}),
      execute: async (effects, signal, at) => {
        const streams = step.stream ?? env.workflow.defaults?.llm?.stream;
        const reply = await effects.llm(
          request,
          signal,
          connection.apiKey,
          streams ? { scope: at } : undefined,
        );
        const calls = turn.final ? [] : (reply.toolCalls ?? []);
        // The answer is checked like an llm step's reply, so that `retry.on: [invalid_output]`
        // asks the model again; the turn's output stays the message (agent.ts parses it).
        const answer = { output: turn.output };
        if (calls.length === 0)
          checkOutput("llm", turn.output?.schema, answerOf(answer, reply.text));
        const value: AgentReply = {
          role: "assistant",
          content: reply.text,
          tool_calls: calls.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments })),
        };
        return { value, reply };
      },
    };
  }
  return {
    input: request,
    effectful: provider.type !== "scripted",
    provider: providerId,
    execute: async (effects, signal, at) => {
      // Streaming changes how the reply arrives, never what is asked: it is not in the request.
      const streams = step.stream ?? env.workflow.defaults?.llm?.stream;
      const stream = streams ? { scope: at } : undefined;
      const reply = await effects.llm(request, signal, connection.apiKey, stream);
      return { value: answerOf(step, reply.text), reply };
    },
  };
}

/** A model's answer as the step's output: its text, or with `output.format: json` its value. */
export function answerOf(step: { output?: { format?: string } }, text: string): unknown {
  if (step.output?.format !== "json") return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new StepError("invalid_output", `the model's reply is not JSON: ${text.slice(0, 200)}`);
  }
}

const ROLES: ReadonlySet<string> = new Set(["system", "user", "assistant", "tool"]);

/**
 * A chat history an expression built (`messages:` written bare): a list of `{ role, content }`,
 * with `tool_calls` on an assistant's message and `tool_call_id` on a tool's. A content that is
 * not text is sent as its JSON text.
 */
function chatHistory(value: unknown): LlmMessage[] {
  if (!Array.isArray(value))
    throw new StepError(
      "expression",
      `\`messages\` must be a list of { role, content }, not ${value === null ? "null" : typeof value}`,
    );
  return value.map((m: unknown, i) => {
    const o = m as Record<string, unknown> | null;
    if (!o || typeof o !== "object" || Array.isArray(o) || !ROLES.has(String(o.role)))
      throw new StepError(
        "expression",
        `\`messages[${i}]\` must be { role, content } with role system, user, assistant or tool`,
      );
    const content =
      typeof o.content === "string"
        ? o.content
        : o.content === null || o.content === undefined
          ? ""
          : JSON.stringify(o.content);
    const calls = Array.isArray(o.tool_calls)
      ? o.tool_calls.map((c: unknown, j) => {
          const call = c as Record<string, unknown> | null;
          if (!call || typeof call.name !== "string")
            throw new StepError(
              "expression",
              `\`messages[${i}].tool_calls[${j}]\` must be { id, name, arguments }`,
            );
          return {
            id: typeof call.id === "string" ? call.id : `call_${i}_${j}`,
            name: call.name,
            arguments:
              typeof call.arguments === "string"
                ? call.arguments
                : JSON.stringify(call.arguments ?? {}),
          };
        })
      : undefined;
    return {
      role: o.role as LlmMessage["role"],
      content,
      ...(calls && calls.length > 0 ? { tool_calls: calls } : {}),
      ...(typeof o.tool_call_id === "string" ? { tool_call_id: o.tool_call_id } : {}),
    };
  });
}

/**
 * The context a prompt file's templates see: its declared inputs, each given by `with:` or its
 * default; a `with:` key it does not declare, or a required input not given, fails the step.
 */
function promptArgs(
  p: PromptText,
  given: Record<string, unknown>,
  /** The step's other prompt file, whose inputs `with:` gives too. */
  other?: PromptText,
): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  for (const key of Object.keys(given)) {
    if (!p.file.inputs.has(key) && !other?.file.inputs.has(key))
      throw new StepError(
        "config",
        `\`with: ${key}\` is not an input of the prompt file ${p.path} (it declares ${[...p.file.inputs.keys()].join(", ") || "none"})`,
      );
  }
  for (const input of p.file.inputs.values()) {
    if (input.name in given) context[input.name] = given[input.name];
    else if (!input.required) context[input.name] = input.default;
    else
      throw new StepError(
        "config",
        `the prompt file ${p.path} needs input \`${input.name}\`: give it in the step's \`with:\``,
      );
  }
  return context;
}

/** One message of a prompt file rendered over its inputs. */
function* renderPromptText(
  p: PromptText,
  message: PromptMessage,
  context: Record<string, unknown>,
): Generator<unknown, string, unknown> {
  if (p.file.syntax === "mustache")
    return message.text.replace(MUSTACHE, (_, name: string) => asText(context[name]));
  const where = `${p.path}:${lineOf(p.file, message.start)}`;
  return asText(yield new Scoped(message.text, context, where));
}

/** A provider's connection settings; templates there read inputs, env and secrets only. */
function* renderConnection(
  provider: Provider,
): Generator<
  unknown,
  { baseUrl: string | null; apiKey: string | undefined; headers: Record<string, string> },
  unknown
> {
  if (provider.type === "scripted") return { baseUrl: null, apiKey: undefined, headers: {} };
  const headers: Record<string, string> = {};
  if (provider.type === "openai" || provider.type === "azure_openai") {
    for (const [k, v] of Object.entries(provider.headers ?? {})) headers[k] = asText(yield v);
  }
  const baseUrl = provider.type === "azure_openai" ? provider.endpoint : provider.base_url;
  return {
    baseUrl: baseUrl !== undefined ? asText(yield baseUrl) : null,
    apiKey: provider.api_key !== undefined ? asText(yield provider.api_key) : undefined,
    headers,
  };
}

function* prepareShell(step: Extract<Step, { type: "shell" }>, env: StepEnv): Preparation {
  const argv: string[] = [];
  for (const arg of step.command) argv.push(asText(yield arg));
  const cwd = resolve(env.dir, step.cwd !== undefined ? asText(yield step.cwd) : ".");
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(step.env ?? {})) vars[k] = asText(yield v);
  const command = { argv, cwd, env: vars };
  const accepted = step.expect?.exit_code ?? [0];
  return {
    input: command,
    effectful: true,
    execute: async (effects, signal, at) => {
      const result = await effects.shell(command, signal, at);
      if (!accepted.includes(result.exitCode)) {
        const tail = result.stderr.trim().split("\n").slice(-3).join(" | ");
        throw new StepError(
          "exit_code",
          `\`${argv.join(" ")}\` exited with ${result.exitCode}${tail ? `: ${tail}` : ""}`,
        );
      }
      let stdout: unknown = result.stdout;
      if (step.output?.format === "json") {
        try {
          stdout = JSON.parse(result.stdout);
        } catch {
          throw new StepError(
            "invalid_output",
            `stdout is not JSON: ${result.stdout.slice(0, 200)}`,
          );
        }
      }
      return { value: { exit_code: result.exitCode, stdout, stderr: result.stderr } };
    },
  };
}

function* prepareHttp(step: Extract<Step, { type: "http" }>): Preparation {
  const method = step.method ?? "GET";
  const url = new URL(asText(yield step.url));
  for (const [k, v] of Object.entries((yield step.query ?? {}) as Record<string, unknown>)) {
    url.searchParams.append(k, asText(v));
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(step.headers ?? {})) headers[k] = asText(yield v);
  let body: string | null = null;
  if (step.body !== undefined) {
    const rendered: unknown = yield step.body;
    if (typeof rendered === "string") body = rendered;
    else {
      body = JSON.stringify(rendered);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
        headers["content-type"] = "application/json";
    }
  }
  const request = { method, url: url.toString(), headers, body };
  return {
    input: request,
    effectful: true,
    execute: async (effects, signal) => {
      const response = await effects.http(request, signal);
      const accepted = step.expect?.status;
      const ok = accepted
        ? accepted.includes(response.status)
        : response.status >= 200 && response.status < 300;
      if (!ok) {
        const kind =
          response.status === 429
            ? "rate_limit"
            : response.status >= 500
              ? "server_error"
              : "http_status";
        const retryAfter = retryAfterMs(response.headers["retry-after"]);
        throw new StepError(
          kind,
          `${method} ${request.url} answered ${response.status}`,
          retryAfter,
        );
      }
      const type = response.headers["content-type"] ?? "";
      let parsed: unknown = response.body;
      if (/\bjson\b/i.test(type)) {
        try {
          parsed = JSON.parse(response.body);
        } catch {
          throw new StepError(
            "invalid_output",
            `${method} ${request.url} sent a body that is not JSON`,
          );
        }
      }
      return { value: { status: response.status, headers: response.headers, body: parsed } };
    },
  };
}

function* prepareTool(step: Extract<Step, { type: "tool" }>, env: StepEnv): Preparation {
  const [path, exportName] = step.uses.split("#") as [string, string];
  const call = {
    module: resolve(env.dir, path),
    exportName,
    args: toJson(yield step.with ?? {}),
    dir: env.dir,
  };
  // The module's hash is part of what the attempt ran on: replay reports a changed module.
  const input = { uses: step.uses, args: call.args, source: toolModuleHash(step.uses, env.dir) };
  if (isPythonTool(step.uses)) {
    const settings = env.workflow.defaults?.python;
    return {
      input,
      effectful: true,
      // The interpreter is chosen when the call runs: a replay, answered from the record, needs none.
      execute: async (effects, signal, at) => {
        const step = at?.stepId ?? path;
        const interpreter = chooseInterpreter(settings, env.dir, step).path;
        if (!effects.python)
          throw new StepError("config", `step '${step}': Python tools cannot run here`);
        const result = await effects.python({ ...call, interpreter }, signal, at);
        return {
          value: toJson(result.value),
          meta: { python: result.version, lockfile: lockfileHash(settings, env.dir) },
        };
      },
    };
  }
  return {
    input,
    effectful: true,
    execute: async (effects, signal, at) => ({
      value: toJson(await effects.tool(call, signal, at)),
    }),
  };
}

/**
 * Whether a replay computes the step again instead of answering it from the record: `transform`
 * and `assert`, a `tool` declared `pure: true` (docs/replay.md), and a `workflow` step, whose
 * child run is replayed from its own record.
 */
export function replayRecomputes(step: Step): boolean {
  return (
    step.type === "transform" ||
    step.type === "assert" ||
    // A Python tool is answered from the record even when pure: a replay needs no Python.
    (step.type === "tool" && !!step.pure && !isPythonTool(step.uses)) ||
    // A child run is replayed from its own record, step by step (core/replay/replay.ts).
    step.type === "workflow"
  );
}

/** Retry-After in milliseconds, from seconds or an HTTP date. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
