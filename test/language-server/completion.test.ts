// Completion and hover over the protocol, on the built server: keys with their schema docs,
// values, snippets, and inside expressions (upstream steps only, output fields from the schema,
// inputs, functions); hover on keys and steps, with and without the client's last run.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { sample, TestClient, type Position } from "./client";

interface Item {
  label: string;
  kind: number;
  documentation?: { value: string };
  textEdit: { newText: string };
  insertTextFormat: number;
}
interface Hover {
  contents: { value: string };
}

let client: TestClient;
const uri = "file:///tmp/keel-completion/flow.keel.yaml";
const base = [
  "keel: 1",
  "name: completion",
  "inputs:",
  "  query: { type: string, description: What to look for. }",
  "providers:",
  "  fast: { type: scripted }",
  "steps:",
  "  fetch:",
  "    type: http",
  "    url: https://example.invalid",
  "    output:",
  "      schema:",
  "        type: object",
  "        properties:",
  "          items: { type: array, items: { type: object, properties: { id: { type: string }, score: { type: number } } } }",
  "  rank:",
  "    type: transform",
  "    expr: steps.fetch.output.body.items",
  "  report:",
  "    type: llm",
  "    needs: [rank]",
  '    prompt: "Top: ${{ steps.rank.output }}"',
  "",
].join("\n");

before(async () => {
  client = await TestClient.start();
  await client.open(uri, base);
});
after(() => client.stop());

/** Replaces `find` in the document with `replace` (which holds the cursor as `‸`) and completes there. */
async function completeAt(find: string, replace: string): Promise<Item[]> {
  const text = base.replace(find, replace.replace("‸", ""));
  assert.notEqual(text, base, `'${find}' not found`);
  const version = await client.change(uri, [{ text }]);
  await client.diagnostics(uri, version);
  const offset = base.indexOf(find) + replace.indexOf("‸");
  const position: Position = client.documents.get(uri)!.positionAt(offset);
  const list = await client.request<Item[]>("textDocument/completion", {
    textDocument: { uri },
    position,
  });
  return list;
}
const labels = (items: Item[]) => items.map((i) => i.label);

test("inside an expression, steps. offers only steps that can be upstream", async () => {
  // `rank` may not read `report` (report depends on rank): that would be a cycle.
  const items = await completeAt("    expr: steps.fetch.output.body.items", "    expr: steps.‸");
  assert.deepEqual(labels(items), ["fetch"]);
  const fromReport = await completeAt("${{ steps.rank.output }}", "${{ steps.‸ }}");
  assert.deepEqual(labels(fromReport), ["rank", "fetch"]);
});

test("a step's output fields come from its type's envelope and its output schema", async () => {
  const envelope = await completeAt("steps.fetch.output.body.items", "steps.fetch.output.‸");
  assert.deepEqual(labels(envelope), ["status", "headers", "body"]);
  const fields = await completeAt(
    "steps.fetch.output.body.items",
    "steps.fetch.output.body.items.‸",
  );
  assert.deepEqual(labels(fields), ["id", "score"]);
  const step = await completeAt("steps.fetch.output.body.items", "steps.fetch.‸");
  assert.deepEqual(labels(step), ["output", "status"]);
});

