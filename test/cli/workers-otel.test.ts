// A worker's `--otel` with child runs (docs/dev/production-mode.md, "OpenTelemetry export"): a
// worker ends child runs as runs of their own, but sends each only inside its parent's trace,
// under the attempt that started it, never as a trace of its own.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { traceIdOf } from "@keel/core/otel/export";
import { workspace } from "../helpers/cli";
import { keelAsync, startReceiver } from "../helpers/otlp";
import { postgresMissing, startPostgres, type ThrowawayPostgres } from "../helpers/postgres";
import { killWorkers, startWorkerProcess } from "../helpers/workers";

const missing = postgresMissing();
let server: ThrowawayPostgres | undefined;
before(async () => {
  if (!missing) server = await startPostgres();
});
after(() => {
  killWorkers();
  server?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(
  "a worker's --otel sends a child run in its parent's trace only",
  { skip: missing, timeout: 120_000 },
  async () => {
    const receiver = await startReceiver();
    const url = server!.url;
    const dir = workspace({
      "parent.keel.yaml": `keel: 1
name: parent
steps:
  one: { type: workflow, uses: ./child.keel.yaml, with: { n: 2 } }
`,
      "child.keel.yaml": `keel: 1
name: child
inputs:
  n: { type: number }
steps:
  double: { type: transform, expr: inputs.n * 2 }
outputs:
  n: steps.double.output
`,
    });
    const w = startWorkerProcess(url, "solo", dir, join(dir, "effects.log"), [
      "--otel",
      receiver.endpoint,
    ]);
    try {
      await w.ready;
      const r = await keelAsync(["run", "parent.keel.yaml", "--on", url, "--json"], dir);
      assert.equal(r.code, 0, r.stderr);
      const runId = JSON.parse(r.stdout).runId as string;
      const inTrace = () => receiver.spans.filter((s) => s.traceId === traceIdOf(runId));
      for (let i = 0; inTrace().length === 0 && i < 100; i++) await sleep(100);
      const spans = inTrace();
      const child = spans.find((s) => s.name === "invoke_workflow child");
      assert.ok(child, spans.map((s) => s.name).join(", "));
      const attempt = spans.find((s) => s.spanId === child.parentSpanId)!;
      assert.equal(attempt.name, "attempt 1");
      assert.equal(attempt.attributes["keel.step.id"], "one");
      const childId = String(child.attributes["keel.run.id"]);
      // The child ended before its parent: had it been sent alone, it would be here by now.
      assert.deepEqual(
        receiver.spans.filter((s) => s.traceId === traceIdOf(childId)),
        [],
      );
      assert.equal(receiver.spans.filter((s) => s.name === "invoke_workflow child").length, 1);
    } finally {
      await receiver.close();
      const stopped = new Promise((resolve) => w.child.once("exit", resolve));
      w.child.kill("SIGTERM");
      assert.equal(await stopped, 0);
    }
  },
);
