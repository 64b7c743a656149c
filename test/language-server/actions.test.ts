// Quick fixes, code lenses and semantic tokens over the protocol, on the built server. Each fix is
// applied to the text and the result validated again: the diagnostic it fixes must be gone.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { TextDocument } from "vscode-languageserver-textdocument";
import { validate } from "@keel/core/index";
import { TOKEN_MODIFIERS, TOKEN_TYPES } from "@keel/core/service/tokens";
import { sample, TestClient, type Range } from "./client";

interface Action {
  title: string;
  isPreferred?: boolean;
  diagnostics: { code: string }[];
  edit: { changes: Record<string, { range: Range; newText: string }[]> };
}
interface Lens {
  range: Range;
  command: { title: string; command: string; arguments: unknown[] };
}

let client: TestClient;
let counter = 0;
before(async () => {
  client = await TestClient.start();
});
after(() => client.stop());

/** Opens `text`, takes the quick fix for `code`, applies it and returns the new text. */
async function applyFix(text: string, code: string): Promise<{ title: string; text: string }> {
  const uri = `file:///tmp/keel-fix/f${counter++}.keel.yaml`;
  await client.open(uri, text);
  const doc = client.documents.get(uri)!;
  const actions = await client.request<Action[]>("textDocument/codeAction", {
    textDocument: { uri },
    range: { start: { line: 0, character: 0 }, end: doc.positionAt(text.length) },
    context: { diagnostics: [] },
  });
  await client.close(uri);
  const action = actions.find((a) => a.diagnostics[0]?.code === code);
  assert.ok(action, `no fix for ${code}: ${JSON.stringify(actions.map((a) => a.title))}`);
  return { title: action.title, text: TextDocument.applyEdits(doc, action.edit.changes[uri]!) };
}
const codes = (text: string) => validate(text).diagnostics.map((d) => d.code);

const flow = (steps: string) =>
  `keel: 1\nname: fixes\ninputs:\n  ticket: { type: string }\nsteps:\n${steps}`;

test("did-you-mean fixes replace the misspelt input, step, key and function", async () => {
  const input = await applyFix(
    flow("  a:\n    type: transform\n    expr: inputs.tiket\n"),
    "KEEL202",
  );
  assert.equal(input.title, "Change to 'ticket'");
  assert.deepEqual(codes(input.text), []);
  const needs = await applyFix(
    flow(
      "  fetch:\n    type: transform\n    expr: 1\n  b:\n    type: transform\n    needs: [fecth]\n    expr: 2\n",
    ),
    "KEEL201",
  );
  assert.deepEqual(codes(needs.text), []);
  const key = await applyFix(
    flow("  a:\n    type: transform\n    expr: 1\n    timout: 5s\n"),
    "KEEL101",
  );
  assert.match(key.text, /\n {4}timeout: 5s\n/);
  const fn = await applyFix(
    flow("  a:\n    type: transform\n    expr: $uppercas(inputs.ticket)\n"),
    "KEEL306",
  );
  assert.match(fn.text, /expr: \$uppercase\(inputs\.ticket\)/);
  assert.deepEqual(codes(fn.text), []);
  const mode = await applyFix(
    flow(
      '  a:\n    type: transform\n    expr: \'"x"\'\n  b:\n    type: assert\n    that: \'$trajectory(steps.a.output, ["search"], "subsett")\'\n',
    ),
    "KEEL308",
  );
  assert.equal(mode.title, "Change to 'subset'");
  assert.match(mode.text, /\["search"\], "subset"\)'/);
  assert.deepEqual(codes(mode.text), []);
});

test("a literal credential is moved into ${{ secrets.NAME }}", async () => {
  const text = flow(
    "  call:\n    type: http\n    url: https://example.invalid\n    headers:\n      Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789\n",
  );
  assert.deepEqual(codes(text), ["KEEL402"]);
  const fixed = await applyFix(text, "KEEL402");
  assert.match(fixed.text, /Authorization: "Bearer \$\{\{ secrets\.AUTHORIZATION \}\}"/);
  assert.deepEqual(codes(fixed.text), []);
});

test("a secret read through env.KEEL_SECRET_NAME becomes secrets.NAME", async () => {
  const text = flow(
    '  call:\n    type: shell\n    command: [echo, "${{ env.KEEL_SECRET_TOKEN }}", "${{ env.HOME }}"]\n',
  );
  assert.deepEqual(codes(text), ["KEEL403"]);
  const fixed = await applyFix(text, "KEEL403");
  assert.match(fixed.text, /"\$\{\{ secrets\.TOKEN \}\}", "\$\{\{ env\.HOME \}\}"/);
  assert.deepEqual(codes(fixed.text), []);
});

test("a literal api_key, $now(), a repeated need and an unquoted expression are fixed", async () => {
  const key = await applyFix(
    "keel: 1\nname: k\nproviders:\n  main: { type: openai, api_key: sk-abcdefghijklmnopqrstuvwxyz }\nsteps:\n  a: { type: llm, prompt: hi }\n",
    "KEEL401",
  );
  assert.deepEqual(codes(key.text), []);
  const now = await applyFix(flow("  a:\n    type: transform\n    expr: $now()\n"), "KEEL302");
  assert.match(now.text, /expr: run\.started_at\n/);
  const repeated = await applyFix(
    flow(
      "  a:\n    type: transform\n    expr: 1\n  b:\n    type: transform\n    needs: [a, a]\n    expr: 2\n",
    ),
    "KEEL211",
  );
  assert.match(repeated.text, /needs: \[a\]\n/);
  const block = await applyFix(
    flow(
      "  a:\n    type: transform\n    expr: 1\n  b:\n    type: transform\n    needs:\n      - a\n      - a\n    expr: 2\n",
    ),
    "KEEL211",
  );
  assert.match(block.text, /needs:\n {6}- a\n {4}expr: 2/);
  const quote = await applyFix(
    flow('  a:\n    type: transform\n    expr: {"k": inputs.ticket}\n'),
    "KEEL304",
  );
  assert.match(quote.text, /expr: '\{"k": inputs\.ticket\}'\n/);
  assert.deepEqual(codes(quote.text), []);
});

