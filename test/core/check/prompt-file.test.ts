// A prompt file's own diagnostics (docs/format.md "Prompt files"), as the language server shows
// them in the open prompt file: offsets into the file, its unknown variables, broken templates and
// front matter; and the parser's messages, inputs, params and lines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkPromptFile } from "@keel/core/check/prompt-file";
import { lineOf, parsePromptFile } from "@keel/core/model/prompt-file";

const at = (text: string, d: { start: number; end: number }) => text.slice(d.start, d.end);

test("an unknown variable is an error at its name in the prompt file, with a suggestion; declared ones are variables with their input", () => {
  const text =
    "---\ninputs:\n  ticket: { type: string }\n  tone: { default: calm }\n---\n${{ tcket }} in a ${{ tone }} tone, ${{ $uppercase(ticket) }}\n";
  const c = checkPromptFile(text, "./p.md");
  assert.deepEqual(
    c.diagnostics.map((d) => [d.code, at(text, d), lineOf(c.file, d.start), d.message]),
    [
      [
        "KEEL623",
        "tcket",
        6,
        "`tcket` is not an input of this prompt file: did you mean 'ticket'? (a prompt file sees its declared inputs only)",
      ],
    ],
  );
  assert.deepEqual(
    c.variables.map((v) => [v.name, at(text, v), v.input?.name]),
    [
      ["tcket", "tcket", undefined],
      ["tone", "tone", "tone"],
      ["ticket", "ticket", "ticket"],
    ],
  );
  assert.equal(c.file.inputs.get("tone")!.required, false);
  assert.equal(c.file.inputs.get("ticket")!.required, true);
});

test("an unterminated or invalid template and broken front matter are errors in the file at their line", () => {
  const bad = checkPromptFile("## user\nHi ${{ name\n", "./p.md");
  assert.deepEqual(
    bad.diagnostics.map((d) => [d.code, lineOf(bad.file, d.start)]),
    [["KEEL303", 2]],
  );
  const invalid = checkPromptFile("---\ninputs: { a: string }\n---\n${{ a + }}\n", "./p.md");
  assert.deepEqual(
    invalid.diagnostics.map((d) => [d.code, lineOf(invalid.file, d.start)]),
    [["KEEL301", 4]],
  );
  const front = checkPromptFile(
    "---\ninputs: { a: string }\nparams: 3\nmodel: [x]\ncolor: red\n---\nhi\n",
    "./p.md",
  );
  assert.deepEqual(
    front.diagnostics.map((d) => [d.code, lineOf(front.file, d.start), d.message]),
    [
      ["KEEL622", 3, "`params` must be a mapping of model parameters"],
      ["KEEL622", 4, "`model` must be text"],
      [
        "KEEL622",
        5,
        "unknown front matter key `color`: a prompt file declares `inputs`, `params`, `model`, `name` and `description`",
      ],
    ],
  );
  const lead = checkPromptFile("stray\n## user\nhi\n", "./p.md");
  assert.match(lead.diagnostics[0]!.message, /text before the first `## system`/);
});

test("headings split the body into messages, a heading inside a code fence does not, and each message knows its line", () => {
  const text =
    "---\ninputs: {}\n---\n## system\nA\n\n## user\n```\n## user\n```\nB\n## assistant\nC\n";
  const f = parsePromptFile(text, "./p.md");
  assert.deepEqual(
    f.messages.map((m) => [m.role, m.text, lineOf(f, m.start)]),
    [
      ["system", "A", 5],
      ["user", "```\n## user\n```\nB", 8],
      ["assistant", "C", 13],
    ],
  );
  assert.equal(f.headless, false);
});

test("a .prompt.yml's placeholders are its inputs, all required; its modelParameters are the step's params", () => {
  const text =
    "model: m\nmodelParameters: { maxTokens: 5 }\nmessages:\n  - role: user\n    content: '{{a}} and {{ b }}'\n";
  const f = parsePromptFile(text, "./x.prompt.yml");
  assert.equal(f.syntax, "mustache");
  assert.deepEqual([...f.inputs.keys()], ["a", "b"]);
  assert.deepEqual(f.params, { max_tokens: 5 });
  assert.equal(f.model, "m");
  assert.equal(at(text, f.inputs.get("b")!.span), "{{ b }}");
  assert.deepEqual(checkPromptFile(text, "./x.prompt.yml").diagnostics, []);
  assert.match(
    parsePromptFile("messages: 3\n", "./y.prompt.yml").problems[0]!.message,
    /needs `messages/,
  );
});
