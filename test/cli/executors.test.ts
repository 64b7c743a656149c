// The Executor seam (docs/dev/production-mode.md, "The local executor"): the local executor (the
// runner in this process, into SQLite) and the DBOS executor (a `keel worker` on a throw-away
// PostgreSQL) keep one contract: a run id starts one run however often it is submitted; a handle
// yields the run's events in sequence, each once, up to `run_finished`, and the record once it has
// ended; a handle attached later reads the same; a cancel ends a running run `cancelled` with its
// unfinished steps cancelled, and says false for a run that had ended.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDbosExecutor } from "@keel/workers";
import { LocalExecutor } from "@keel/core/executor/local";
import type { Executor, RunSpec } from "@keel/core/executor/executor";
import { loadWorkflow } from "@keel/core/runner/load";
import { newRunId } from "@keel/core/store/ids";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import type { EventRecord } from "@keel/core/record/records";
import { workspace } from "../helpers/cli";
import { postgresMissing, startPostgres, type ThrowawayPostgres } from "../helpers/postgres";
import { killWorkers, startWorkerProcess } from "../helpers/workers";

const dir = workspace({
  "pair.keel.yaml": `keel: 1
name: pair
inputs:
  n: { type: number }
providers:
  m: { type: scripted, model: m-1, default: "seven" }
steps:
  ask: { type: llm, provider: m, prompt: "Count \${{ inputs.n }}" }
  wait:
    type: tool
    uses: ./wait.js#wait
    with: { ms: "\${{ inputs.n }}", after: "\${{ steps.ask.output }}" }
  both: { type: transform, expr: 'steps.ask.output & " " & $string(steps.wait.output)' }
outputs:
  both: steps.both.output
`,
  "wait.js": `exports.wait = async (args) => { await new Promise((r) => setTimeout(r, args.ms)); return args.ms; };\n`,
});
const loaded = loadWorkflow(join(dir, "pair.keel.yaml"));
assert.ok(loaded.ok);
const spec = (n: number): RunSpec => ({
  runId: newRunId(),
  workflowPath: loaded.loaded.path,
  source: loaded.loaded.source,
  inputs: { n },
  env: {},
});

const missing = postgresMissing();
let server: ThrowawayPostgres | undefined;
before(async () => {
  if (missing) return;
  server = await startPostgres();
  writeFileSync(join(dir, "effects.log"), "");
  await startWorkerProcess(server.url, "x1", dir, join(dir, "effects.log")).ready;
});
after(() => {
  killWorkers();
  server?.stop();
});

async function collect(events: AsyncIterable<EventRecord>): Promise<EventRecord[]> {
  const out: EventRecord[] = [];
  for await (const e of events) out.push(e);
  return out;
}

async function contract(open: () => Promise<Executor>): Promise<void> {
  const executor = await open();
  try {
    // One run per id, its events in order, once each, up to its end.
    const s = spec(20);
    const handle = await executor.start(s);
    await executor.start(s);
    const events = await collect(handle.events());
    assert.deepEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i + 1),
    );
    assert.equal(events.at(-1)!.type, "run_finished");
    const run = await handle.ended();
    assert.equal(run.status, "succeeded");
    assert.equal(events.filter((e) => e.type === "run_started").length, 1);
    // A handle attached later, from another executor on the same store, reads the same.
    const other = await open();
    try {
      assert.deepEqual(await collect(other.attach(s.runId).events()), events);
      assert.deepEqual(await collect(other.attach(s.runId).events(3)), events.slice(3));
    } finally {
      await other.close();
    }
    assert.equal(await executor.cancel(s.runId), false);

    // A cancel while the tool waits: the run ends cancelled, its unfinished steps cancelled.
    const long = await executor.start(spec(5_000));
    const seen: EventRecord[] = [];
    for await (const e of long.events()) {
      seen.push(e);
      if (e.type === "step_started" && e.stepId === "wait") break;
    }
    assert.equal(await executor.cancel(long.runId), true);
    const ended = await long.ended();
    assert.equal(ended.status, "cancelled");
    const rest = await collect(long.events(seen.at(-1)!.seq));
    const ends = new Map(
      [...seen, ...rest]
        .filter((e) => e.stepId && e.type !== "step_started")
        .map((e) => [e.stepId, e.type]),
    );
    assert.deepEqual(Object.fromEntries(ends), {
      ask: "step_succeeded",
      wait: "step_cancelled",
      both: "step_cancelled",
    });
    assert.deepEqual(rest.at(-1)!.data, { status: "cancelled", error: "the run was cancelled" });
  } finally {
    await executor.close();
  }
}

test("the local executor keeps the Executor contract (SQLite store)", async () => {
  const store = openSqliteStore(join(dir, ".keel", "runs.sqlite"));
  try {
    await contract(async () => new LocalExecutor({ store }));
  } finally {
    await store.close();
  }
});

test(
  "the DBOS executor keeps the Executor contract (a keel worker, PostgreSQL)",
  { skip: missing, timeout: 120_000 },
  async () => {
    const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    await contract(() => openDbosExecutor(server!.url, { keelVersion: version, pollMs: 25 }));
  },
);
