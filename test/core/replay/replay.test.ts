// Replay reproduces a recorded run exactly with nothing executed, and pins a change to the step
// where it first shows (docs/replay.md, "Replay"; #5 "Done when").
import { after, before, mock, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { MemoryStore } from "@keel/core/store/memory-store";
import { readRecordedRun, type RecordedRun } from "@keel/core/replay/record";
import { replayRun, type ReplayReport } from "@keel/core/replay/replay";
import { RecordedAnswers } from "@keel/core/replay/answers";
import { foldToEnd } from "@keel/core/record/fold";
import { loadWorkflowText } from "@keel/core/runner/load";
import { startProviderServer, type ProviderServer } from "../../helpers/provider-server";
import { runText, type TestRun } from "../runner/harness";
import { startHttpServer, TOOL_MODULE, type CountingHttpServer } from "./servers";

let provider: ProviderServer;
let http: CountingHttpServer;
before(async () => {
  provider = await startProviderServer();
  http = await startHttpServer();
});
after(async () => {
  await provider.close();
  await http.close();
});

async function recordOf(run: TestRun): Promise<RecordedRun> {
  return (await readRecordedRun(run.store, run.result.runId))!;
}

/** Replays with the recorded source, or with `text` as the current file. */
async function replay(record: RecordedRun, text = record.source): Promise<ReplayReport> {
  const loaded = loadWorkflowText(record.run.workflowPath, text);
  if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join("; "));
  return replayRun(record, loaded.loaded);
}

/** Every step's output reference and the run's outputs are the recorded ones, byte for byte. */
function assertSameOutputs(record: RecordedRun, report: ReplayReport): void {
  const a = foldToEnd(record.events, record.attempts);
  const b = foldToEnd(report.replayed.events, report.replayed.attempts);
  for (const s of a.steps()) {
    assert.equal(b.step(s.id)?.status, s.status, `status of ${s.id}`);
    assert.equal(b.step(s.id)?.output, s.output, `output of ${s.id}`);
    if (s.output) assert.equal(report.replayed.text(s.output), record.text(s.output));
  }
  assert.equal(report.replayed.run.outputsHash, record.run.outputsHash);
  assert.equal(report.status, record.run.status);
}

for (const name of readdirSync("samples").filter((f) => f.endsWith(".keel.yaml"))) {
  test(`sample ${name} replays from a SQLite store with no divergence and nothing executed`, async () => {
    const store = openSqliteStore(join(mkdtempSync(join(tmpdir(), "keel-replay-")), "r.sqlite"));
    const path = resolve("samples", name);
    const run = await runText(readFileSync(path, "utf8"), { path, store });
    const record = await recordOf(run);
    const report = await replay(record);
    assert.deepEqual(report.divergences, []);
    assert.equal(report.effectsExecuted, 0);
    assert.equal(report.replayOf, run.result.runId);
    assert.notEqual(report.runId, run.result.runId);
    assertSameOutputs(record, report);
    await store.close();
  });
}

// ---- random workflows against counting servers, tools and commands ----

interface GenStep {
  kind: "transform" | "assert" | "shell" | "tool" | "http" | "llm" | "scripted";
  deps: readonly number[];
  fail: boolean;
  cond: "none" | "false" | "always" | "status";
}

const genStep = (i: number) =>
  fc.record({
    kind: fc.constantFrom(
      "transform",
      "transform",
      "assert",
      "shell",
      "tool",
      "http",
      "llm",
      "scripted",
    ) as fc.Arbitrary<GenStep["kind"]>,
    deps: i === 0 ? fc.constant<number[]>([]) : fc.uniqueArray(fc.nat(i - 1), { maxLength: 2 }),
    fail: fc.boolean(),
    cond: fc.constantFrom("none", "none", "none", "false", "always", "status") as fc.Arbitrary<
      GenStep["cond"]
    >,
  });

const genFlow = fc
  .integer({ min: 1, max: 7 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => genStep(i))));

/**
 * The workflow of a generated flow. Its templates need jsonata (`$string`, `$substring`), or with
 * `fast` stay within the fast expression subset (upstream statuses joined with `&`).
 */
