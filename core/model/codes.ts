// The one table of diagnostic codes. Codes are stable and never reused; docs/diagnostics.md is
// generated from this table (npm run docs), and a test fails when the two disagree.

/** Severity names as the CLI's --json output and LSP clients understand them. */
export type Severity = "error" | "warning" | "information" | "hint";

export interface CodeInfo {
  /** Default severity; `.keel/settings.json` and editor settings can change it per code. */
  readonly severity: Severity;
  /** Short kebab-case name, for settings files and docs. */
  readonly name: string;
  /** One sentence for the docs table: what the code means and how to fix it. */
  readonly summary: string;
}

export const CODES = {
  KEEL001: {
    severity: "error",
    name: "yaml-syntax",
    summary:
      "The file is not valid YAML. Each error is reported once, at the value that caused it (an unquoted `: `, a leading `{` or `[`, an unclosed quote), with the fix; the rest of the file is read around that value, so only what is really wrong or missing there is reported too.",
  },
  KEEL002: {
    severity: "error",
    name: "not-utf8",
    summary: "The file contains bytes that are not UTF-8; save it as UTF-8.",
  },
  KEEL003: {
    severity: "error",
    name: "multiple-documents",
    summary: "A workflow file holds exactly one YAML document; remove the `---` separator.",
  },
  KEEL004: {
    severity: "error",
    name: "alias",
    summary:
      "An alias names an anchor that does not exist, refers to itself, or expands to more nodes than the limit (a 'billion laughs' file).",
  },
  KEEL005: {
    severity: "error",
    name: "duplicate-key",
    summary: "A key appears twice in the same mapping; YAML keeps only one of them.",
  },
  KEEL006: {
    severity: "error",
    name: "unsupported-yaml",
    summary:
      "A YAML feature Keel does not accept: custom tags, merge keys (`<<`), or a key that is not plain text.",
  },
  KEEL007: {
    severity: "error",
    name: "empty-file",
    summary: "The file is empty; a workflow needs at least `keel`, `name` and `steps`.",
  },
  KEEL101: {
    severity: "error",
    name: "unknown-key",
    summary:
      "A key the format does not define at this place; the message suggests the closest one.",
  },
  KEEL102: {
    severity: "error",
    name: "wrong-type",
    summary: "A value of the wrong type (a string where a list is expected, ...).",
  },
  KEEL103: {
    severity: "error",
    name: "missing-field",
    summary: "A required field is missing.",
  },
  KEEL104: {
    severity: "error",
    name: "invalid-value",
    summary: "A value outside the allowed set (an enum, a literal, a number range).",
  },
  KEEL105: {
    severity: "error",
    name: "unknown-step-type",
    summary:
      "A step `type` that is not one of llm, http, tool, shell, transform, assert, workflow, embed, agent.",
  },
  KEEL106: {
    severity: "error",
    name: "invalid-id",
    summary:
      "A step id or input name that does not match `^[a-z][a-z0-9_]*$`, or a provider id that does not match `^[a-z][a-z0-9_-]*$`.",
  },
  KEEL107: {
    severity: "error",
    name: "bad-duration",
    summary:
      "A duration that is not a number followed by ms, s, m or h (`500ms`, `30s`, `2m`, `1h`).",
  },
  KEEL108: {
    severity: "error",
    name: "llm-prompt",
    summary:
      "An `llm` or `agent` step needs at most one of `prompt`, `messages` and `prompt_file`, and one of them or a system prompt (`system:` alone is a prompt), at most one of `system` and `system_file`, and `with:` only beside a prompt file.",
  },
  KEEL109: {
    severity: "error",
    name: "no-provider",
    summary:
      "An `llm`, `embed` or `agent` step has no provider: set `provider`, `defaults.provider`, or declare exactly one provider.",
  },
  KEEL110: {
    severity: "error",
    name: "input-default-type",
    summary:
      "An input's `default` does not have the input's declared `type` (a run would refuse it).",
  },
  KEEL111: {
    severity: "error",
    name: "input-default-schema",
    summary:
      "An input's `default` breaks the input's own `schema` (enum, pattern, range…), or the schema is not valid JSON Schema.",
  },
  KEEL112: {
    severity: "error",
    name: "provider-cannot-embed",
    summary:
      "An `embed` step's provider has no embeddings API (`anthropic`): use an `openai`, `azure_openai` or `scripted` provider.",
  },
  KEEL113: {
    severity: "error",
    name: "provider-cannot-call-tools",
    summary:
      "An `agent` step's provider has no tool calling. Every provider type calls tools today (openai, azure_openai, anthropic, scripted), so this is reported only if a type without it is added.",
  },
  KEEL201: {
    severity: "error",
    name: "unknown-step",
    summary:
      "A reference (in `needs` or `steps.<id>` in an expression) to a step that does not exist.",
  },
  KEEL202: {
    severity: "error",
    name: "unknown-input",
    summary: "`inputs.<name>` names an input the workflow does not declare.",
  },
  KEEL203: {
    severity: "error",
    name: "unknown-provider",
    summary: "A `provider`, `defaults.provider` or `fallback` that names no declared provider.",
  },
  KEEL204: {
    severity: "error",
    name: "cycle",
    summary:
      "Steps depend on each other in a cycle; the message names the whole cycle on each step.",
  },
  KEEL205: {
    severity: "error",
    name: "provider-fallback-cycle",
    summary: "Providers fall back to each other in a cycle.",
  },
  KEEL206: {
    severity: "error",
    name: "unknown-output-field",
    summary:
      "An expression reads a field that the upstream step's `output.schema` does not have and forbids (`additionalProperties: false`).",
  },
  KEEL207: {
    severity: "warning",
    name: "undeclared-output-field",
    summary:
      "An expression reads a field that the upstream step's `output.schema` does not declare (the schema allows other fields, so this may be intended).",
  },
  KEEL208: {
    severity: "error",
    name: "unknown-name",
    summary:
      "An expression starts with a name that is not in its context (`inputs`, `steps`, `run`, `env`, `secrets`, and where they exist `item`, `index`, `output`, `iteration`, `previous`, `args`).",
  },
  KEEL209: {
    severity: "error",
    name: "unknown-property",
    summary:
      "`steps.<id>.` or `run.` followed by something other than its fields (`output`, `status`, `items` on a step with `for_each`, `iterations` on a step with `repeat`, `turns` and `stop_reason` on an agent step; `id`, `started_at`), a field a step type's output does not have, or one an agent's turn or tool call does not have.",
  },
  KEEL210: {
    severity: "error",
    name: "provider-step-reference",
    summary:
      "A provider's settings, or `defaults.llm.params`, reference a step's output; they apply before (or to every) step, so they may use inputs, env and secrets only.",
  },
  KEEL211: {
    severity: "warning",
    name: "redundant-need",
    summary: "A step is listed twice in `needs`.",
  },
  KEEL212: {
    severity: "error",
    name: "dynamic-step-access",
    summary:
      'An expression reaches `steps` other than by `steps.<name>` (`$lookup(steps, "x")`, `steps.("x")`, `steps.*`, `$keys(steps)`, `$$`, `$eval`): Keel cannot tell which step it reads, so it would not wait for it. Name the step.',
  },
  KEEL213: {
    severity: "error",
    name: "scope-name-outside",
    summary:
      "A name that exists only in a scope, used outside it: `item` and `index` outside a step with `for_each` (or in its `for_each` or `if`, evaluated once for the step, before any item), `iteration` outside `repeat.until` and `repeat.with`, `previous` outside `repeat.with`, `args` outside an agent tool's `with:` and `http:`.",
  },
  KEEL214: {
    severity: "error",
    name: "for-each-not-list",
    summary:
      "A `for_each` reads a value that is not a list by the upstream step's output schema (or by its type: an `http` step's output is an object).",
  },
  KEEL215: {
    severity: "warning",
    name: "key-not-per-item",
    summary:
      "A `key` that reads neither `item` nor `index` is the same for every item, and keys must be unique: write `key: item.id` or similar.",
  },
  KEEL216: {
    severity: "warning",
    name: "no-effect",
    summary:
      "A map setting that does nothing where it is: `key`, `concurrency`, `max_items`, `on_item_error` or `max_failures` without `for_each`, and `max_failures` under `on_item_error: fail`.",
  },
  KEEL217: {
    severity: "error",
    name: "unknown-tool-argument",
    summary:
      "`args.<name>` in an agent tool's `with:` or `http:` names no property of the tool's `parameters` (written, or derived from a Python function or a child workflow's inputs); the message suggests the closest one.",
  },
  KEEL301: {
    severity: "error",
    name: "invalid-expression",
    summary: "A JSONata expression that does not parse; the range points inside the expression.",
  },
  KEEL302: {
    severity: "error",
    name: "impure-function",
    summary:
      "`$now()`, `$millis()` or `$random()` would make replay differ; use `run.started_at` or an input.",
  },
  KEEL303: {
    severity: "error",
    name: "unterminated-template",
    summary: "A `${{` without its closing `}}`.",
  },
  KEEL304: {
    severity: "error",
    name: "expression-not-string",
    summary:
      "A bare expression field (`expr`, `if`, `that`, `for_each`, `key`, `outputs`, `snapshot.version`, `repeat.until`) that YAML did not read as text: a ` #` started a comment, or `{`, `[`, `*` made it a collection or alias. Quote it.",
  },
  KEEL305: {
    severity: "error",
    name: "empty-expression",
    summary: "`${{ }}` or a bare expression field with nothing inside.",
  },
  KEEL306: {
    severity: "warning",
    name: "unknown-function",
    summary:
      "A call to a `$function` that is neither JSONata's nor Keel's, nor bound in the expression.",
  },
  KEEL307: {
    severity: "error",
    name: "status-function-outside-if",
    summary:
      "`$always()`, `$success()`, `$failure()` and `$cancelled()` only have a meaning in `if`.",
  },
  KEEL308: {
    severity: "error",
    name: "trajectory-arguments",
    summary:
      '`$trajectory(agent, expected, mode)` called with other than 2 or 3 arguments, a mode that is not `"strict"`, `"unordered"`, `"subset"` or `"superset"`, or a first argument naming a step that is not an `agent` step, or the answer of an agent step (`steps.<id>.output`) instead of the step.',
  },
  KEEL309: {
    severity: "warning",
    name: "trajectory-unknown-tool",
    summary:
      "A tool name in `$trajectory`'s expected list that the agent step does not declare under `tools:`: the agent cannot call it (a typo passes `subset` silently).",
  },
  KEEL401: {
    severity: "error",
    name: "literal-api-key",
    summary: "A provider's `api_key` must be an expression over secrets: `${{ secrets.NAME }}`.",
  },
  KEEL402: {
    severity: "error",
    name: "literal-secret",
    summary:
      "A value that looks like a credential (an API key or token) written into the file; move it to a secret.",
  },
  KEEL403: {
    severity: "error",
    name: "secret-from-env",
    summary:
      "`env.KEEL_SECRET_NAME` reads a secret as an ordinary variable, recorded in clear: write `secrets.NAME`.",
  },
  KEEL501: {
    severity: "error",
    name: "tool-module-missing",
    summary: "A `tool` step's `uses:` names a module file that does not exist.",
  },
  KEEL502: {
    severity: "error",
    name: "tool-export-missing",
    summary: "A `tool` step's `uses:` names an export its module does not have.",
  },
  KEEL503: {
    severity: "error",
    name: "tool-uses-format",
    summary: "`uses:` must be `./relative/path.js#exportName`.",
  },
  KEEL504: {
    severity: "warning",
    name: "tool-module-unreadable",
    summary: "A `tool` module could not be read or parsed, so its exports could not be checked.",
  },
  KEEL505: {
    severity: "error",
    name: "python-function-missing",
    summary:
      "A Python tool's `uses: ./x.py#fn` names a function the module does not define at its top level (nor bind by an import or assignment).",
  },
  KEEL506: {
    severity: "error",
    name: "python-parameter-unknown",
    summary:
      "A key of a Python tool's `with:` that is not a keyword parameter of its function (which has no `**kwargs`), or names a positional-only one (before `/`).",
  },
  KEEL507: {
    severity: "error",
    name: "python-parameter-missing",
    summary:
      "A parameter of a Python tool's function without a default (not `*args` or `**kwargs`) that the step's `with:` does not give, or a required positional-only one, which `with:` cannot give.",
  },
  KEEL508: {
    severity: "warning",
    name: "python-module-unreadable",
    summary:
      "A Python tool's module could not be read statically (the message names the line), so its function and parameters are not checked; it is checked when it runs.",
  },
  KEEL601: {
    severity: "error",
    name: "workflow-uses-format",
    summary:
      "A `workflow` step's `uses:` must be a relative path (`./` or `../`) to a `.keel.yaml` or `.keel.yml` file.",
  },
  KEEL602: {
    severity: "error",
    name: "child-workflow-missing",
    summary: "A `workflow` step's `uses:` names a file that does not exist.",
  },
  KEEL603: {
    severity: "error",
    name: "child-workflow-invalid",
    summary:
      "The child workflow has errors of its own; the message counts them and quotes the first. Open the child file to fix them.",
  },
  KEEL604: {
    severity: "error",
    name: "child-input-unknown",
    summary:
      "A key of a `workflow` step's `with:` (or `repeat.with:`) that is not one of the child's `inputs`.",
  },
  KEEL605: {
    severity: "error",
    name: "child-input-missing",
    summary:
      "A child input without a `default` (so required) that the `workflow` step's `with:` does not give.",
  },
  KEEL606: {
    severity: "error",
    name: "child-input-type",
    summary:
      "A literal value in `with:` that does not have the type the child's input declares (a run would refuse it).",
  },
  KEEL607: {
    severity: "error",
    name: "child-output-unknown",
    summary:
      "`steps.<id>.output.<name>` of a `workflow` step (or `output.<name>` in its `repeat`) names no output of the child: the step's output is the child's `outputs`.",
  },
  KEEL608: {
    severity: "error",
    name: "child-workflow-cycle",
    summary:
      "Workflow files use each other in a cycle (the message names the whole cycle), or child workflows nest deeper than 8 levels.",
  },
  KEEL621: {
    severity: "error",
    name: "prompt-file-missing",
    summary:
      "`prompt_file:` or `system_file:` names a file that does not exist (paths are relative to the workflow file's folder).",
  },
  KEEL622: {
    severity: "error",
    name: "prompt-file-invalid",
    summary:
      "A prompt file that cannot be read as one: its front matter is not YAML or not `inputs`/`params`/`model`, text stands before the first heading, a `system_file` has more than one message, or a `.prompt.yml` has no `messages`. On the step, the message quotes the file's first problem and its line.",
  },
  KEEL623: {
    severity: "error",
    name: "prompt-variable-unknown",
    summary:
      "A `${{ }}` in a prompt file reads a name its front matter does not declare under `inputs` (a prompt file sees its inputs only); reported in the prompt file and on the steps that use it.",
  },
  KEEL624: {
    severity: "error",
    name: "prompt-input-unknown",
    summary: "A key of an `llm` step's `with:` that is not an input of its prompt file.",
  },
  KEEL625: {
    severity: "error",
    name: "prompt-input-missing",
    summary:
      "An input of the prompt file without a `default` (so required) that the step's `with:` does not give.",
  },
  KEEL701: {
    severity: "error",
    name: "agent-tool-kind",
    summary:
      "A tool of an `agent` step needs exactly one of `uses:` (a JavaScript or Python function), `http:` (a request) and `workflow:` (a child workflow).",
  },
  KEEL702: {
    severity: "error",
    name: "agent-tool-parameters-missing",
    summary:
      "A JavaScript or `http` tool of an `agent` step has no `parameters:`, the JSON Schema of the arguments the model sends. A Python tool's come from its type hints and docstring, a workflow tool's from the child's inputs.",
  },
  KEEL703: {
    severity: "error",
    name: "agent-tool-parameters-invalid",
    summary:
      "A tool's `parameters:` is not a valid JSON Schema, or not one of `type: object` (the model sends its arguments as an object).",
  },
  KEEL704: {
    severity: "warning",
    name: "agent-tool-names-alike",
    summary:
      "Two tools of an `agent` step have names that differ only in case (`search`, `Search`): the model may call one for the other; rename one.",
  },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;
