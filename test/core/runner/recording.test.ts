// What a run leaves in the store: every sample recorded and replayable data, effects that start only
// after their inputs are committed, no secret anywhere in the file, and the findings.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import type { RunStore } from "@keel/core/store/run-store";
import { runText, stepOf, writeWorkflow } from "./harness";

const storeFile = () => join(mkdtempSync(join(tmpdir(), "keel-rec-")), "runs.sqlite");

for (const name of readdirSync("samples").filter((f) => f.endsWith(".keel.yaml"))) {
  test(`sample ${name} runs offline and succeeds, with a gapless event log`, async () => {
    const store = openSqliteStore(storeFile());
    const path = resolve("samples", name);
    const run = await runText(readFileSync(path, "utf8"), { path, store });
    assert.equal(run.result.status, "succeeded", run.result.error ?? "");
    const events = await store.events(run.result.runId);
    assert.deepEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i + 1),
    );
    assert.equal(events[0]!.type, "run_started");
    assert.equal(events.at(-1)!.type, "run_finished");
    const record = await store.getRun(run.result.runId);
    assert.equal(await store.blob(record!.sourceHash), readFileSync(path, "utf8"));
    await store.close();
  });
}

test("an effect starts only after the results it depends on are committed", async () => {
  const file = storeFile();
  const store = openSqliteStore(file);
  const seen: boolean[] = [];
  const run = await runText(
    `keel: 1
name: t
steps:
  a: { type: transform, expr: '"from a"' }
  b: { type: transform, expr: 'steps.a.output & "!"' }
  c: { type: shell, command: [node, -e, "console.log(1)", "\${{ steps.b.output }}"] }
`,
    {
      store,
      wrap: (base) => ({
        ...base,
        shell: async (cmd, signal) => {
          // Read what is durably in the file right now, from a second connection.
          const other: RunStore = openSqliteStore(file);
          const runs = await other.listRuns();
          const events = await other.events(runs[0]!.id);
          seen.push(events.some((e) => e.type === "step_succeeded" && e.stepId === "b"));
          await other.close();
          return base.shell(cmd, signal);
        },
      }),
    },
  );
  assert.equal(run.result.status, "succeeded");
  assert.deepEqual(seen, [true]);
  await store.close();
});

test("a secret's value never reaches the store file, in any encoding", async () => {
  const secret = "s3cr3t-V@lue/with+chars";
  const file = storeFile();
  const store = openSqliteStore(file);
  const run = await runText(
    `keel: 1
name: t
steps:
  use:
    type: shell
    command: [node, -e, "const v = process.argv[1]; console.log(JSON.stringify({plain: v, b64: Buffer.from(v).toString('base64'), url: encodeURIComponent(v)}))", "\${{ secrets.TOKEN }}"]
    output: { format: json }
  echo: { type: transform, expr: '{"copy": steps.use.output.stdout.plain, "json": $string(steps.use.output)}' }
  fail: { type: assert, that: 'false', message: "token was \${{ secrets.TOKEN }}", on_error: continue }
`,
    { store, secrets: { TOKEN: secret } },
  );
  assert.equal(run.result.status, "succeeded");
  await store.close();
  const dir = join(file, "..");
  for (const f of readdirSync(dir)) {
    const bytes = readFileSync(join(dir, f)).toString("latin1");
    for (const form of [
      secret,
      Buffer.from(secret).toString("base64"),
      encodeURIComponent(secret),
      JSON.stringify(secret).slice(1, -1),
    ]) {
      assert.equal(bytes.includes(form), false, `${f} contains ${form}`);
    }
  }
  const check = openSqliteStore(file);
  const events = await check.events(run.result.runId);
  const failed = events.find((e) => e.type === "step_failed")!;
  assert.equal(failed.data!.message, "assertion failed: token was «secret:TOKEN»");
  await check.close();
});

test("two steps reading different versions of one source give a stale_context finding; strict fails the run", async () => {
  const text = (consistency: string) => `keel: 1
name: t
consistency: ${consistency}
steps:
  read_a: { type: transform, expr: '{"v": "kb-1"}', snapshot: { source: kb, version: output.v } }
  read_b: { type: transform, expr: '{"v": "kb-2"}', snapshot: { source: kb, version: output.v } }
`;
  const warn = await runText(text("warn"));
  assert.equal(warn.result.status, "succeeded");
  assert.deepEqual(warn.result.findings, [
    {
      kind: "stale_context",
      message: `steps 'read_a' and 'read_b' read different versions of 'kb': "kb-1" and "kb-2"`,
    },
  ]);
  assert.equal((await warn.store.findings(warn.result.runId)).length, 1);
  const strict = await runText(text("strict"));
  assert.equal(strict.result.status, "failed");
  assert.match(strict.result.error!, /^stale context \(consistency: strict\)/);
});

test("a changed served model is a provider_drift finding on the next run of the same workflow", async () => {
  const store = openSqliteStore(storeFile());
  const flow = (model: string) => `keel: 1
name: t
providers:
  p: { type: scripted, default: ok, model: ${model} }
steps:
  ask: { type: llm, prompt: hi, cache: false }
`;
  const path = writeWorkflow(flow("model-a"));
  const first = await runText(flow("model-a"), { store, path });
  assert.deepEqual(first.result.findings, []);
  const { writeFileSync } = await import("node:fs");
  writeFileSync(path, flow("model-b"));
  const second = await runText(flow("model-b"), { store, path });
  assert.equal(second.result.status, "succeeded");
  assert.deepEqual(
    second.result.findings.map((f) => f.kind),
    ["provider_drift"],
  );
  assert.match(
    second.result.findings[0]!.message,
    /served model changed from model-a \(run .+\) to model-b/,
  );
  assert.equal(stepOf(second, "ask").status, "succeeded");
  await store.close();
});