function flowText(steps: GenStep[], files: { shell: string; tool: string }, fast = false): string {
  const lines = [
    "keel: 1",
    "name: random",
    "providers:",
    "  oa:",
    "    type: openai",
    "    model: gpt-test",
    `    base_url: "${provider.openaiBaseURL}"`,
    '    api_key: "${{ secrets.KEY }}"',
    "  flaky:",
    "    type: scripted",
    '    responses: [{ match: "fail", error: rate_limit }]',
    "    default: scripted-ok",
    "    retry: { max_attempts: 2, backoff: fixed, initial: 1ms }",
    "    fallback: steady",
    "  steady: { type: scripted, default: steady-ok, model: steady-1 }",
    "steps:",
  ];
  steps.forEach((s, i) => {
    const id = `s${i}`;
    const from =
      s.deps
        .map((d) => (fast ? `steps.s${d}.status` : `$string(steps.s${d}.output)`))
        .join(" & ") || '"root"';
    const value = fast ? from : `$substring(${from}, 0, 40)`;
    const body: string[] = [];
    switch (s.kind) {
      case "transform":
        body.push("type: transform", `expr: '{"v": ${value}, "i": ${i}}'`);
        break;
      case "assert":
        body.push("type: assert", `that: '${s.fail ? "1 = 2" : `$length(${value}) >= 0`}'`);
        break;
      case "shell":
        body.push(
          "type: shell",
          `command: [sh, -c, 'echo x >> "$0"; printf "{\\"len\\": %s}" "\${#1}"; exit ${s.fail ? 1 : 0}', "${files.shell}", '\${{ ${value} }}']`,
          "output: { format: json }",
        );
        break;
      case "tool":
        body.push(
          "type: tool",
          "uses: ./tool.js#count",
          `with: { file: "${files.tool}", v: '\${{ ${value} }}' }`,
        );
        break;
      case "http":
        body.push(
          "type: http",
          `url: "${http.url}/${s.fail ? "fail" : "ok"}"`,
          `query: { x: '\${{ ${value} }}' }`,
        );
        break;
      case "llm":
        body.push("type: llm", "provider: oa", `prompt: 'Say \${{ ${value} }}'`);
        break;
      case "scripted":
        body.push(
          "type: llm",
          "provider: flaky",
          `prompt: '${s.fail ? "fail" : "pass"} \${{ ${value} }}'`,
        );
        break;
    }
    if (s.fail) body.push("on_error: continue");
    if (s.deps.length > 0) body.push(`needs: [${s.deps.map((d) => `s${d}`).join(", ")}]`);
    if (s.cond === "false") body.push('if: "false"');
    if (s.cond === "always") body.push("if: $always()");
    if (s.cond === "status" && s.deps.length > 0)
      body.push(`if: 'steps.s${s.deps[0]}.status = "succeeded"'`);
    lines.push(`  ${id}:`, ...body.map((b) => `    ${b}`));
  });
  lines.push("outputs:", `  last: steps.s${steps.length - 1}.output`);
  return lines.join("\n") + "\n";
}

test("300 random workflows replay byte for byte with no model, HTTP, tool or command call", async () => {
  let cases = 0;
  const live = { provider: 0, http: 0, shell: 0, tool: 0, continued: 0, skipped: 0 };
  await fc.assert(
    fc.asyncProperty(genFlow, async (steps) => {
      const dir = mkdtempSync(join(tmpdir(), "keel-rand-"));
      const files = { shell: join(dir, "shell.count"), tool: join(dir, "tool.count") };
      writeFileSync(files.shell, "");
      writeFileSync(files.tool, "");
      writeFileSync(join(dir, "tool.js"), TOOL_MODULE);
      const path = join(dir, "flow.keel.yaml");
      writeFileSync(path, flowText(steps, files));
      const counts = { provider: provider.count(), http: http.count() };
      const run = await runText("", {
        path,
        store: new MemoryStore(),
        secrets: { KEY: "sk-test-key" },
      });
      const record = await recordOf(run);
      const before = {
        provider: provider.count(),
        http: http.count(),
        shell: readFileSync(files.shell, "utf8"),
        tool: readFileSync(files.tool, "utf8"),
      };
      live.provider += before.provider - counts.provider;
      live.http += before.http - counts.http;
      live.shell += before.shell.length;
      live.tool += before.tool.length;
      live.continued += run.result.steps.filter((s) => s.continued).length;
      live.skipped += run.result.steps.filter((s) => s.status === "skipped").length;
      const report = await replay(record);
      assert.deepEqual(report.divergences, [], readFileSync(path, "utf8"));
      assert.equal(report.effectsExecuted, 0);
      assert.deepEqual(
        {
          provider: provider.count(),
          http: http.count(),
          shell: readFileSync(files.shell, "utf8"),
          tool: readFileSync(files.tool, "utf8"),
        },
        before,
      );
      assertSameOutputs(record, report);
      cases++;
    }),
    { numRuns: Number(process.env.KEEL_REPLAY_CASES ?? 300), verbose: 2 },
  );
  assert.ok(cases >= 1);
  // The live runs did reach every kind of effect, fail with on_error: continue and skip steps.
  for (const [kind, n] of Object.entries(live)) assert.ok(n > 0, `${kind}: ${n}`);
});

