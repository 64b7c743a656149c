// The workflow file format (docs/format.md) as one zod schema. The descriptions are the hover docs
// and go into the generated JSON Schema (schema/keel.schema.json, npm run schema).
import { z } from "zod";

export const STEP_TYPES = [
  "llm",
  "http",
  "tool",
  "shell",
  "transform",
  "assert",
  "workflow",
  "embed",
  "agent",
] as const;
export const PROVIDER_TYPES = ["openai", "azure_openai", "anthropic", "scripted"] as const;
/** The error kinds `retry.on` may name; a tool's error is `tool_error` unless it gives a kind. */
export const ERROR_KINDS = [
  "timeout",
  "rate_limit",
  "server_error",
  "invalid_output",
  "tool_error",
] as const;
/** What a map does with an item that fails (`on_item_error`). */
export const ON_ITEM_ERROR = ["fail", "continue", "drop"] as const;
/** `max_failures` as a share of the items: `5%`, `12.5%`. */
export const PERCENT_PATTERN = /^(0|[1-9][0-9]*)(\.[0-9]+)?%$/;
/** Step and input ids: usable as plain JSONata names (`steps.fetch_docs`). */
export const ID_PATTERN = /^[a-z][a-z0-9_]*$/;
/** Provider ids are never written inside expressions, so they may also contain `-`. */
export const PROVIDER_ID_PATTERN = /^[a-z][a-z0-9_-]*$/;
export const DURATION_PATTERN = /^(0|[1-9][0-9]*)(\.[0-9]+)?(ms|s|m|h)$/;

/** Keys of a step whose value is a bare JSONata expression (no `${{ }}` needed). */
export const BARE_STEP_KEYS: ReadonlySet<string> = new Set([
  "expr",
  "if",
  "that",
  "for_each",
  "key",
  "messages",
]);

/**
 * Whether the value at `path` (from the document's root) is a bare JSONata expression: a step's
 * `expr`, `if`, `that` (or an item of it), `for_each`, `key`, `snapshot.version` and
 * `repeat.until`, and each of `outputs`. Everything else that holds expressions is a template.
 */
export function isBareExpressionPath(path: readonly PropertyKey[]): boolean {
  if (path[0] === "outputs") return path.length === 2;
  if (path[0] !== "steps" || path.length < 3) return false;
  const [, , key, sub, ...more] = path;
  if (typeof key !== "string") return false;
  if (path.length === 3) return BARE_STEP_KEYS.has(key);
  if (more.length > 0) return false;
  if (key === "that") return typeof sub === "number";
  return (key === "snapshot" && sub === "version") || (key === "repeat" && sub === "until");
}

const duration = (what: string) =>
  z
    .string()
    .regex(DURATION_PATTERN)
    .describe(`${what}: a number and a unit, \`500ms\`, \`30s\`, \`2m\` or \`1h\`.`);

const template = (what: string) =>
  z.string().describe(`${what}. May contain \`\${{ expression }}\` templates.`);

const bareExpression = (what: string) =>
  z
    .union([z.string(), z.number(), z.boolean()])
    .describe(`${what}: a JSONata expression, written bare (no \`\${{ }}\` needed).`);

const jsonSchema = (what: string) =>
  z.record(z.string(), z.unknown()).describe(`${what} (JSON Schema).`);

const StepId = z.string().regex(ID_PATTERN);
const ProviderId = z.string().regex(PROVIDER_ID_PATTERN);

export const Retry = z
  .strictObject({
    max_attempts: z
      .int()
      .min(1)
      .describe("Attempts in all, the first one included. Without `retry` a step runs once."),
    backoff: z
      .enum(["fixed", "exponential"])
      .describe("How the delay between attempts grows: `fixed` or `exponential` (doubles)."),
    initial: duration("The delay before the second attempt"),
    max_delay: duration("The longest delay between two attempts"),
    jitter: z
      .boolean()
      .describe("Randomise each delay (full jitter) so clients do not retry in step."),
    on: z
      .array(z.enum(ERROR_KINDS))
      .describe(
        "Error kinds that are retried. Default: `[timeout, rate_limit, server_error]`. A Retry-After from the provider is honoured.",
      ),
  })
  .partial()
  .describe("Retry policy: attempts, backoff, and which error kinds are retried.");

