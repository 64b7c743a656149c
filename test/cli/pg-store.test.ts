// The CLI on a PostgreSQL store (`--store postgres://…`), on a throw-away cluster this file
// starts: a run recorded there lists, shows, replays with zero effects, diffs, exports to a golden
// file that `keel test` passes, and imports; reading an empty database creates nothing.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { keel, workspace } from "../helpers/cli";
import { postgresMissing, startPostgres, type ThrowawayPostgres } from "../helpers/postgres";

const missing = postgresMissing();
let server: ThrowawayPostgres | undefined;
before(async () => {
  if (!missing) server = await startPostgres();
});
after(() => server?.stop());

const FLOW = `keel: 1
name: pg flow
inputs:
  who: { type: string, default: ada }
providers:
  m: { type: scripted, model: m-1, default: "hi there" }
steps:
  greet: { type: llm, provider: m, prompt: "Greet \${{ inputs.who }}" }
  count:
    type: tool
    uses: ./count.js#count
    with: { text: "\${{ steps.greet.output }}" }
  check: { type: assert, that: steps.count.output.n > 0 }
outputs:
  n: steps.count.output.n
`;
// Each execution appends a line, so the test can tell whether replay executed anything.
const COUNT = `const { appendFileSync } = require("node:fs");
exports.count = async (args) => {
  appendFileSync(__dirname + "/effects.log", "count\\n");
  return { n: args.text.length };
};
`;

const effects = (dir: string) =>
  readFileSync(join(dir, "effects.log"), "utf8").split("\n").length - 1;

test(
  "keel run/runs/show/replay/diff/export --store postgres://: one record, read back like a local one",
  { skip: missing },
  () => {
    const url = server!.urlOf("postgres");
    const dir = workspace({ "flow.keel.yaml": FLOW, "count.js": COUNT });
    const first = keel(["run", "flow.keel.yaml", "--store", url, "--json"], dir);
    assert.equal(first.code, 0, first.stderr);
    const a = JSON.parse(first.stdout);
    assert.deepEqual([a.status, a.outputs], ["succeeded", { n: 8 }]);
    const second = keel(
      ["run", "flow.keel.yaml", "--store", url, "--json", "--input", "who=bo"],
      dir,
    );
    const b = JSON.parse(second.stdout);
    assert.equal(effects(dir), 2);

    const runs = JSON.parse(keel(["runs", "--store", url, "--json"], dir).stdout);
    assert.deepEqual(
      runs.map((r: { id: string }) => r.id),
      [b.runId, a.runId],
    );
    const shown = JSON.parse(keel(["show", a.runId, "--store", url, "--json"], dir).stdout);
    assert.deepEqual(shown.outputs, { n: 8 });
    assert.deepEqual(
      shown.steps.map((s: { id: string; status: string }) => `${s.id}:${s.status}`),
      ["greet:succeeded", "count:succeeded", "check:succeeded"],
    );

    const replay = keel(["replay", a.runId, "--store", url, "--json"], dir);
    assert.equal(replay.code, 0, replay.stderr);
    const report = JSON.parse(replay.stdout);
    assert.deepEqual([report.divergence, report.effectsExecuted], [null, 0]);
    assert.equal(effects(dir), 2, "replay executed nothing");

    const same = keel(["diff", a.runId, a.runId, "--store", url, "--json"], dir);
    assert.equal(same.code, 0, same.stderr);
    const differ = keel(["diff", a.runId, b.runId, "--store", url, "--json"], dir);
    assert.equal(differ.code, 1);
    assert.equal(JSON.parse(differ.stdout).firstDivergence, "greet");

    const golden = keel(["export", a.runId, "--store", url], dir);
    assert.equal(golden.code, 0, golden.stderr);
    writeFileSync(join(dir, "flow.keel-run.json"), golden.stdout);
    const tested = keel(["test"], dir);
    assert.equal(tested.code, 0, tested.stdout + tested.stderr);
    assert.match(tested.stdout, /1 passed, 0 failed/);
    assert.equal(effects(dir), 2);
  },
);