/** A replay's record without its ids and clock: per step, its events and attempts in order. */
function recordShape(record: RecordedRun): unknown {
  const shape = new Map<string, unknown[]>();
  const add = (id: string | null, row: unknown) => {
    const key = id ?? "(run)";
    shape.set(key, [...(shape.get(key) ?? []), row]);
  };
  for (const e of record.events) {
    const { durationMs: _d, pid: _p, ...data } = e.data ?? {};
    add(e.stepId, [e.type, e.attempt, data]);
  }
  for (const a of [...record.attempts].sort((x, y) => x.attempt - y.attempt)) {
    add(a.stepId, [a.attempt, a.status, a.origin, a.inputHash, a.outputHash, a.errorKind, a.meta]);
  }
  return [...shape].sort(([a], [b]) => (a < b ? -1 : 1));
}

test("a replayed step answered on the spot records exactly what the general path records", async () => {
  let onTheSpot = 0;
  const success = RecordedAnswers.prototype.success;
  await fc.assert(
    fc.asyncProperty(genFlow, async (steps) => {
      const dir = mkdtempSync(join(tmpdir(), "keel-spot-"));
      const files = { shell: join(dir, "shell.count"), tool: join(dir, "tool.count") };
      writeFileSync(join(dir, "tool.js"), TOOL_MODULE);
      const path = join(dir, "flow.keel.yaml");
      writeFileSync(path, flowText(steps, files, true));
      const run = await runText("", { path, store: new MemoryStore(), secrets: { KEY: "sk-k" } });
      const record = await recordOf(run);
      RecordedAnswers.prototype.success = function (id, attempt) {
        const output = success.call(this, id, attempt);
        if (output) onTheSpot++;
        return output;
      };
      const quick = await replay(record).finally(() => {
        RecordedAnswers.prototype.success = success;
      });
      // Without `success`, every replayed attempt takes the general (asynchronous) path.
      RecordedAnswers.prototype.success = () => undefined;
      const general = await replay(record).finally(() => {
        RecordedAnswers.prototype.success = success;
      });
      assert.deepEqual(quick.divergences, []);
      assert.deepEqual(general.divergences, []);
      assert.deepEqual(recordShape(quick.replayed), recordShape(general.replayed));
      assert.equal(quick.replayed.run.outputsHash, general.replayed.run.outputsHash);
      assertSameOutputs(record, quick);
    }),
    { numRuns: 150 },
  );
  assert.ok(onTheSpot >= 50, `${onTheSpot} attempts answered on the spot`);
});

// ---- edits ----

const CHAIN = `keel: 1
name: chain
providers:
  p:
    type: scripted
    default: fine
steps:
  fetch:
    type: transform
    expr: '{"topic": "tides"}'
  summarize:
    type: llm
    provider: p
    prompt: "Summarise \${{ steps.fetch.output.topic }} in one line."
  review:
    type: llm
    provider: p
    prompt: "Review: \${{ steps.summarize.output }}"
  publish:
    type: transform
    expr: '{"text": steps.review.output}'
outputs:
  text: steps.publish.output.text
`;

let chain: Promise<RecordedRun> | undefined;
const chainRecord = () => (chain ??= runText(CHAIN).then(recordOf));

test("an edit to one step's prompt is reported at exactly that step, with its line and a diff", async () => {
  const record = await chainRecord();
  const edited = CHAIN.replace("in one line.", "in two lines.");
  const report = await replay(record, edited);
  assert.equal(report.divergence?.step, "summarize");
  assert.equal(report.divergence?.field, "prompt");
  assert.equal(report.divergence?.path, "messages[0].content");
  assert.equal(report.divergence?.expected, "Summarise tides in one line.");
  assert.equal(report.divergence?.actual, "Summarise tides in two lines.");
  const line = edited.split("\n").findIndex((l) => l.includes("two lines")) + 1;
  assert.equal(report.divergence?.line, line);
  // Downstream steps got the recorded answer, so nothing else diverges.
  assert.deepEqual(
    report.divergences.map((d) => d.step),
    ["summarize"],
  );
  assert.equal(report.effectsExecuted, 0);
});

test("an edit downstream is reported downstream only, never upstream", async () => {
  const record = await chainRecord();
  const report = await replay(record, CHAIN.replace("Review: ", "Critique: "));
  assert.deepEqual(
    report.divergences.map((d) => [d.step, d.field]),
    [["review", "prompt"]],
  );
});