export const Cache = z
  .union([z.boolean(), z.strictObject({ ttl: duration("How long a cached result stays valid") })])
  .describe(
    "Reuse a previous result with the same inputs (and the same secrets, told apart by a fingerprint). Default `true` for `llm` and `embed` steps (`defaults.cache` changes that); `http`, `shell`, `tool` and `transform` steps are cached only when they say `cache: true` or `{ ttl }`.",
  );

const providerCommon = {
  description: z.string().describe("What this provider is for.").optional(),
  timeout: duration("Time limit of one call to this provider").optional(),
  retry: Retry.optional(),
  concurrency: z
    .int()
    .min(1)
    .describe("At most this many calls to this provider at once.")
    .optional(),
  fallback: ProviderId.describe(
    "Provider used when this one still fails after its retries.",
  ).optional(),
};

export const Provider = z
  .discriminatedUnion("type", [
    z
      .strictObject({
        type: z.literal("openai").describe("Any OpenAI-compatible Chat Completions API."),
        model: z.string().describe("Model name sent to the API.").optional(),
        base_url: template("API base URL (OpenAI, Azure, Ollama, vLLM, LM Studio, ...)").optional(),
        api_key: template("API key: must be `${{ secrets.NAME }}`").optional(),
        headers: z.record(z.string(), z.string()).describe("Extra HTTP headers.").optional(),
        ...providerCommon,
      })
      .describe("An OpenAI-compatible provider."),
    z
      .strictObject({
        type: z
          .literal("azure_openai")
          .describe(
            "Azure OpenAI: a resource's deployments, through the openai SDK's Azure client.",
          ),
        endpoint: template("The resource's endpoint: `https://<resource>.openai.azure.com`"),
        deployment: z
          .string()
          .describe("The deployment called (a step's `model` names another one)."),
        api_version: z
          .string()
          .describe("The API version sent as `api-version`, e.g. `2024-10-21`."),
        api_key: template("API key: must be `${{ secrets.NAME }}`").optional(),
        headers: z.record(z.string(), z.string()).describe("Extra HTTP headers.").optional(),
        ...providerCommon,
      })
      .describe("An Azure OpenAI provider."),
    z
      .strictObject({
        type: z.literal("anthropic").describe("The Anthropic Messages API."),
        model: z.string().describe("Model name sent to the API.").optional(),
        base_url: template("API base URL; default Anthropic's").optional(),
        api_key: template("API key: must be `${{ secrets.NAME }}`").optional(),
        ...providerCommon,
      })
      .describe("An Anthropic provider."),
    z
      .strictObject({
        type: z.literal("scripted").describe("Deterministic offline answers, built in."),
        model: z.string().describe("Model name recorded for this provider's replies.").optional(),
        responses: z
          .array(
            z
              .strictObject({
                match: z
                  .string()
                  .describe(
                    "Text found in the rendered prompt (system + messages, tool results included), or a regular expression written `/…/flags`; optional with `turn`.",
                  )
                  .optional(),
                turn: z
                  .number()
                  .int()
                  .min(1)
                  .describe(
                    "Only the Nth model call of an agent's conversation (its messages hold N-1 assistant messages); with `match`, both must fit.",
                  )
                  .optional(),
                reply: z.unknown().describe("Reply text, or an object for JSON output.").optional(),
                tool_calls: z
                  .array(
                    z.strictObject({
                      name: z
                        .string()
                        .describe("The tool called (any name: an unknown one tests the agent)."),
                      arguments: z
                        .union([z.string(), z.record(z.string(), z.unknown())])
                        .describe(
                          "The arguments: an object, sent as its JSON text, or a text sent as is (malformed JSON to test the agent); default `{}`.",
                        )
                        .optional(),
                      id: z
                        .string()
                        .describe("The call's id; default `call_<turn>_<index>`.")
                        .optional(),
                    }),
                  )
                  .describe(
                    "Tool calls the model asks for (an agent's turn), after the `chunks` if any; `reply` is then optional. Not sent when the call offers no tools or the agent's last turn must answer.",
                  )
                  .optional(),
                error: z
                  .enum(["rate_limit", "timeout", "server_error"])
                  .describe("Answer with this error instead of a reply.")
                  .optional(),
                delay: duration("Wait this long before answering").optional(),
                chunks: z
                  .array(
                    z.union([
                      z.string(),
                      z.strictObject({
                        text: z.string().describe("The piece of the reply."),
                        delay: duration("Wait this long before sending it").optional(),
                      }),
                    ]),
                  )
                  .describe(
                    "The reply in pieces, as a stream sends it (a `stream: true` step reports each); instead of `reply`. With `error`, the pieces arrive and then the error: a stream cut in the middle.",
                  )
                  .optional(),
              })
              .refine((r) => r.match !== undefined || r.turn !== undefined, {
                message: "a response needs `match`, `turn` or both",
              }),
          )
          .describe("Answers tried in order; the first whose `match` fits wins.")
          .optional(),
        file: z
          .string()
          .describe("A YAML file of `responses`, relative to the workflow.")
          .optional(),
        default: z.unknown().describe("Reply when no response matches.").optional(),
        ...providerCommon,
      })
      .describe("Built-in scripted provider: runs offline, the same answer every time."),
  ])
  .describe("A model provider.");

