// A worker killed mid-map loses no finished item (docs/team.md, issue #18): a map of 12 model
// calls to an OpenAI-compatible server on 127.0.0.1 (each answer takes 600 ms) runs on one
// `keel worker`, which is killed with SIGKILL once about half the items have succeeded; a second
// worker then takes the run's workflow over and executes it again from DBOS's checkpoints. The run
// succeeds with every item's answer, each item has exactly one succeeded attempt and one success
// in the log, and no item that had finished before the kill was asked of the provider again.
// The same for a map of child runs: each item keeps the one child run it started (its id is taken
// in a checkpoint), and a child run that had finished is not run again.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openPgStore } from "@keel/core/store/pg-store";
import { workspace } from "../helpers/cli";
import { postgresMissing, startPostgres, type ThrowawayPostgres } from "../helpers/postgres";
import { startProviderServer, type ProviderServer } from "../helpers/provider-server";
import type { RecordedRequest } from "../helpers/provider-server";
import {
  assertGapless,
  awaitTakenOver,
  killWorker,
  killWorkers,
  startWorkerProcess,
  submitDetached,
} from "../helpers/workers";
import type { EventRecord } from "@keel/core/record/records";

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

// The same over child runs: each item of the map is a child run whose one step asks the provider.
const nested = `keel: 1
name: map of children
steps:
  numbers: { type: transform, expr: '[0..${ITEMS - 1}]' }
  each:
    type: workflow
    uses: ./ask.keel.yaml
    for_each: steps.numbers.output
    concurrency: 3
    with: { n: "\${{ item }}" }
outputs:
  answers: steps.each.output.answer
`;
const asker = (url: string) => `keel: 1
name: ask
inputs:
  n: { type: number }
providers:
  m:
    type: openai
    model: m-1
    base_url: ${url}
    api_key: \${{ secrets.PROVIDER_KEY }}
steps:
  ask: { type: llm, provider: m, cache: false, prompt: "item \${{ inputs.n }}." }
outputs:
  answer: steps.ask.output
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
});
after(async () => {
  killWorkers();
  await provider?.close();
  server?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `main.keel.yaml` of a fresh workspace on worker `first` alone, kills it (SIGKILL) once
 * `finished` names half the items and another is being asked, starts worker `second` and waits for the run to end. Returns the run, the
 * items finished at the kill, and the store to read it from.
 */
async function killMidway(
  files: Record<string, string>,
  [first, second]: [string, string],
  finished: (events: EventRecord[]) => string[],
) {
  const url = server!.url;
  const dir = workspace(files);
  const effects = join(dir, "effects.log");
  writeFileSync(effects, "");
  provider!.reset();
  provider!.setDefault((r) => ({ reply: `A${itemOf(r)}`, delayMs: 600 }));
  const victim = startWorkerProcess(url, first, dir, effects, [], env);
  await victim.ready;
  const runId = await submitDetached(url, dir, "main.keel.yaml");
  const store = await openPgStore(url, { readOnly: true });
  const deadline = Date.now() + 30_000;
  // Half the items finished, and a request in flight: an item that has not finished was asked.
  for (;;) {
    const ended = finished(await store.events(runId)).length;
    if (ended >= ITEMS / 2 && provider!.requests.length > ended) break;
    assert.ok(Date.now() < deadline, `no progress on ${first}:\n${victim.log()}`);
    await sleep(25);
  }
  await killWorker(victim);
  const done = finished(await store.events(runId));
  assert.ok(done.length < ITEMS, `every item had ended before the kill (${done.length})`);
  const asked = provider!.requests.length;

  const taker = startWorkerProcess(url, second, dir, effects, [], env);
  await taker.ready;
  // The run's workflow was taken over by the second worker, from its checkpoints.
  await awaitTakenOver(store, url, runId, [second, taker], deadline + 60_000);
  const events = await store.events(runId);
  assertGapless(events);
  const run = (await store.getRun(runId))!;
  const outputs = JSON.parse((await store.blob(run.outputsHash!))!) as { answers: string[] };
  assert.deepEqual(
    outputs.answers,
    Array.from({ length: ITEMS }, (_, i) => `A${i}`),
  );
  assert.equal(events.filter((e) => e.type === "expanded").length, 1, "the map was expanded twice");
  process.stdout.write(
    `# ${done.length} of ${ITEMS} items had finished at the kill; ${asked} requests then, ${provider!.requests.length} in all\n`,
  );
  return { runId, done, store, events };
}

/** Asserts a finished item was never asked again, and one in flight at the kill at most twice. */
function askedOnce(done: readonly string[]) {
  for (let i = 0; i < ITEMS; i++) {
    const requests = provider!.requests.filter((r) => itemOf(r) === i).length;
    if (done.includes(`[${i}]`))
      assert.equal(requests, 1, `item ${i} finished, asked ${requests}×`);
    else assert.ok(requests === 1 || requests === 2, `item ${i} asked ${requests}×`);
  }
}

test(
  "a worker killed mid-map: another takes the run over, no finished item runs again, every item succeeds once",
  { skip: missing, timeout: 120_000 },
  async () => {
    const { runId, done, store, events } = await killMidway(
      { "main.keel.yaml": flow(provider!.openaiBaseURL) },
      ["k1", "k2"],
      (log) =>
        log
          .filter((e) => e.stepId === "ask" && e.scope !== null && e.type === "step_succeeded")
          .map((e) => e.scope!),
    );
    try {
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
      }
      askedOnce(done);
    } finally {
      await store.close();
    }
  },
);

test(
  "a worker killed mid-map of child runs: the same child runs are found again, none runs twice, every item succeeds once",
  { skip: missing, timeout: 120_000 },
  async () => {
    killWorkers();
    const { runId, done, store, events } = await killMidway(
      {
        "main.keel.yaml": nested,
        "ask.keel.yaml": asker(provider!.openaiBaseURL),
      },
      ["k3", "k4"],
      (log) => log.filter((e) => e.type === "child_finished").map((e) => e.scope!),
    );
    try {
      for (let i = 0; i < ITEMS; i++) {
        const scope = `[${i}]`;
        const started = events.filter((e) => e.type === "child_started" && e.scope === scope);
        assert.equal(started.length, 1, `item ${i}: ${started.length} child runs`);
        const child = (await store.getRun(String(started[0]!.data?.childRun)))!;
        assert.deepEqual(
          [child.status, child.parentId, child.parentScope],
          ["succeeded", runId, `each${scope}`],
        );
        const childEvents = await store.events(child.id);
        assert.equal(
          childEvents.filter((e) => e.type === "step_succeeded").length,
          1,
          `item ${i}: its child run's step did not succeed once`,
        );
      }
      askedOnce(done);
    } finally {
      await store.close();
    }
  },
);