test("whitespace, comments and layout outside expressions are no divergence", async () => {
  const record = await chainRecord();
  const reformatted =
    "# a comment at the top\n" +
    CHAIN.replace(
      "providers:\n  p:\n    type: scripted\n    default: fine",
      "providers:\n  p: { type: scripted,   default: fine }",
    )
      .replace("steps:\n", "steps:\n\n   # a comment\n")
      .replace(
        '    type: transform\n    expr: \'{"topic": "tides"}\'',
        '    expr:    \'{"topic": "tides"}\'   # same\n    type: transform',
      )
      .replace(/\n/g, "\n") +
    "\n\n";
  assert.notEqual(reformatted, CHAIN);
  const report = await replay(record, reformatted);
  assert.deepEqual(report.divergences, []);
});

test("an edit of an expression's value is a divergence, even in a pure step", async () => {
  const record = await chainRecord();
  const report = await replay(record, CHAIN.replace('"tides"', '"waves"'));
  assert.equal(report.divergence?.step, "fetch");
  assert.equal(report.divergence?.field, "expr");
});

test("a new step in the current file is reported and not run; a removed one is reported", async () => {
  const record = await chainRecord();
  const added = CHAIN.replace(
    "outputs:",
    '  extra:\n    type: llm\n    provider: p\n    prompt: "new"\noutputs:',
  );
  const report = await replay(record, added);
  assert.deepEqual(
    report.divergences.map((d) => [d.step, d.field]),
    [["extra", "step"]],
  );
  assert.equal(report.divergence?.line, added.split("\n").indexOf("  extra:") + 1);
  const removed = await replay(
    record,
    CHAIN.replace(
      / {2}publish:[\s\S]*?outputs:\n {2}text: steps.publish.output.text\n/,
      "outputs:\n  text: steps.review.output\n",
    ),
  );
  assert.deepEqual(
    removed.divergences.map((d) => [d.step, d.field]),
    [["publish", "step"]],
  );
});

test("a changed condition is reported as a condition divergence", async () => {
  const record = await chainRecord();
  const report = await replay(record, CHAIN.replace("  review:\n", '  review:\n    if: "false"\n'));
  assert.equal(report.divergence?.step, "review");
  assert.equal(report.divergence?.field, "condition");
  assert.equal(report.divergence?.expected, "runs");
  assert.equal(report.divergence?.actual, "skipped");
});

test("replay sees the recorded run id, start time and env, and secrets only as their marks", async () => {
  const text = `keel: 1
name: ids
providers:
  oa: { type: openai, model: gpt-test, base_url: "\${{ env.OA_URL }}", api_key: "\${{ secrets.KEY }}" }
steps:
  stamp: { type: transform, expr: 'run.id & " " & run.started_at & " " & env.OA_URL' }
  ask: { type: llm, provider: oa, prompt: "token \${{ secrets.KEY }} at \${{ steps.stamp.output }}" }
`;
  const run = await runText(text, {
    env: { OA_URL: provider.openaiBaseURL },
    secrets: { KEY: "sk-very-secret" },
  });
  assert.equal(run.result.status, "succeeded", run.result.error ?? "");
  const record = await recordOf(run);
  const calls = provider.count();
  const report = await replay(record);
  assert.deepEqual(report.divergences, []);
  assert.equal(provider.count(), calls);
  assertSameOutputs(record, report);
});

test("a record whose answer is a failure replays the failure, retries and fallback as recorded", async () => {
  const path = resolve("samples/provider-fallback.keel.yaml");
  const run = await runText(readFileSync(path, "utf8"), { path });
  const record = await recordOf(run);
  // The sample's retries wait 100ms, its slow answer 2s and its timeout 500ms; a replay waits for
  // none of them: with setTimeout's clock stopped (mocked, never ticked) it still ends. One that
  // waited would never end, so the bound (a real timer, taken before the mock) only names that.
  const realSetTimeout = setTimeout;
  mock.timers.enable({ apis: ["setTimeout"] });
  const report = await Promise.race([
    replay(record),
    new Promise<never>((_, reject) =>
      realSetTimeout(
        () => reject(new Error("the replay waited for a timer (a retry's backoff or a delay)")),
        30_000,
      ).unref(),
    ),
  ]).finally(() => mock.timers.reset());
  assert.equal(report.effectsExecuted, 0);
  assert.deepEqual(
    report.replayed.attempts.map((a) => [a.stepId, a.attempt, a.status, a.errorKind]),
    record.attempts.map((a) => [a.stepId, a.attempt, a.status, a.errorKind]),
  );
  assert.deepEqual(report.divergences, []);
});
