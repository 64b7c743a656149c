// Prompt files (docs/format.md "Prompt files"): `prompt_file:` / `system_file:` on llm steps, run
// end to end with the real Node effects and the scripted provider, the requests captured.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Effects, LlmRequest } from "@keel/core/runner/effects";
import { readRecordedRun } from "@keel/core/replay/record";
import { rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { runText, stepOf, writeWorkflow } from "./harness";

const DRAFT = `---
inputs:
  ticket: { type: string, description: The customer's message }
  tone:   { type: string, default: friendly }
params: { temperature: 0.2, max_tokens: 50 }
---
## system
You are a support agent. Answer in a \${{ tone }} tone.

## user
Ticket:
\${{ ticket }}

## assistant
Understood.

## user
Count: \${{ $count($split(ticket, " ")) }}
`;

function capturing(into: LlmRequest[]): (e: Effects) => Effects {
  return (e) => ({
    ...e,
    llm: (request, ...rest) => {
      into.push(request);
      return e.llm(request, ...rest);
    },
  });
}

const FLOW = (step: string) => `keel: 1
name: prompts
providers:
  p: { type: scripted, default: ok }
inputs:
  body: { type: string, default: "my printer is on fire" }
steps:
${step}
`;

test("a prompt file's headings make the messages, its templates see the with: inputs and defaults, its params lie under the step's", async () => {
  const seen: LlmRequest[] = [];
  const run = await runText(
    FLOW(`  draft:
    type: llm
    prompt_file: ./draft.md
    with: { ticket: "\${{ inputs.body }}" }
    params: { max_tokens: 9 }`),
    { files: { "draft.md": DRAFT }, wrap: capturing(seen) },
  );
  assert.equal(run.result.status, "succeeded");
  assert.equal(stepOf(run, "draft").status, "succeeded");
  assert.deepEqual(seen[0]!.messages, [
    { role: "system", content: "You are a support agent. Answer in a friendly tone." },
    { role: "user", content: "Ticket:\nmy printer is on fire" },
    { role: "assistant", content: "Understood." },
    { role: "user", content: "Count: 5" },
  ]);
  assert.deepEqual(seen[0]!.params, { temperature: 0.2, max_tokens: 9 });
  // The file's text is in the record by its hash, named by the attempt's input.
  const record = (await readRecordedRun(run.store, run.result.runId))!;
  const input = record.value(record.attempts[0]!.inputHash) as LlmRequest;
  assert.equal(input.promptFile!.path, "./draft.md");
  assert.equal(await run.store.blob(input.promptFile!.hash), DRAFT);
});

test("a prompt file without headings is one user prompt; system_file gives the system text", async () => {
  const seen: LlmRequest[] = [];
  const run = await runText(
    FLOW(`  ask:
    type: llm
    system_file: ./sys.md
    prompt_file: ./ask.md
    with: { q: "why?", who: a pirate }`),
    {
      files: {
        "ask.md": "---\ninputs: { q: string }\n---\n\nQuestion: ${{ q }}\n",
        "sys.md": "---\ninputs: { who: string }\n---\nYou speak as ${{ who }}.\n",
      },
      wrap: capturing(seen),
    },
  );
  assert.equal(run.result.status, "succeeded");
  assert.equal(seen[0]!.system, "You speak as a pirate.");
  assert.deepEqual(seen[0]!.messages, [{ role: "user", content: "Question: why?" }]);
});

/**
 * Runs a workflow whose prompt file ./ask.md is `valid` when the workflow is validated and
 * `edited` (null: deleted) when it runs: what the run itself refuses, past the validator.
 */
function runEdited(
  step: string,
  valid: string,
  edited: string | null,
  wrap?: (e: Effects) => Effects,
) {
  const path = writeWorkflow(FLOW(step), { "ask.md": valid });
  const file = join(dirname(path), "ask.md");
  return runText("", {
    path,
    wrap: (e) => {
      if (edited === null) rmSync(file);
      else writeFileSync(file, edited);
      return wrap ? wrap(e) : e;
    },
  });
}

test("a prompt file sees its declared inputs only, never the workflow's steps or inputs", async () => {
  const seen: LlmRequest[] = [];
  const run = await runEdited(
    `  ask:
    type: llm
    prompt_file: ./ask.md
    with: { q: x }`,
    "---\ninputs: { q: string }\n---\n${{ q }}\n",
    "---\ninputs: { q: string }\n---\n${{ q }}|${{ inputs.body }}|\n",
    capturing(seen),
  );
  assert.equal(run.result.status, "succeeded");
  assert.equal(seen[0]!.messages[0]!.content, "x||");
});

test("a with: key the file does not declare, a required input not given, a missing file and broken front matter fail the step naming the file", async () => {
  const Q = "---\ninputs: { q: string }\n---\n${{ q }}";
  const cases: [string, string, string | null, RegExp][] = [
    [
      "with: { q: x, extra: 1 }",
      "---\ninputs: { q: string, extra: number }\n---\n${{ q }}",
      Q,
      /`with: extra` is not an input of the prompt file \.\/ask\.md \(it declares q\)/,
    ],
    [
      "with: {}",
      "---\ninputs: { q: { default: y } }\n---\n${{ q }}",
      Q,
      /the prompt file \.\/ask\.md needs input `q`/,
    ],
    ["with: { q: x }", Q, null, /the prompt file \.\/ask\.md does not exist/],
    [
      "with: { q: x }",
      Q,
      "---\ninputs: { q: [string\n---\nhi",
      /\.\/ask\.md:3: the front matter is not valid YAML: Flow sequence/,
    ],
    [
      "with: { q: x }",
      Q,
      "---\ninputs: { q: string }\nhi",
      /\.\/ask\.md:1: the front matter opened by `---` on line 1 is never closed/,
    ],
  ];
  for (const [w, valid, edited, message] of cases) {
    const run = await runEdited(
      `  ask:
    type: llm
    prompt_file: ./ask.md
    ${w}`,
      valid,
      edited,
    );
    assert.equal(run.result.status, "failed", String(message));
    const s = stepOf(run, "ask");
    assert.equal(s.error?.kind, "config");
    assert.match(s.error!.message, message);
  }
});

test("a GitHub Models .prompt.yml is read as a prompt: messages with {{var}}, model and modelParameters", async () => {
  const seen: LlmRequest[] = [];
  const run = await runText(
    FLOW(`  summarize:
    type: llm
    prompt_file: ./summarize.prompt.yml
    with: { text: "\${{ inputs.body }}" }`),
    {
      files: {
        "summarize.prompt.yml": `name: Summarizer
model: openai/gpt-4o-mini
modelParameters:
  temperature: 0.5
  maxTokens: 20
messages:
  - role: system
    content: You summarize.
  - role: user
    content: |
      Summarize: {{text}}
`,
      },
      wrap: capturing(seen),
    },
  );
  assert.equal(run.result.status, "succeeded");
  assert.deepEqual(seen[0]!.messages, [
    { role: "system", content: "You summarize." },
    { role: "user", content: "Summarize: my printer is on fire\n" },
  ]);
  assert.equal(seen[0]!.model, "openai/gpt-4o-mini");
  assert.deepEqual(seen[0]!.params, { temperature: 0.5, max_tokens: 20 });
});

test("an expression failing in a prompt file fails the step naming the prompt file and the message's line", async () => {
  const run = await runText(
    FLOW(`  ask:
    type: llm
    prompt_file: ./ask.md
    with: { q: x }`),
    {
      files: {
        "ask.md": "---\ninputs: { q: string }\n---\n## user\nHi\n\n## user\n${{ $number(q) }}\n",
      },
    },
  );
  assert.equal(run.result.status, "failed");
  const s = stepOf(run, "ask");
  assert.equal(s.error?.kind, "expression");
  assert.match(s.error!.message, /^\.\/ask\.md:8: expression `\$number\(q\)` failed/);
});
