// Agent steps' static checks beyond the annotated fixture (test/fixtures/diagnostics/agents.keel.yaml):
// the parameters of a tool as the runner will send them (written, from a Python function, from a
// child workflow's inputs), the provider's tool calling (every type today), and a cycle of files
// through an agent's workflow tool. Files live in a temporary folder, read by the Node host.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { validate, validateInDetail } from "@keel/core/check/validate";
import { incrementalState, revalidate } from "@keel/core/check/incremental";
import { toolParameters, inputsSchema } from "@keel/core/check/agent-tools";
import { checkStepProvider, TOOL_CALLING_PROVIDERS } from "@keel/core/check/providers";
import { DiagnosticSink } from "@keel/core/model/diagnostic";
import { PROVIDER_TYPES } from "@keel/core/model/schema";
import { nodeHost } from "@keel/core/node/host";

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "keel-agents-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const PYTHON = `def search(query: str, limit: int = 10, *, lang: Literal["en", "fr"] = "en") -> list:
    """Searches the index.

    Args:
        query: The text to look for.
        limit: At most this many results.
    """
    return []
`;

const CHILD = `keel: 1
name: child
description: Triages a ticket.
inputs:
  ticket: { type: object, description: The ticket to triage. }
  level: { type: string, default: low, schema: { enum: [low, high] } }
steps:
  label: { type: transform, expr: 'inputs.ticket.title' }
`;

test("toolParameters: a tool's own parameters, else its Python function's, else its child's inputs", () => {
  const dir = folder({ "tools/search.py": PYTHON, "child.keel.yaml": CHILD });
  const file = join(dir, "flow.keel.yaml");
  const own = { type: "object", properties: { q: { type: "string" } } };
  assert.deepEqual(
    toolParameters(file, { uses: "./tools/x.js#x", parameters: own }, nodeHost),
    own,
  );
  // Written parameters win over derived ones.
  assert.deepEqual(
    toolParameters(file, { uses: "./tools/search.py#search", parameters: own }, nodeHost),
    own,
  );
  assert.deepEqual(toolParameters(file, { uses: "./tools/search.py#search" }, nodeHost), {
    type: "object",
    properties: {
      query: { type: "string", description: "The text to look for." },
      limit: { type: "integer", description: "At most this many results.", default: 10 },
      lang: { type: "string", enum: ["en", "fr"], default: "en" },
    },
    required: ["query"],
    additionalProperties: false,
    description: "Searches the index.",
  });
  assert.deepEqual(toolParameters(file, { workflow: "./child.keel.yaml" }, nodeHost), {
    type: "object",
    properties: {
      ticket: { type: "object", description: "The ticket to triage." },
      level: { enum: ["low", "high"], type: "string", default: "low" },
    },
    required: ["ticket"],
    additionalProperties: false,
    description: "Triages a ticket.",
  });
  // None to be had: a JS tool or http tool without parameters, missing files and functions.
  assert.equal(toolParameters(file, { uses: "./tools/x.js#x" }, nodeHost), undefined);
  assert.equal(toolParameters(file, { http: { url: "https://x" } }, nodeHost), undefined);
  assert.equal(toolParameters(file, { uses: "./tools/nope.py#search" }, nodeHost), undefined);
  assert.equal(toolParameters(file, { uses: "./tools/search.py#find" }, nodeHost), undefined);
  assert.equal(toolParameters(file, { workflow: "./nope.keel.yaml" }, nodeHost), undefined);
  assert.equal(toolParameters(undefined, { workflow: "./child.keel.yaml" }, undefined), undefined);
});

test("inputsSchema: an input without a default is required; no other property is allowed", () => {
  assert.deepEqual(inputsSchema(undefined), {
    type: "object",
    properties: {},
    additionalProperties: false,
  });
  assert.deepEqual(inputsSchema({ n: { type: "number", default: 1 } }), {
    type: "object",
    properties: { n: { type: "number", default: 1 } },
    additionalProperties: false,
  });
});

/** A provider of each type, as its settings need it. */
const PROVIDERS: Record<(typeof PROVIDER_TYPES)[number], string> = {
  openai: "{ type: openai, model: m }",
  azure_openai:
    "{ type: azure_openai, endpoint: https://r.openai.azure.com, deployment: d, api_version: 2024-10-21 }",
  anthropic: "{ type: anthropic, model: m }",
  scripted: "{ type: scripted }",
};

/** A workflow of one agent step on a provider of `type`, with one tool (a YAML flow mapping). */
const agentWith = (type: (typeof PROVIDER_TYPES)[number], tool: string) => `keel: 1
name: agent
providers:
  main: ${PROVIDERS[type]}