test("code lenses offer run workflow, run step and run up to here", async () => {
  const triage = sample("support-triage.keel.yaml");
  await client.open(triage.uri, triage.text);
  const lenses = await client.request<Lens[]>("textDocument/codeLens", {
    textDocument: { uri: triage.uri },
  });
  assert.equal(lenses.length, 1 + 2 * 5);
  assert.deepEqual(lenses[0]!.command, {
    title: "▶ Run workflow",
    command: "keel.workflow.run",
    arguments: [triage.uri],
  });
  const step = lenses.filter((l) => l.command.arguments[1] === "classify");
  assert.deepEqual(
    step.map((l) => [l.command.title, l.command.command]),
    [
      ["▶ Run step", "keel.step.run"],
      ["Run up to here", "keel.step.runTo"],
    ],
  );
  assert.equal(client.textOf(triage.uri, step[0]!.range), "classify");
  await client.close(triage.uri);
});

test("with a last run, lenses show each step's status; a finished run refreshes them", async () => {
  let status = "failed";
  let refreshed = 0;
  const withRuns = await TestClient.start({
    capabilities: { workspace: { codeLens: { refreshSupport: true } } },
    setup: (connection) => {
      connection.onRequest("keel/lastRun", () => ({
        runId: "r-7",
        status: "failed",
        steps: { classify: { status, durationMs: 250 } },
      }));
      connection.onRequest("workspace/codeLens/refresh", () => {
        refreshed++;
        return null;
      });
    },
  });
  try {
    const triage = sample("support-triage.keel.yaml");
    await withRuns.open(triage.uri, triage.text);
    const titles = async () =>
      (
        await withRuns.request<Lens[]>("textDocument/codeLens", {
          textDocument: { uri: triage.uri },
        })
      )
        .filter((l) => l.command.command === "keel.stepRun.show")
        .map((l) => [l.command.title, l.command.arguments]);
    assert.deepEqual(await titles(), [
      ["Last run: ✗ failed · 250 ms", [triage.uri, "classify", "r-7"]],
    ]);
    status = "succeeded";
    assert.deepEqual(
      (await titles())[0]![0],
      "Last run: ✗ failed · 250 ms",
      "answers are cached until a run finishes",
    );
    await withRuns.connection.sendNotification("keel/runDidFinish", { uri: triage.uri });
    const deadline = Date.now() + 5000;
    while (refreshed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(refreshed, 1);
    assert.deepEqual((await titles())[0]![0], "Last run: ✓ succeeded · 250 ms");
  } finally {
    await withRuns.stop();
  }
});

/** The semantic tokens of `text`, each as "word type modifiers…". */
async function tokensOf(uri: string, text: string): Promise<string[]> {
  await client.open(uri, text);
  const { data } = await client.request<{ data: number[] }>("textDocument/semanticTokens/full", {
    textDocument: { uri },
  });
  const lines = text.split("\n");
  let line = 0;
  let char = 0;
  const decoded: string[] = [];
  for (let i = 0; i < data.length; i += 5) {
    line += data[i]!;
    char = data[i] === 0 ? char + data[i + 1]! : data[i + 1]!;
    const word = lines[line]!.slice(char, char + data[i + 2]!);
    const mods = TOKEN_MODIFIERS.filter((_, b) => data[i + 4]! & (1 << b));
    decoded.push([word, TOKEN_TYPES[data[i + 3]!], ...mods].join(" "));
  }
  return decoded;
}

test("semantic tokens mark context names, references, fields, functions and literals", async () => {
  const uri = "file:///tmp/keel-tokens/t.keel.yaml";
  const text = flow(
    '  a:\n    type: transform\n    expr: $count(steps.b.output.items) > 2 and inputs.ticket = "x"\n  b:\n    type: transform\n    expr: "[1]"\n    if: |\n      $always() or\n        steps.a.status = \'ok\'\n',
  );
  const decoded = await tokensOf(uri, text);
  assert.deepEqual(decoded, [
    "$count function defaultLibrary",
    "steps namespace",
    "b variable readonly",
    "output property",
    "items property",
    "> operator",
    "2 number",
    "and keyword",
    "inputs namespace",
    "ticket variable readonly",
    "= operator",
    '"x" string',
    "1 number",
    "$always function defaultLibrary",
    "or keyword",
    "steps namespace",
    "a variable readonly",
    "status property",
    "= operator",
    "'ok' string",
  ]);
  await client.close(uri);
});

test("semantic tokens mark Keel's $trajectory as a library function, like JSONata's", async () => {
  const uri = "file:///tmp/keel-tokens/trajectory.keel.yaml";
  const text = flow(
    '  a:\n    type: transform\n    expr: \'"x"\'\n  b:\n    type: assert\n    that: \'$trajectory(steps.a.output, ["search"], "subset")\'\n',
  );
  const decoded = await tokensOf(uri, text);
  assert.ok(decoded.includes("$trajectory function defaultLibrary"), decoded.join("; "));
  await client.close(uri);
});
