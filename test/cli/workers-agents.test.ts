// Agents on a team's workers (docs/team.md, issue #20): on two `keel worker` processes and a
// throw-away PostgreSQL, an agent with a JS tool and a child-workflow tool, whose model refuses
// itself a call (arguments that fail the tool's parameters), and a map of agents whose calls run
// at once (`parallel_tool_calls`, one call to a tool that does not exist) give the outputs,
// scopes, events and attempts of a local run of the same file (keel diff's comparison, and each
// scope's record). Each model call is an attempt on its provider's queue and each tool call one
// on the queue its kind uses, with ids in the style of a map's items; a turn's input is stored
// as a link to the turn before; the child workflow's file travels with the run.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import pg from "pg";
import { openPgStore } from "@keel/core/store/pg-store";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { readRecordedRun } from "@keel/core/replay/record";
import { diffRuns } from "@keel/core/replay/diff";
import type { RunStore } from "@keel/core/store/run-store";
import { keel } from "../helpers/cli";
import { keelAsync } from "../helpers/otlp";
import { postgresMissing } from "../helpers/postgres";
import { killWorkers, startTeam, type Team } from "../helpers/workers";

const TOOLS_YAML = `    tools:
      search:
        description: Search the knowledge base.
        uses: ./tools.js#search
        parameters:
          type: object
          required: [query]
          properties: { query: { type: string } }
      lookup:
        workflow: ./lookup.keel.yaml
`;
const LIMIT_TOOLS = `    tools:
      search:
        uses: ./tools.js#search
        parameters: { type: object, properties: { query: { type: string } } }
      broken:
        uses: ./tools.js#broken
        parameters: { type: object }
`;
const AGENT = `keel: 1
name: agents on workers
providers:
  model:
    type: scripted
    concurrency: 2
    responses:
      - turn: 1
        match: "Question"
        tool_calls:
          - { name: search, arguments: { query: keel } }
          - { name: lookup, arguments: { id: 7 } }
          - { name: search, arguments: { q: 1 } }
      - turn: 2
        match: "Question"
        reply: Keel runs workflows.
      - turn: 1
        match: "Topic"
        tool_calls:
          - { name: lookup, arguments: { id: 1 } }
          - { name: nope, arguments: {} }
          - { name: search, arguments: { query: topic } }
      - turn: 2
        match: "Topic"
        reply: '{"done": true}'
steps:
  research:
    type: agent
    provider: model
    # Long enough that a link to it is shorter than the next turn's input.
    prompt: "Question: what is keel? ${"Keel is a workflow runner. ".repeat(40)}"
    max_turns: 3
${TOOLS_YAML}  each:
    type: agent
    provider: model
    for_each: '["a", "b"]'
    prompt: "Topic: \${{ item }}"
    max_turns: 2
    parallel_tool_calls: true
    output: { format: json }
${TOOLS_YAML}  calls:
    type: transform
    expr: '$count(steps.research.turns.tool_calls)'
outputs:
  answer: steps.research.output
  stop: steps.research.stop_reason
  turns: steps.research.turns
  each: steps.each.output
  calls: steps.calls.output
`;
// The limits and tool_errors: each agent fails (kept by on_error: continue) or answers as locally.
const LIMITS = `keel: 1
name: limits on workers
providers:
  model:
    type: scripted
    responses:
      - match: Capped
        reply: My best answer.
        tool_calls: [{ name: search, arguments: { query: more } }]
      - match: "/Stuck|Spent/"
        tool_calls: [{ name: search, arguments: { query: again } }]
      - match: Broke
        tool_calls: [{ name: broken, arguments: {} }]
defaults:
  agent: { retry: { max_attempts: 1 } }
steps:
  capped:
    type: agent
    provider: model
    prompt: Capped
    max_turns: 1
    on_max_turns: answer
${LIMIT_TOOLS}  stuck:
    type: agent
    provider: model
    prompt: Stuck
    max_turns: 2
    on_error: continue
${LIMIT_TOOLS}  broke:
    type: agent
    provider: model
    prompt: Broke
    max_turns: 3
    tool_errors: fail
    on_error: continue
${LIMIT_TOOLS}  spent:
    type: agent
    provider: model
    prompt: Spent
    max_turns: 5
    budget: { tokens: 5 }
    on_error: continue
${LIMIT_TOOLS}outputs:
  capped: '[steps.capped.output, steps.capped.stop_reason]'
  stuck: '[steps.stuck.status, steps.stuck.stop_reason, $count(steps.stuck.turns)]'
  broke: '[steps.broke.status, steps.broke.stop_reason]'
  spent: '[steps.spent.status, steps.spent.stop_reason, $count(steps.spent.turns)]'
`;
const LOOKUP = `keel: 1
name: lookup
description: Look a record up by its id.
inputs:
  id: { type: number }
steps:
  find: { type: tool, uses: ./tools.js#find, with: { id: "\${{ inputs.id }}" } }
outputs:
  record: steps.find.output
`;
const TOOLS = `const { appendFileSync } = require("node:fs");
const note = (line) => appendFileSync(process.env.KEEL_TEST_EFFECTS, line + "\\n");
exports.search = async (args) => {
  note("search " + args.query);
  return { hits: ["doc-" + args.query] };
};
exports.broken = async () => {
  throw new Error("the index is down");
};
exports.find = async (args) => {
  note("find " + args.id);
  return { id: args.id, name: "record " + args.id };
};
`;

