// A worker killed mid-map loses no finished item (docs/team.md, issue #18): a map of 12 model
// calls to an OpenAI-compatible server on 127.0.0.1 (each answer takes 600 ms) runs on one
// `keel worker`, which is killed with SIGKILL once about half the items have succeeded; a second
// worker then takes the run's workflow over and executes it again from DBOS's checkpoints. The run
// succeeds with every item's answer, each item has exactly one succeeded attempt and one success
// in the log, and no item that had finished before the kill was asked of the provider again.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { openPgStore } from "@keel/core/store/pg-store";
import { workspace } from "../helpers/cli";
import { keelAsync } from "../helpers/otlp";
import { postgresMissing, startPostgres, type ThrowawayPostgres } from "../helpers/postgres";
import { startProviderServer, type ProviderServer } from "../helpers/provider-server";
import type { RecordedRequest } from "../helpers/provider-server";
import { killWorkers, startWorkerProcess } from "../helpers/workers";

const ITEMS = 12;
const flow = (url: string) => `keel: 1
name: long map
providers:
  m:
    type: openai
    model: m-1
    base_url: ${url}
    api_key: \${{ secrets.PROVIDER_KEY }}
steps:
  numbers: { type: transform, expr: '[0..${ITEMS - 1}]' }
  ask:
    type: llm
    provider: m
    for_each: steps.numbers.output
    concurrency: 3
    cache: false
    prompt: "item \${{ item }}."
outputs:
  answers: steps.ask.output
`;

const missing = postgresMissing();
let server: ThrowawayPostgres | undefined;
let provider: ProviderServer | undefined;
const env = { KEEL_SECRET_PROVIDER_KEY: "sk-team-secret" };

/** The item a request asks about. */
const itemOf = (r: RecordedRequest) => Number(/item (\d+)\./.exec(JSON.stringify(r.messages))?.[1]);

before(async () => {
  if (missing) return;
  server = await startPostgres();
  provider = await startProviderServer();
  provider.setDefault((r) => ({ reply: `A${itemOf(r)}`, delayMs: 600 }));
});
after(async () => {
  killWorkers();
  await provider?.close();
  server?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(
  "a worker killed mid-map: another takes the run over, no finished item runs again, every item succeeds once",
  { skip: missing, timeout: 120_000 },
  async () => {
    const url = server!.url;
    const dir = workspace({ "map.keel.yaml": flow(provider!.openaiBaseURL) });
    const effects = join(dir, "effects.log");
    writeFileSync(effects, "");
    const first = startWorkerProcess(url, "k1", dir, effects, [], env);
    await first.ready;
    const submitted = await keelAsync(
      ["run", "map.keel.yaml", "--on", url, "--detach", "--json"],
      dir,
    );
    assert.equal(submitted.code, 0, submitted.stderr);
    const { runId } = JSON.parse(submitted.stdout) as { runId: string };

    const store = await openPgStore(url, { readOnly: true });
    try {
      const succeeded = async () =>
        (await store.events(runId)).filter(
          (e) => e.stepId === "ask" && e.scope !== null && e.type === "step_succeeded",
        );
      // Kill k1 once about half the items have succeeded.
      const deadline = Date.now() + 30_000;
      while ((await succeeded()).length < ITEMS / 2) {
        assert.ok(Date.now() < deadline, `no progress on k1:\n${first.log()}`);
        await sleep(25);
      }
      first.child.kill("SIGKILL");
      await new Promise((r) => first.child.once("exit", r));
      const done = (await succeeded()).map((e) => e.scope);
      assert.ok(done.length < ITEMS, `every item had ended before the kill (${done.length})`);
      const asked = provider!.requests.length;

      const second = startWorkerProcess(url, "k2", dir, effects, [], env);
      await second.ready;
      for (;;) {
        const run = (await store.getRun(runId))!;
        if (run.status !== "running") {
          assert.equal(run.status, "succeeded", `${run.error}\n${second.log()}`);
          break;
        }
        assert.ok(Date.now() < deadline + 60_000, `the run never ended:\n${second.log()}`);
        await sleep(100);
      }

      // The run's workflow was taken over by k2, from its checkpoints.
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      const owner = await db.query(
        "SELECT executor_id, status FROM dbos.workflow_status WHERE workflow_uuid = $1",
        [runId],
      );
      await db.end();
      assert.deepEqual(owner.rows[0], { executor_id: "k2", status: "SUCCESS" });

      const events = await store.events(runId);
      assert.deepEqual(
        events.map((e) => e.seq),
        events.map((_, i) => i + 1),
        "the log has a gap or a repeat",
      );
      const run = (await store.getRun(runId))!;
      const outputs = JSON.parse((await store.blob(run.outputsHash!))!) as { answers: string[] };
      assert.deepEqual(
        outputs.answers,
        Array.from({ length: ITEMS }, (_, i) => `A${i}`),
      );
      const attempts = (await store.attempts(runId)).filter((a) => a.stepId === "ask");
      for (let i = 0; i < ITEMS; i++) {
        const scope = `[${i}]`;
        assert.equal(
          attempts.filter((a) => a.scope === scope && a.status === "succeeded").length,
          1,
          `item ${i}: not exactly one succeeded attempt`,
        );
        assert.equal(
          events.filter((e) => e.scope === scope && e.type === "step_succeeded").length,
          1,
          `item ${i}: not exactly one success`,
        );
        const requests = provider!.requests.filter((r) => itemOf(r) === i).length;
        // A finished item is never asked again; one in flight at the kill is asked again once.
        if (done.includes(scope))
          assert.equal(requests, 1, `item ${i} finished, asked ${requests}×`);
        else assert.ok(requests === 1 || requests === 2, `item ${i} asked ${requests}×`);
      }
      assert.equal(
        events.filter((e) => e.stepId === "ask" && e.type === "expanded").length,
        1,
        "the map was expanded twice",
      );
      process.stdout.write(
        `# ${done.length} of ${ITEMS} items had succeeded at the kill; ${asked} requests then, ${provider!.requests.length} in all\n`,
      );
    } finally {
      await store.close();
    }
  },
);