test(
  "keel import --store postgres:// puts a golden run there; reading commands never create a store",
  { skip: missing },
  () => {
    const dir = workspace({ "flow.keel.yaml": FLOW, "count.js": COUNT });
    const local = keel(["run", "flow.keel.yaml", "--json"], dir);
    const runId = JSON.parse(local.stdout).runId as string;
    writeFileSync(join(dir, "flow.keel-run.json"), keel(["export", runId], dir).stdout);

    const empty = server!.url.replace("keel@", "keel:hunter2@");
    const listed = keel(["runs", "--store", empty.replace("/postgres", "/template1")], dir);
    assert.equal(listed.code, 2);
    assert.match(listed.stderr, /no Keel run store in schema 'keel' at postgres:\/\/keel:\*\*\*@/);
    assert.equal(listed.stderr.includes("hunter2"), false);

    const into = server!.urlOf("imported");
    const created = keel(
      ["run", "flow.keel.yaml", "--store", into.replace("/imported", "/postgres")],
      dir,
    );
    assert.equal(created.code, 0, created.stderr);
    const noDb = keel(["import", "flow.keel-run.json", "--store", into], dir);
    assert.equal(noDb.code, 2);
    assert.match(noDb.stderr, /cannot open the run store at postgres:\/\/keel@.*imported/);
    const imported = keel(
      ["import", "flow.keel-run.json", "--store", into.replace("/imported", "/postgres")],
      dir,
    );
    assert.equal(imported.code, 0, imported.stderr);
    const replay = keel(
      ["replay", runId, "--store", into.replace("/imported", "/postgres"), "--json"],
      dir,
    );
    assert.equal(replay.code, 0, replay.stderr);
    assert.equal(JSON.parse(replay.stdout).effectsExecuted, 0);
  },
);

test(
  "keel pull copies a run with its child runs: the local copy replays the map of children with no effect",
  { skip: missing },
  () => {
    const url = server!.urlOf("postgres");
    const dir = workspace({
      "parent.keel.yaml": `keel: 1
name: parent
steps:
  docs: { type: transform, expr: '["a", "b", "c"]' }
  each:
    type: workflow
    uses: ./child.keel.yaml
    for_each: steps.docs.output
    key: item
    with: { doc: "\${{ item }}" }
outputs:
  all: steps.each.output
`,
      "child.keel.yaml": `keel: 1
name: child
inputs:
  doc: { type: string }
providers:
  m: { type: scripted, default: "summary" }
steps:
  sum: { type: llm, provider: m, prompt: "Sum up \${{ inputs.doc }}" }
outputs:
  text: steps.sum.output
`,
    });
    const ran = keel(["run", "parent.keel.yaml", "--store", url, "--json"], dir);
    assert.equal(ran.code, 0, ran.stderr);
    const { runId } = JSON.parse(ran.stdout) as { runId: string };
    const into = join(dir, "copy.sqlite");
    const pulled = keel(["pull", runId, "--store", url, "--into", into], dir);
    assert.equal(pulled.code, 0, pulled.stderr);
    const runs = keel(["runs", "--store", into, "--json"], dir);
    assert.equal(runs.code, 0, runs.stderr);
    const listed = JSON.parse(runs.stdout) as { runs: { id: string; parentId?: string | null }[] };
    const all = JSON.stringify(listed);
    // The parent, and three child runs whose parent it is.
    assert.equal((all.match(new RegExp(runId, "g")) ?? []).length >= 4, true, all);
    const replay = keel(["replay", runId, "--store", into, "--json"], dir);
    assert.equal(replay.code, 0, replay.stdout + replay.stderr);
    const report = JSON.parse(replay.stdout) as { divergence: unknown; effectsExecuted: number };
    assert.equal(report.divergence, null);
    assert.equal(report.effectsExecuted, 0);
  },
);