steps:
  research:
    type: agent
    prompt: hi
    max_turns: 2
    tools:
      echo: ${tool}
`;
const HTTP_TOOL =
  '{ http: { url: "https://example.com/${{ args.q }}" }, parameters: { type: object, properties: { q: { type: string } } } }';

test("every provider type calls tools; an agent on a type that does not is KEEL113", () => {
  for (const type of PROVIDER_TYPES) {
    assert.ok(TOOL_CALLING_PROVIDERS.has(type), type);
    const { diagnostics } = validate(agentWith(type, HTTP_TOOL));
    assert.deepEqual(diagnostics, [], type);
  }
  const { model } = validate(agentWith("anthropic", HTTP_TOOL));
  const step = model.parts!.steps.get("research")!;
  const sink = new DiagnosticSink();
  checkStepProvider(model.parts!, step, sink, new Set(["openai"]));
  assert.deepEqual(
    sink.items.map((d) => [d.code, d.message]),
    [
      [
        "KEEL113",
        "agent step 'research' uses provider 'main' (of type anthropic), which cannot call tools: use a provider of type openai",
      ],
    ],
  );
});

test("files that run each other through an agent's workflow tool are a cycle (KEEL608)", () => {
  const tool = (child: string) => agentWith("scripted", `{ workflow: ${child} }`);
  const dir = folder({
    "a.keel.yaml": tool("./b.keel.yaml"),
    "b.keel.yaml": tool("./a.keel.yaml"),
  });
  const file = join(dir, "a.keel.yaml");
  const { diagnostics } = validate(tool("./b.keel.yaml"), { file, host: nodeHost });
  assert.deepEqual(
    diagnostics.map((d) => [d.code, d.message]),
    [
      [
        "KEEL608",
        "workflow files use each other in a cycle: a.keel.yaml → b.keel.yaml → a.keel.yaml: a workflow cannot run itself, directly or through its children",
      ],
    ],
  );
});

test("an agent on a provider type Keel does not know is not also KEEL113: the type's error says it", () => {
  const { diagnostics } = validate(agentWith("scripted", HTTP_TOOL).replace("scripted", "scriptd"));
  assert.deepEqual(
    diagnostics.map((d) => d.code),
    ["KEEL104"],
  );
});

test("a step whose type is misspelt gets no args or turns diagnostics: its type's error says it", () => {
  const text = `${agentWith("scripted", HTTP_TOOL).replace("type: agent", "type: agnet")}  after:
    type: transform
    expr: steps.research.turns
`;
  assert.deepEqual(
    validate(text).diagnostics.map((d) => d.code),
    ["KEEL105"],
  );
});

test("renaming an agent's tool re-checks the steps that name it, as a full validation does", () => {
  const text = `${agentWith("scripted", HTTP_TOOL)}  check:
    type: assert
    that: '$trajectory(steps.research, ["echo"], "subset")'
`;
  const state = incrementalState(text, {}, validateInDetail(text, {}));
  assert.ok(state);
  const renamed = text.replace("      echo:", "      ech:");
  const again = revalidate(state, renamed);
  const full = validate(renamed).diagnostics.map((d) => [d.code, d.message]);
  assert.ok(
    full.some(([code]) => code === "KEEL309"),
    JSON.stringify(full),
  );
  assert.deepEqual(again?.diagnostics.map((d) => [d.code, d.message]) ?? full, full);
});