const missing = postgresMissing();
let team: Team | undefined;
let dir = "";
let url = "";

before(async () => {
  if (missing) return;
  team = await startTeam(
    {
      "agent.keel.yaml": AGENT,
      "limits.keel.yaml": LIMITS,
      "lookup.keel.yaml": LOOKUP,
      "tools.js": TOOLS,
    },
    ["a1", "a2"],
  );
  ({ url, dir } = team);
});
after(() => {
  killWorkers();
  team?.server.stop();
});

/**
 * Each scope of `steps` in a run's record: its events (type, attempt, and a failure's kind and
 * message, an agent's turns, stop reason and transcript) and its attempts (number, status, input
 * and output).
 */
async function scopesOf(store: RunStore, runId: string, steps: readonly string[]) {
  const out: Record<string, { events: unknown[]; attempts: unknown[] }> = {};
  const of = (stepId: string, scope: string | null) =>
    (out[`${stepId}${scope ?? ""}`] ??= { events: [], attempts: [] });
  for (const e of await store.events(runId)) {
    if (e.stepId === null || !steps.includes(e.stepId)) continue;
    const d = e.data ?? {};
    of(e.stepId, e.scope).events.push([
      e.type,
      e.attempt,
      ...(e.type === "step_failed" ? [d.kind, d.message] : []),
      ...(e.type === "step_succeeded" && e.attempt === null
        ? [d.output, d.turns ?? null, d.stopReason ?? null, d.transcript ?? null]
        : []),
    ]);
  }
  for (const a of await store.attempts(runId)) {
    if (!steps.includes(a.stepId)) continue;
    of(a.stepId, a.scope).attempts.push([
      a.attempt,
      a.status,
      a.inputHash,
      a.outputHash,
      a.errorKind,
    ]);
  }
  return out;
}

test(
  "an agent on the workers: each model call and tool call an attempt on its queue, refusals, a child-workflow tool and parallel calls recorded as a local run records them",
  { skip: missing, timeout: 120_000 },
  async () => {
    const remote = await keelAsync(["run", "agent.keel.yaml", "--on", url, "--json"], dir);
    const local = keel(["run", "agent.keel.yaml", "--json"], dir, {
      KEEL_TEST_EFFECTS: join(dir, "local-effects.log"),
    });
    assert.equal(remote.code, 0, remote.stderr + remote.stdout);
    assert.equal(local.code, 0, local.stderr + local.stdout);
    const r = JSON.parse(remote.stdout) as { runId: string; outputs: Record<string, unknown> };
    const l = JSON.parse(local.stdout) as { runId: string; outputs: Record<string, unknown> };
    assert.deepEqual(r.outputs, l.outputs);
    assert.equal(r.outputs.answer, "Keel runs workflows.");
    assert.equal(r.outputs.stop, "answer");
    assert.equal(r.outputs.calls, 3);
    assert.deepEqual(r.outputs.each, [{ done: true }, { done: true }]);
    const turns = r.outputs.turns as {
      tool_calls: { name: string; status: string; output: unknown; error?: { kind: string } }[];
    }[];
    assert.deepEqual(
      turns[0]!.tool_calls.map((c) => [c.name, c.status, c.error?.kind ?? null]),
      [
        ["search", "succeeded", null],
        ["lookup", "succeeded", null],
        ["search", "failed", "invalid_arguments"],
      ],
    );
    assert.deepEqual(turns[0]!.tool_calls[1]!.output, { record: { id: 7, name: "record 7" } });

    const pgStore = await openPgStore(url, { readOnly: true });
    const sqlite = openSqliteStore(join(dir, ".keel", "runs.sqlite"));
    try {
      // keel diff's comparison, then each scope's record, side by side.
      const theirs = (await readRecordedRun(pgStore, r.runId))!;
      const mine = (await readRecordedRun(sqlite, l.runId))!;
      assert.equal(diffRuns(mine, theirs).firstDivergence, null);
      const remoteScopes = await scopesOf(pgStore, r.runId, ["research", "each"]);
      const localScopes = await scopesOf(sqlite, l.runId, ["research", "each"]);
      assert.deepEqual(remoteScopes, localScopes);
      assert.deepEqual(Object.keys(remoteScopes).sort(), [
        "each",
        "each[0]",
        "each[0]#1",
        "each[0]#1/lookup.0",
        "each[0]#1/nope.1",
        "each[0]#1/search.2",
        "each[0]#2",
        "each[1]",
        "each[1]#1",
        "each[1]#1/lookup.0",
        "each[1]#1/nope.1",
        "each[1]#1/search.2",
        "each[1]#2",
        "research",
        "research#1",
        "research#1/lookup.1",
        "research#1/search.0",
        "research#1/search.2",
        "research#2",
      ]);
      // A refused call: started and failed, with no attempt, the model told why.
      assert.deepEqual(remoteScopes["research#1/search.2"], {
        events: [
          ["step_started", null],
          [
            "step_failed",
            null,
            "invalid_arguments",
            "the arguments of search do not fit its parameters: must have required property 'query'",
          ],
        ],
        attempts: [],
      });
      // The workflow tool's call is a child run of the parent's, at the call's scope.
      const events = await pgStore.events(r.runId);
      const child = events.find((e) => e.type === "child_started" && e.scope === "#1/lookup.1")!;
      const childRun = (await pgStore.getRun(String(child.data?.childRun)))!;
      assert.deepEqual(
        [childRun.status, childRun.parentId, childRun.parentScope],
        ["succeeded", r.runId, "research#1/lookup.1"],
      );
      // Turn 2's input is stored as a link to turn 1's, and read back whole.
      const second = (await pgStore.attempts(r.runId)).find(
        (a) => a.stepId === "research" && a.scope === "#2",
      )!;
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        const raw = await db.query("SELECT text FROM keel.blobs WHERE hash = $1", [
          second.inputHash,
        ]);
        assert.ok(String(raw.rows[0]?.text).startsWith("\u0001"), "turn 2's input is stored whole");
        const input = JSON.parse((await pgStore.blob(second.inputHash))!) as {
          messages: { role: string }[];
        };
        assert.deepEqual(
          input.messages.map((m) => m.role),
          ["user", "assistant", "tool", "tool", "tool"],
        );
        // Each model call and tool call was a workflow of its own, on its queue.
        const flows = await db.query(
          "SELECT workflow_uuid, queue_name FROM dbos.workflow_status WHERE workflow_uuid LIKE $1 ORDER BY workflow_uuid",
          [`${r.runId}:research#%`],
        );
        assert.deepEqual(flows.rows, [
          { workflow_uuid: `${r.runId}:research#1/search.0:1`, queue_name: "keel-steps" },
          { workflow_uuid: `${r.runId}:research#1:1`, queue_name: "keel-provider-model-2" },
          { workflow_uuid: `${r.runId}:research#2:1`, queue_name: "keel-provider-model-2" },
        ]);
        // A model call's task carries the messages added since the turn before, not the whole
        // conversation.
        const task = await db.query(
          "SELECT inputs FROM dbos.workflow_input WHERE workflow_uuid = $1",
          [`${r.runId}:research#2:1`],
        );
        assert.doesNotMatch(String(task.rows[0]?.inputs), /Question: what is keel/);
        assert.match(String(task.rows[0]?.inputs), /record 7/);
      } finally {
        await db.end();
      }
    } finally {
      await sqlite.close();
      await pgStore.close();
    }
  },
);