const stepCommon = {
  description: z.string().describe("What this step does.").optional(),
  needs: z
    .union([StepId, z.array(StepId)])
    .describe(
      "Steps that must finish first, besides those the step's expressions reference (`steps.<id>`).",
    )
    .optional(),
  if: z
    .union([z.string(), z.boolean()])
    .describe(
      "Run the step only when this expression is true; otherwise it is `skipped`, and so are its dependents. Default `$success()`; `$always()`, `$failure()`, `$cancelled()` let a step run after a failure.",
    )
    .optional(),
  timeout: duration(
    "Time limit of one attempt (when neither the step, its provider nor `defaults` sets one: `llm` 10m, `http` 2m, `tool` 10m, `shell` 1h)",
  ).optional(),
  retry: Retry.optional(),
  cache: Cache.optional(),
  on_error: z
    .enum(["fail", "continue"])
    .describe(
      "`fail` (default): the run fails. `continue`: the step is failed with output null, and its dependents still run.",
    )
    .optional(),
  output: z
    .strictObject({
      format: z
        .enum(["text", "json"])
        .describe("`json` parses the reply (or stdout) as JSON.")
        .optional(),
      schema: jsonSchema(
        "The output must conform, or the attempt fails with `invalid_output`. For `http` and `shell` it describes the parsed `body` / `stdout`",
      ).optional(),
    })
    .describe("The output's format and schema.")
    .optional(),
  for_each: z
    .string()
    .describe(
      "Run the step once per item of this list: a JSONata expression, written bare, whose value is an array. In the step's other expressions but `if` (evaluated once, for the step) `item` is the item and `index` its position (from 0). `steps.<id>.output` is then the list of the items' outputs, in list order; `steps.<id>.items` is `[{ key, index, status, output }]`.",
    )
    .optional(),
  key: z
    .string()
    .describe(
      "With `for_each`: what identifies an item across runs (a bare expression over `item` and `index`, e.g. `item.id`); keys must be unique. Default: the index. Replay, rerun, diff and the cache follow items by key.",
    )
    .optional(),
  concurrency: z
    .int()
    .min(1)
    .describe("With `for_each`: at most this many items at once (default 4).")
    .optional(),
  max_items: z
    .int()
    .min(1)
    .describe("With `for_each`: a longer list fails the step before any item runs.")
    .optional(),
  on_item_error: z
    .enum(ON_ITEM_ERROR)
    .describe(
      "With `for_each`, what a failed item does: `fail` (default: no new item starts, the step fails once the running ones end), `continue` (its output is `null`), `drop` (it is left out of the output).",
    )
    .optional(),
  max_failures: z
    .union([z.int().min(0), z.string().regex(PERCENT_PATTERN)])
    .describe(
      'With `on_item_error: continue` or `drop`: the step fails when more items than this fail, a count or a share (`"5%"`). Default: no limit.',
    )
    .optional(),
  snapshot: z
    .strictObject({
      source: z.string().describe("Name of the outside source this step read."),
      version: bareExpression(
        "Which version of the source was read; `output` is this step's own output",
      ),
    })
    .describe(
      "Records which version of an outside source the step read; differing versions in one run are a `stale_context` finding.",
    )
    .optional(),
};

