// A worker killed mid-agent loses no finished turn (docs/team.md, issue #20): an agent against an
// OpenAI-compatible server on 127.0.0.1 (each reply takes 700 ms; turns 1 to 4 call a tool, turn
// 5 answers) runs on one `keel worker`, killed with SIGKILL once turn 2 and its tool call have
// ended and turn 3's model call is in flight. A second worker takes the run's workflow over from
// DBOS's checkpoints: the run succeeds with the answer, turns 1 and 2 were not asked of the
// provider again (requests counted by their turn in the conversation), turn 3 at most twice, and
// every scope of the agent has exactly one succeeded attempt and one success in the log.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
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

const TURNS = 5;
const flow = (url: string) => `keel: 1
name: long agent
providers:
  m:
    type: openai
    model: m-1
    base_url: ${url}
    api_key: \${{ secrets.PROVIDER_KEY }}
steps:
  research:
    type: agent
    provider: m
    cache: false
    prompt: "Question: what is keel?"
    max_turns: 6
    tools:
      search:
        uses: ./tools.js#search
        parameters:
          type: object
          required: [query]
          properties: { query: { type: string } }
outputs:
  answer: steps.research.output
  calls: $count(steps.research.turns.tool_calls)
`;
const TOOLS = `const { appendFileSync } = require("node:fs");
exports.search = async (args) => {
  appendFileSync(process.env.KEEL_TEST_EFFECTS, "search " + args.query + "\\n");
  return { hits: ["doc-" + args.query] };
};
`;

const missing = postgresMissing();
let server: ThrowawayPostgres | undefined;
let provider: ProviderServer | undefined;
const env = { KEEL_SECRET_PROVIDER_KEY: "sk-team-secret" };

/** Which model call of the conversation a request is: one more than the assistant's messages. */
const turnOf = (r: RecordedRequest) =>
  (r.messages as { role: string }[]).filter((m) => m.role === "assistant").length + 1;

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

test(
  "a worker killed while an agent's turn 3 is in flight: another takes the run over, turns 1 and 2 are not asked again, every scope succeeds once",
  { skip: missing, timeout: 120_000 },
  async () => {
    const url = server!.url;
    const dir = workspace({ "main.keel.yaml": flow(provider!.openaiBaseURL), "tools.js": TOOLS });
    const effects = join(dir, "effects.log");
    writeFileSync(effects, "");
    provider!.setDefault((r) => {
      const turn = turnOf(r);
      return turn < TURNS
        ? {
            toolCalls: [{ name: "search", arguments: { query: `q${turn}` }, id: `call_${turn}` }],
            delayMs: 700,
          }
        : { reply: "Keel runs workflows.", delayMs: 700 };
    });
    const victim = startWorkerProcess(url, "g1", dir, effects, [], env);
    await victim.ready;
    const runId = await submitDetached(url, dir, "main.keel.yaml");
    const store = await openPgStore(url, { readOnly: true });
    try {
      const deadline = Date.now() + 30_000;
      const succeeded = async () =>
        (await store.events(runId))
          .filter((e) => e.type === "step_succeeded" && e.scope !== null)
          .map((e) => e.scope!);
      // Turn 2 and its call have ended, and turn 3's model call has reached the server.
      for (;;) {
        const ended = await succeeded();
        if (ended.includes("#2/search.0") && provider!.requests.some((r) => turnOf(r) === 3)) break;
        assert.ok(Date.now() < deadline, `no progress on g1:\n${victim.log()}`);
        await sleep(20);
      }
      await killWorker(victim);
      const atKill = await succeeded();
      assert.ok(!atKill.includes("#3"), `turn 3 had ended before the kill: ${atKill.join(", ")}`);

      const taker = startWorkerProcess(url, "g2", dir, effects, [], env);
      await taker.ready;
      await awaitTakenOver(store, url, runId, ["g2", taker], deadline + 60_000);

      const run = (await store.getRun(runId))!;
      const outputs = JSON.parse((await store.blob(run.outputsHash!))!) as Record<string, unknown>;
      assert.deepEqual(outputs, { answer: "Keel runs workflows.", calls: TURNS - 1 });
      // The provider, by turn of the conversation: what had ended was never asked again.
      const asked = (turn: number) => provider!.requests.filter((r) => turnOf(r) === turn).length;
      assert.equal(asked(1), 1, "turn 1 was asked again");
      assert.equal(asked(2), 1, "turn 2 was asked again");
      assert.ok(asked(3) === 1 || asked(3) === 2, `turn 3 asked ${asked(3)}×`);
      for (let t = 4; t <= TURNS; t++) assert.equal(asked(t), 1, `turn ${t} asked ${asked(t)}×`);
      // The tools of turns 1 and 2 ran once; every call ran.
      const searches = readFileSync(effects, "utf8").trim().split("\n");
      for (let t = 1; t < TURNS; t++)
        assert.equal(searches.filter((x) => x === `search q${t}`).length, 1, `search q${t}`);

      const events = await store.events(runId);
      assertGapless(events);
      const attempts = await store.attempts(runId);
      const scopes = [
        ...Array.from({ length: TURNS }, (_, i) => `#${i + 1}`),
        ...Array.from({ length: TURNS - 1 }, (_, i) => `#${i + 1}/search.0`),
      ];
      for (const scope of scopes) {
        assert.equal(
          attempts.filter((a) => a.scope === scope && a.status === "succeeded").length,
          1,
          `${scope}: not exactly one succeeded attempt`,
        );
        assert.equal(
          events.filter((e) => e.scope === scope && e.type === "step_succeeded").length,
          1,
          `${scope}: not exactly one success`,
        );
      }
      assert.deepEqual(
        [...new Set(attempts.map((a) => a.scope))].sort(),
        [...scopes].sort(),
        "an attempt outside the agent's scopes",
      );
      const own = events.filter((e) => e.scope === null && e.stepId === "research");
      assert.deepEqual(
        own.map((e) => [e.type, e.data?.turns ?? null, e.data?.stopReason ?? null]),
        [
          ["step_started", null, null],
          ["step_succeeded", TURNS, "answer"],
        ],
      );
      process.stdout.write(
        `# ${atKill.length} scopes had ended at the kill; ${provider!.requests.length} requests in all\n`,
      );
    } finally {
      await store.close();
    }
  },
);