test("inputs. lists the inputs with their descriptions; $ lists pure functions", async () => {
  const inputs = await completeAt("steps.fetch.output.body.items", "inputs.‸");
  assert.deepEqual(labels(inputs), ["query"]);
  assert.equal(inputs[0]!.documentation?.value, "What to look for.");
  const fnItems = await completeAt("steps.fetch.output.body.items", "$jo‸");
  const fns = labels(fnItems);
  assert.ok(fns.includes("$join"));
  // Keel's $trajectory is offered in every expression, with its modes documented.
  const trajectory = fnItems.find((i) => i.label === "$trajectory");
  assert.match(trajectory?.documentation?.value ?? "", /`subset` \(no tool outside the list/);
  assert.ok(!fns.includes("$now"), "impure functions are not offered");
  assert.ok(!fns.includes("$always()"), "status functions only in if");
  const inIf = labels(await completeAt("    needs: [rank]", "    needs: [rank]\n    if: $‸"));
  assert.ok(inIf.includes("$always()"));
});

test("keys valid at the cursor come with the schema's documentation", async () => {
  const items = await completeAt("    needs: [rank]", "    needs: [rank]\n    ‸");
  const names = labels(items);
  for (const k of ["provider", "system", "params", "timeout", "retry"])
    assert.ok(names.includes(k), k);
  assert.ok(!names.includes("needs"), "keys already present are not offered again");
  assert.ok(!names.includes("url"), "keys of other step types are not offered");
  const timeout = items.find((i) => i.label === "timeout")!;
  assert.match(timeout.documentation!.value, /Time limit of one attempt/);
  assert.equal(timeout.textEdit.newText, "timeout: ");
});

test("values: step types, enums, provider ids and step ids in needs", async () => {
  assert.deepEqual(labels(await completeAt("    type: transform", "    type: ‸")), [
    "llm",
    "http",
    "tool",
    "shell",
    "transform",
    "assert",
    "workflow",
    "embed",
    "agent",
  ]);
  assert.deepEqual(
    labels(await completeAt("    needs: [rank]", "    needs: [rank]\n    provider: ‸")),
    ["fast"],
  );
  assert.deepEqual(labels(await completeAt("    needs: [rank]", "    needs: [rank, ‸]")), [
    "fetch",
  ]);
  assert.deepEqual(
    labels(
      await completeAt(
        "    url: https://example.invalid",
        "    url: https://example.invalid\n    method: ‸",
      ),
    ),
    ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
  );
});

test("under steps:, snippets insert a new step of each type, indented for the file", async () => {
  const items = await completeAt("  report:\n", "  ‸\n  report:\n");
  assert.deepEqual(labels(items), [
    "llm step",
    "http step",
    "tool step",
    "shell step",
    "transform step",
    "assert step",
    "workflow step",
    "embed step",
    "agent step",
  ]);
  const http = items[1]!;
  assert.equal(http.insertTextFormat, 2);
  assert.equal(http.textEdit.newText, "${1:http_step}:\n    type: http\n    url: ${2:https://}");
});

test("names of a scope: item and index in a map step (not in its for_each), output and iteration in repeat.until, previous in repeat.with; a map step's items", async () => {
  const text = [
    "keel: 1",
    "name: scopes",
    "steps:",
    "  list: { type: transform, expr: '[1]' }",
    "  map:",
    "    type: transform",
    "    for_each: ‸A",
    "    expr: ‸B",
    "  loop:",
    "    type: workflow",
    "    uses: ./child.keel.yaml",
    "    repeat:",
    "      max: 2",
    "      until: ‸C",
    '      with: { x: "${{ ‸D }}" }',
    "  after:",
    "    type: transform",
    "    expr: steps.map.‸E",
    "",
  ].join("\n");
  const names = ["A", "B", "C", "D", "E"];
  const plain = names.reduce((t, n) => t.replace(`‸${n}`, ""), text);
  const version = await client.change(uri, [{ text: plain }]);
  await client.diagnostics(uri, version);
  const at = async (name: string) => {
    const before = text.slice(0, text.indexOf(`‸${name}`));
    const offset = names.reduce((o, n) => (before.includes(`‸${n}`) ? o - 2 : o), before.length);
    const position = client.documents.get(uri)!.positionAt(offset);
    const list = await client.request<Item[]>("textDocument/completion", {
      textDocument: { uri },
      position,
    });
    return labels(list).filter((l) => !l.startsWith("$"));
  };
  const base5 = ["inputs", "steps", "run", "env", "secrets"];
  assert.deepEqual(await at("A"), base5);
  assert.deepEqual(await at("B"), [...base5, "item", "index"]);
  assert.deepEqual(await at("C"), [...base5, "output", "iteration"]);
  assert.deepEqual(await at("D"), [...base5, "iteration", "previous"]);
  assert.deepEqual(await at("E"), ["output", "status", "items"]);
});

test("hover shows a key's documentation, and a step's type and dependencies", async () => {
  await client.change(uri, [{ text: base }]);
  const key = await client.request<Hover>("textDocument/hover", {
    textDocument: { uri },
    position: client.at(uri, "needs:", 2),
  });
  assert.match(key.contents.value, /\*\*needs\*\*\n\nSteps that must finish first/);
  const step = await client.request<Hover>("textDocument/hover", {
    textDocument: { uri },
    position: client.at(uri, "steps.rank", 8),
  });
  assert.equal(
    step.contents.value,
    "**step `rank`** · `transform`\n\nDepends on: `fetch`  \nDepended on by: `report`",
  );
});

test("hover adds the last run's status, duration, cache state and output from keel/lastRun", async () => {
  const asked: unknown[] = [];
  const withRuns = await TestClient.start({
    setup: (connection) =>
      connection.onRequest("keel/lastRun", (params: unknown) => {
        asked.push(params);
        return {
          runId: "r-1",
          status: "succeeded",
          steps: {
            rank: {
              status: "succeeded",
              origin: "cached",
              durationMs: 1530,
              outputPreview: '[{"id":"a"}]',
            },
          },
        };
      }),
  });
  try {
    const triage = sample("support-triage.keel.yaml");
    const text = triage.text.replace(/classify/g, "rank");
    await withRuns.open(uri, text);
    const hover = await withRuns.request<Hover>("textDocument/hover", {
      textDocument: { uri },
      position: withRuns.at(uri, "  rank:", 3),
    });
    assert.match(hover.contents.value, /Last run: \*\*succeeded\*\* \(cached\) in 1\.53 s/);
    assert.match(hover.contents.value, /```json\n\[\{"id":"a"\}\]\n```/);
    assert.deepEqual(asked, [{ uri }]);
  } finally {
    await withRuns.stop();
  }
});

test("completion works on a file that does not parse yet", async () => {
  const items = await completeAt(
    '    prompt: "Top: ${{ steps.rank.output }}"',
    '    prompt: "Top: ${{ steps.‸\n  broken: [',
  );
  // The unclosed quote and `[` are set aside (model/recover.ts): the file around them, the step
  // `broken` below included, is known.
  assert.deepEqual(labels(items), ["rank", "fetch", "broken"]);
});