const LlmStep = z
  .strictObject({
    type: z.literal("llm").describe("A model call."),
    provider: ProviderId.describe(
      "Provider id; default `defaults.provider`, then the only provider declared.",
    ).optional(),
    model: template("Model name; overrides the provider's").optional(),
    system: template("System prompt").optional(),
    prompt: template("The user prompt").optional(),
    messages: z
      .union([
        z.array(
          z.strictObject({
            role: z.enum(["system", "user", "assistant", "tool"]).describe("Who speaks."),
            content: template("The message text"),
            tool_call_id: template(
              "A `tool` message: the id of the tool call it answers",
            ).optional(),
          }),
        ),
        z
          .string()
          .describe(
            "A chat history built at run time: a JSONata expression, written bare, whose value is a list of `{ role, content }` (`tool_calls` on an assistant message, `tool_call_id` on a tool message).",
          ),
      ])
      .describe("A conversation, instead of `prompt`: a list of messages, or a bare expression.")
      .optional(),
    prompt_file: z
      .string()
      .regex(/^\.\.?\//)
      .describe(
        "A prompt file (`./prompts/x.md` or a GitHub Models `.prompt.yml`), relative to this file, instead of `prompt` and `messages`: its front matter declares `inputs` and `params`, `## system`, `## user`, `## assistant` headings make messages. Its inputs are given by `with:`.",
      )
      .optional(),
    system_file: z
      .string()
      .regex(/^\.\.?\//)
      .describe(
        "A prompt file whose text is the system prompt, instead of `system`; its inputs are given by `with:`.",
      )
      .optional(),
    with: z
      .record(z.string(), z.unknown())
      .describe(
        "The inputs of `prompt_file` / `system_file`, by name; templates here see the workflow.",
      )
      .optional(),
    params: z
      .strictObject({
        temperature: z.union([z.number(), z.string()]).describe("Sampling temperature.").optional(),
        max_tokens: z.union([z.int(), z.string()]).describe("Longest reply, in tokens.").optional(),
        top_p: z.union([z.number(), z.string()]).describe("Nucleus sampling.").optional(),
        seed: z.union([z.int(), z.string()]).describe("Sampling seed, where supported.").optional(),
        stop: z
          .union([z.string(), z.array(z.string())])
          .describe("Stop sequences.")
          .optional(),
      })
      .describe("Model parameters.")
      .optional(),
    stream: z
      .boolean()
      .describe(
        "Stream the reply: `keel run --stream` prints its tokens as they arrive and the record keeps time to first token and chunk count; the output is the assembled reply either way.",
      )
      .optional(),
    ...stepCommon,
  })
  .describe(
    "Calls a model. Output: the reply text, or the parsed JSON with `output.format: json`.",
  );

const HttpStep = z
  .strictObject({
    type: z.literal("http").describe("An HTTP request."),
    method: z
      .enum(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
      .describe("HTTP method; default GET.")
      .optional(),
    url: template("Request URL"),
    headers: z.record(z.string(), z.string()).describe("Request headers.").optional(),
    query: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .describe("Query parameters.")
      .optional(),
    body: z.unknown().describe("Request body; an object is sent as JSON.").optional(),
    expect: z
      .strictObject({
        status: z.array(z.int()).describe("Accepted status codes; default 200–299."),
      })
      .describe("What counts as success.")
      .optional(),
    ...stepCommon,
  })
  .describe("Sends an HTTP request. Output: `{ status, headers, body }` (body parsed when JSON).");

const ToolStep = z
  .strictObject({
    type: z.literal("tool").describe("A local JavaScript or Python function."),
    uses: z
      .string()
      .describe(
        "`./relative/module.js#exportName`, or `./relative/module.py#function` for a Python function, relative to the workflow file.",
      ),
    with: z
      .record(z.string(), z.unknown())
      .describe("Arguments passed to the export (to a Python function: as keyword arguments).")
      .optional(),
    pure: z
      .boolean()
      .describe(
        "`true` when the function only computes its result from its arguments (no files, network or clock): a replay and `keel test` run it again like a `transform` instead of answering it from the record, and a rerun does not list it among the steps that touch the world. Default `false`.",
      )
      .optional(),
    ...stepCommon,
  })
  .describe(
    "Calls an exported function of a local module, isolated from the editor. Output: its JSON value.",
  );

const ShellStep = z
  .strictObject({
    type: z.literal("shell").describe("A command."),
    command: z
      .array(z.string())
      .min(1)
      .describe("argv list; never a shell string. A templated value is always one argument."),
    cwd: template("Working folder, relative to the workflow file's folder").optional(),
    env: z
      .record(z.string(), z.string())
      .describe("Environment variables, on top of the inherited ones.")
      .optional(),
    expect: z
      .strictObject({
        exit_code: z.array(z.int()).describe("Accepted exit codes; default [0]."),
      })
      .describe("What counts as success.")
      .optional(),
    ...stepCommon,
  })
  .describe(
    "Runs a command. Output: `{ exit_code, stdout, stderr }` (stdout parsed with `output.format: json`).",
  );

const TransformStep = z
  .strictObject({
    type: z.literal("transform").describe("A pure computation."),
    expr: bareExpression("The output"),
    ...stepCommon,
  })
  .describe("Computes its output from a JSONata expression.");

const AssertStep = z
  .strictObject({
    type: z.literal("assert").describe("A check."),
    that: z
      .union([z.string(), z.boolean(), z.array(z.union([z.string(), z.boolean()]))])
      .describe("An expression, or a list of them; all must be true. Bare JSONata."),
    message: template("Shown when an assertion is false").optional(),
    ...stepCommon,
  })
  .describe("Fails the step when an assertion is false.");

const EmbedStep = z
  .strictObject({
    type: z.literal("embed").describe("Embeddings of texts (an OpenAI-compatible embeddings API)."),
    provider: ProviderId.describe(
      "Provider id (`openai`, `azure_openai` or `scripted`); default `defaults.provider`, then the only provider declared.",
    ).optional(),
    model: template("Embedding model (an Azure deployment); overrides the provider's").optional(),
    input: template(
      "The text to embed, or a list of texts (one template whose value is a list): the output is one vector, or a list of them in order",
    ),
    dimensions: z
      .int()
      .min(1)
      .describe("Length of each vector, for models that can shorten theirs.")
      .optional(),
    ...stepCommon,
  })
  .describe(
    "Embeds texts with a provider's embeddings API, recorded, cached and replayed like a model call. Output: a vector (a list of numbers), or a list of vectors.",
  );

/** Tool names as the model sees them: what the providers accept, and a scope segment (`#3/search.0`). */
export const TOOL_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$/;

const AgentTool = z
  .strictObject({
    description: z.string().describe("What the tool does, as the model reads it.").optional(),
    parameters: jsonSchema(
      "The tool's arguments as the model must send them; optional for a Python tool (from its type hints and docstring) and a workflow tool (from the child's inputs)",
    ).optional(),
    uses: z
      .string()
      .describe(
        "`./module.js#export` or `./module.py#function`, relative to the workflow file: the tool runs like a `tool` step.",
      )
      .optional(),
    http: z
      .strictObject({
        method: HttpStep.shape.method,
        url: template("Request URL; `args.<p>` are the model's arguments"),
        headers: HttpStep.shape.headers,
        query: HttpStep.shape.query,
        body: z
          .unknown()
          .describe(
            "Request body; an object is sent as JSON. Default for POST, PUT and PATCH: the model's arguments.",
          )
          .optional(),
      })
      .describe("An HTTP request: the tool runs like an `http` step; the model is given the body.")
      .optional(),
    workflow: z
      .string()
      .regex(/^\.\.?\//)
      .describe("A child workflow file run as the tool: its inputs are the model's arguments.")
      .optional(),
    with: z
      .record(z.string(), z.unknown())
      .describe(
        "What the tool is called with; templates see `args` (the model's arguments) and the workflow. Default: the arguments as they are.",
      )
      .optional(),
    timeout: stepCommon.timeout,
    retry: stepCommon.retry,
    cache: Cache.optional(),
  })
  .describe("A tool the agent may call: one of `uses`, `http` or `workflow`.");

const { type: _llmType, ...llmFields } = LlmStep.shape;

const AgentStep = z
  .strictObject({
    type: z.literal("agent").describe("A model that calls tools until it answers."),
    ...llmFields,
    tools: z
      .record(z.string().regex(TOOL_NAME_PATTERN), AgentTool)
      .describe("The tools the model may call, by name."),
    max_turns: z
      .int()
      .min(1)
      .describe(
        "Model calls at the most (required): an agent still calling tools after them fails with `max_turns` (see `on_max_turns`).",
      ),
    budget: z
      .strictObject({
        tokens: z.int().min(1).describe("Input and output tokens of all model calls.").optional(),
        usd: z.number().positive().describe("Cost of all model calls, in US dollars.").optional(),
      })
      .describe("Stop with `budget` once the model calls spent more than this.")
      .optional(),
    on_max_turns: z
      .enum(["fail", "answer"])
      .describe(
        "After `max_turns` with tools still called: `fail` (default) or `answer` (one last model call without tools).",
      )
      .optional(),
    tool_errors: z
      .enum(["return", "fail"])
      .describe(
        "A tool call that fails: `return` (default: the model is told the error) or `fail` (the agent fails).",
      )
      .optional(),
    parallel_tool_calls: z
      .boolean()
      .describe(
        "`true`: the calls of one turn run at once (and the provider is told it may ask for several); `false`: one by one. Default: one by one, and the provider's own default.",
      )
      .optional(),
  })
  .describe(
    "Runs a model in a loop with tools: each model call and tool call is recorded at its own scope (`research#3`, `research#3/search.0`). Output: the final answer (parsed with `output.format: json`); `steps.<id>.turns` and `steps.<id>.stop_reason`.",
  );

const WorkflowStep = z
  .strictObject({
    type: z.literal("workflow").describe("Another workflow file, run as a child run."),
    uses: z
      .string()
      .describe(
        "The child workflow: a `.keel.yaml` (or `.keel.yml`) file, by a path relative to this file that starts with `./` or `../` (`./child.keel.yaml`).",
      ),
    with: z
      .record(z.string(), z.unknown())
      .describe(
        "The child's inputs by name; values may contain `${{ }}` templates. Every input of the child without a `default` must be given.",
      )
      .optional(),
    repeat: z
      .strictObject({
        max: z.int().min(1).describe("Iterations at the most (required)."),
        until: bareExpression(
          "Stop once this is true; it sees the iteration's `output` and its number `iteration` (from 1)",
        ).optional(),
        with: z
          .record(z.string(), z.unknown())
          .describe(
            "The next iteration's inputs, replacing the step's `with` from the second iteration on; `previous.output` is the iteration before.",
          )
          .optional(),
        on_max: z
          .enum(["fail", "last"])
          .describe(
            "When `until` is still false after `max` iterations: `fail` (default) or `last` (succeed with the last iteration's output).",
          )
          .optional(),
      })
      .describe(
        "Run the child again until `until` holds (a draft–grade–redraft loop). `steps.<id>.output` is the last iteration's outputs, `steps.<id>.iterations` all of them.",
      )
      .optional(),
    ...stepCommon,
  })
  .describe(
    "Runs another workflow file as a child run of its own, recorded and replayed with this one. Output: the child's `outputs`.",
  );

export const Step = z
  .discriminatedUnion("type", [
    LlmStep,
    HttpStep,
    ToolStep,
    ShellStep,
    TransformStep,
    AssertStep,
    WorkflowStep,
    EmbedStep,
    AgentStep,
  ])
  .describe("A step of the workflow.");

/**
 * `defaults.<type>`: what every step of that type gets when it does not say (docs/format.md,
 * "Defaults"); the step's own keys, then its provider's, win.
 */
function typeDefaults<E extends z.ZodRawShape>(type: string, extra: E = {} as E) {
  return z
    .strictObject({
      timeout: duration(`Time limit of one attempt of every \`${type}\` step`).optional(),
      retry: Retry.optional(),
      cache: Cache.optional(),
      on_error: stepCommon.on_error,
      ...extra,
    })
    .describe(`Defaults for every \`${type}\` step; a step's own keys win.`)
    .optional();
}

export const Input = z
  .strictObject({
    type: z
      .enum(["string", "number", "boolean", "object", "array"])
      .describe("The input's type; `--input k=v` is coerced to it."),
    default: z
      .unknown()
      .describe("Value when none is given; an input without one is required.")
      .optional(),
    description: z.string().describe("What the input is.").optional(),
    schema: jsonSchema("Further constraints on the value").optional(),
  })
  .describe("A workflow input, read as `inputs.<name>`.");

export const Workflow = z
  .strictObject({
    keel: z.literal(1).describe("Format version: `1`."),
    name: z.string().min(1).describe("The workflow's name."),
    description: z.string().describe("What the workflow does.").optional(),
    inputs: z.record(StepId, Input).describe("Inputs by name.").optional(),
    providers: z.record(ProviderId, Provider).describe("Model providers by id.").optional(),
    defaults: z
      .strictObject({
        provider: ProviderId.describe("Provider of `llm` steps that name none.").optional(),
        timeout: duration("Time limit of one attempt of every step").optional(),
        retry: Retry.optional(),
        cache: Cache.optional(),
        llm: typeDefaults("llm", {
          params: LlmStep.shape.params,
          stream: LlmStep.shape.stream,
        }),
        http: typeDefaults("http"),
        tool: typeDefaults("tool"),
        shell: typeDefaults("shell"),
        transform: typeDefaults("transform"),
        assert: typeDefaults("assert"),
        workflow: typeDefaults("workflow"),
        embed: typeDefaults("embed"),
        agent: typeDefaults("agent"),
        python: z
          .strictObject({
            interpreter: z
              .string()
              .min(1)
              .describe(
                "The Python that runs `.py` tools: a path relative to the workflow's folder, or a command on PATH. Default: the KEEL_PYTHON variable, else `.venv/bin/python` beside the workflow (or above it, up to the workspace), else `python3`. Keel installs nothing.",
              )
              .optional(),
            lockfile: z
              .string()
              .min(1)
              .describe(
                "The file that pins the tools' packages (`uv.lock`, `requirements.txt`, relative to the workflow's folder): its hash is recorded with each Python tool call and is part of its cache key.",
              )
              .optional(),
          })
          .describe('How Python tools run (docs/format.md, "Python tools").')
          .optional(),
      })
      .describe("Defaults for every step.")
      .optional(),
    steps: z
      .record(StepId, Step)
      .describe("Steps by id. File order does not matter: dependencies decide the order."),
    outputs: z
      .record(z.string(), bareExpression("A result of the run"))
      .describe("The run's result: name → expression.")
      .optional(),
    consistency: z
      .enum(["warn", "strict"])
      .describe(
        "What a `stale_context` finding does: `warn` (default) or `strict` (the run fails).",
      )
      .optional(),
  })
  .describe("A Keel workflow (*.keel.yaml).");

export type Workflow = z.infer<typeof Workflow>;
export type Step = z.infer<typeof Step>;
export type StepType = (typeof STEP_TYPES)[number];
export type Provider = z.infer<typeof Provider>;
