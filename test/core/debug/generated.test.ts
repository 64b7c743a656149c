// The replay debugger over generated runs (fast-check): workflows of model calls (a local
// OpenAI-compatible server, a scripted provider with retries and a fallback), HTTP requests, tool
// and shell steps, transforms and assertions, some failing, some skipped, run once for real and
// then debugged end to end. At every stop the Variables are the step-through fold's state, and
// the whole session calls nothing: the servers, the tool and the command count no call.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { MemoryStore } from "@keel/core/store/memory-store";
import { startProviderServer, type ProviderServer } from "../../helpers/provider-server";
import { runText } from "../runner/harness";
import { startHttpServer, TOOL_MODULE, type CountingHttpServer } from "../replay/servers";
import { hostOf, inProcess, launch, moveBy } from "./harness";
import { assertStopMatchesFold, foldOf } from "./oracle";

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

type Kind = "transform" | "assert" | "shell" | "tool" | "http" | "llm" | "scripted";
interface Gen {
  readonly kind: Kind;
  readonly deps: readonly number[];
  readonly fail: boolean;
  readonly skip: boolean;
}

const gen = fc.integer({ min: 1, max: 6 }).chain((n) =>
  fc.tuple(
    ...Array.from({ length: n }, (_, i) =>
      fc.record({
        kind: fc.constantFrom<Kind>(
          "transform",
          "assert",
          "shell",
          "tool",
          "http",
          "llm",
          "scripted",
        ),
        deps: i === 0 ? fc.constant<number[]>([]) : fc.uniqueArray(fc.nat(i - 1), { maxLength: 2 }),
        fail: fc.boolean(),
        skip: fc.boolean().map((b) => b && i > 0),
      }),
    ),
  ),
);

/** A workflow of the generated steps; every effect goes to a counting stand-in. */
function workflow(steps: readonly Gen[], files: { shell: string; tool: string }): string {
  const out = [
    "keel: 1",
    "name: generated",
    "providers:",
    `  oa: { type: openai, model: gpt-test, base_url: "${provider.openaiBaseURL}", api_key: "\${{ secrets.KEY }}" }`,
    "  flaky:",
    "    type: scripted",
    '    responses: [{ match: "fail", error: rate_limit }]',
    "    default: flaky-ok",
    "    retry: { max_attempts: 2, backoff: fixed, initial: 1ms }",
    "    fallback: steady",
    "  steady: { type: scripted, default: steady-ok, model: steady-1 }",
    "steps:",
  ];
  steps.forEach((s, i) => {
    const from = s.deps.map((d) => `steps.s${d}.status`).join(" & ") || '"root"';
    const body: string[] = [];
    if (s.kind === "transform") body.push("type: transform", `expr: '{"v": ${from}, "i": ${i}}'`);
    if (s.kind === "assert") body.push("type: assert", `that: '${s.fail ? "1 = 2" : "1 = 1"}'`);
    if (s.kind === "shell")
      body.push(
        "type: shell",
        `command: [sh, -c, 'echo x >> "$0"; echo "{}"; exit ${s.fail ? 1 : 0}', "${files.shell}"]`,
        "output: { format: json }",
      );
    if (s.kind === "tool")
      body.push(
        "type: tool",
        "uses: ./tool.js#count",
        `with: { file: "${files.tool}", v: '\${{ ${from} }}' }`,
      );
    if (s.kind === "http")
      body.push(
        "type: http",
        `url: "${http.url}/${s.fail ? "fail" : "ok"}"`,
        `query: { x: '\${{ ${from} }}' }`,
      );
    if (s.kind === "llm") body.push("type: llm", "provider: oa", `prompt: 'Say \${{ ${from} }}'`);
    if (s.kind === "scripted")
      body.push(
        "type: llm",
        "provider: flaky",
        `prompt: '${s.fail ? "fail" : "pass"} \${{ ${from} }}'`,
      );
    if (s.fail) body.push("on_error: continue");
    if (s.deps.length > 0) body.push(`needs: [${s.deps.map((d) => `s${d}`).join(", ")}]`);
    if (s.skip) body.push('if: "false"');
    out.push(`  s${i}:`, ...body.map((b) => `    ${b}`));
  });
  return out.join("\n") + "\n";
}

test("120 generated runs: Step Over visits every event in order, Step Back every event in reverse, Variables equal to the fold at each stop, and nothing is called", async () => {
  let runs = 0;
  let events = 0;
  const kinds = new Set<string>();
  await fc.assert(
    fc.asyncProperty(gen, async (steps) => {
      const dir = mkdtempSync(join(tmpdir(), "keel-debug-gen-"));
      const files = { shell: join(dir, "shell.count"), tool: join(dir, "tool.count") };
      writeFileSync(files.shell, "");
      writeFileSync(files.tool, "");
      writeFileSync(join(dir, "tool.js"), TOOL_MODULE);
      const path = join(dir, "flow.keel.yaml");
      writeFileSync(path, workflow(steps, files));
      const store = new MemoryStore();
      const run = await runText("", { path, store, secrets: { KEY: "sk-test-key" } });
      for (const e of await store.events(run.result.runId)) kinds.add(e.type);
      const before = {
        provider: provider.count(),
        http: http.count(),
        shell: readFileSync(files.shell, "utf8"),
        tool: readFileSync(files.tool, "utf8"),
      };
      const fold = await foldOf(store, run.result.runId);
      const a = await inProcess(hostOf(store));
      try {
        const { dc } = a;
        await launch(dc, { runId: run.result.runId, workflow: path });
        await assertStopMatchesFold(dc, fold, store, 0);
        const last = fold.length - 1;
        for (let k = 1; k <= last; k++) {
          const s = await moveBy(dc, "next");
          assert.match(s.body.description ?? "", new RegExp(`^event ${fold.events[k]!.seq} `));
          await assertStopMatchesFold(dc, fold, store, k);
        }
        assert.equal((await moveBy(dc, "next")).body.description, "end of recording");
        for (let k = last - 1; k >= 0; k--) {
          const s = await moveBy(dc, "stepBack");
          assert.match(s.body.description ?? "", new RegExp(`^event ${fold.events[k]!.seq} `));
          await assertStopMatchesFold(dc, fold, store, k);
        }
        // Continue with both failure filters on stops at every failure, Reverse Continue at every
        // one again and then at `run started`.
        const failures = fold.events.filter(
          (e) => e.type === "step_failed" || e.type === "attempt_failed",
        ).length;
        await dc.setExceptionBreakpointsRequest({ filters: ["step-failed", "attempt-failed"] });
        let forward = 0;
        while ((await moveBy(dc, "continue")).body.reason === "exception") forward++;
        let backward = 0;
        while ((await moveBy(dc, "reverseContinue")).body.reason === "exception") backward++;
        assert.deepEqual([forward, backward], [failures, failures]);
        await assertStopMatchesFold(dc, fold, store, 0, false);
        events += fold.length;
      } finally {
        await a.close();
      }
      assert.deepEqual(
        {
          provider: provider.count(),
          http: http.count(),
          shell: readFileSync(files.shell, "utf8"),
          tool: readFileSync(files.tool, "utf8"),
        },
        before,
        "the debug session called nothing",
      );
      runs++;
    }),
    { numRuns: 120 },
  );
  assert.equal(runs, 120);
  for (const k of ["attempt_failed", "step_failed", "step_skipped", "step_succeeded"])
    assert.ok(kinds.has(k), `the generated runs include ${k}`);
  assert.ok(events > 120 * 4, `${events} events stepped through`);
});