test(
  "max_turns, on_max_turns: answer, tool_errors: fail and a budget stop an agent on the workers as locally",
  { skip: missing, timeout: 120_000 },
  async () => {
    const remote = await keelAsync(["run", "limits.keel.yaml", "--on", url, "--json"], dir);
    const local = keel(["run", "limits.keel.yaml", "--json"], dir, {
      KEEL_TEST_EFFECTS: join(dir, "local-effects.log"),
    });
    assert.equal(remote.code, 0, remote.stderr + remote.stdout);
    assert.equal(local.code, 0, local.stderr + local.stdout);
    const r = JSON.parse(remote.stdout) as { runId: string; outputs: Record<string, unknown> };
    const l = JSON.parse(local.stdout) as { runId: string; outputs: Record<string, unknown> };
    assert.deepEqual(r.outputs, {
      capped: ["My best answer.", "max_turns"],
      stuck: ["failed", "max_turns", 2],
      broke: ["failed", "tool_error"],
      spent: ["failed", "budget", 1],
    });
    assert.deepEqual(r.outputs, l.outputs);
    const steps = ["capped", "stuck", "broke", "spent"];
    const pgStore = await openPgStore(url, { readOnly: true });
    const sqlite = openSqliteStore(join(dir, ".keel", "runs.sqlite"));
    try {
      const theirs = (await readRecordedRun(pgStore, r.runId))!;
      const mine = (await readRecordedRun(sqlite, l.runId))!;
      assert.equal(diffRuns(mine, theirs).firstDivergence, null);
      const remoteScopes = await scopesOf(pgStore, r.runId, steps);
      assert.deepEqual(remoteScopes, await scopesOf(sqlite, l.runId, steps));
      const ends = (step: string) => remoteScopes[step]!.events.at(-1) as unknown[];
      assert.deepEqual(ends("stuck").slice(0, 3), ["step_failed", null, "max_turns"]);
      assert.deepEqual(ends("broke"), [
        "step_failed",
        null,
        "tool_error",
        "turn 1, call broken.0: the index is down",
      ]);
      assert.deepEqual(ends("spent").slice(0, 3), ["step_failed", null, "budget"]);
      // The budget stopped the agent before its tool ran; the last call of capped had no tools.
      assert.equal(remoteScopes["spent#1/search.0"], undefined);
      assert.ok(remoteScopes["capped#2"], "capped made no last call");
    } finally {
      await sqlite.close();
      await pgStore.close();
    }
  },
);
