// Golden runs: exported on one machine, tested and imported in a fresh workspace with a new store.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import { keel, workspace } from "../helpers/cli";

const FLOW = `keel: 1
name: golden
providers:
  p: { type: scripted, default: "a summary" }
steps:
  note:
    type: shell
    command: [sh, -c, 'echo ran >> log.txt; echo "{\\"n\\": 3}"']
    output: { format: json }
  fetch:
    type: tool
    uses: ./tool.js#fetch
    with: { n: "\${{ steps.note.output.stdout.n }}" }
  summarize:
    type: llm
    provider: p
    prompt: "Summarise \${{ steps.fetch.output.items }} with token \${{ secrets.TOKEN }}."
outputs:
  summary: steps.summarize.output
`;
const TOOL = `"use strict";
function fetch(args) { return { items: Number(args.n) * 2 }; }
module.exports = { fetch };
`;
const SECRET = "tok-abc-123-very-secret";

test("a golden file exported in one workspace passes keel test and replays after import in a fresh one", () => {
  const a = workspace({ "flows/flow.keel.yaml": FLOW, "flows/tool.js": TOOL });
  const run = keel(["run", "flows/flow.keel.yaml"], a, { KEEL_SECRET_TOKEN: SECRET });
  assert.equal(run.code, 0, run.stderr);
  const exported = keel(["export", "latest"], a);
  assert.equal(exported.code, 0, exported.stderr);
  assert.ok(!exported.stdout.includes(SECRET), "the golden file holds no secret");
  const golden = JSON.parse(exported.stdout) as { keelRun: number; run: { id: string } };
  const schema = JSON.parse(readFileSync("schema/keel-run.schema.json", "utf8")) as object;
  const validate = new Ajv({ strict: false }).compile(schema);
  assert.ok(validate(golden), JSON.stringify(validate.errors));

  // A fresh clone: another folder, no store, no secret, the workflow and its golden file.
  const b = workspace({ "flows/flow.keel.yaml": FLOW, "flows/tool.js": TOOL });
  writeFileSync(join(b, "flows/flow.keel-run.json"), exported.stdout);
  const passed = keel(["test"], b);
  assert.equal(passed.code, 0, passed.stdout + passed.stderr);
  assert.match(passed.stdout, /✔ flows\/flow\.keel-run\.json/);
  assert.match(passed.stdout, /ℹ tests 1\nℹ pass 1\nℹ fail 0/);
  assert.match(passed.stdout, /^1 passed, 0 failed$/m);
  assert.ok(!existsSync(join(b, "flows/log.txt")), "the shell step did not run");
  assert.ok(!existsSync(join(b, ".keel")), "keel test needs no store");

  const imported = keel(["import", "flows/flow.keel-run.json"], b);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, new RegExp(`imported run ${golden.run.id}`));
  const replay = keel(["replay", golden.run.id, "--json"], b);
  assert.equal(replay.code, 0, replay.stdout + replay.stderr);
  assert.equal((JSON.parse(replay.stdout) as { divergence: unknown }).divergence, null);
  assert.equal(keel(["replay", golden.run.id, "--current"], b).code, 0);
  assert.ok(!existsSync(join(b, "flows/log.txt")));

  // A second golden file by the naming rule (a label), and an edit: keel test fails and says where.
  copyFileSync(join(b, "flows/flow.keel-run.json"), join(b, "flows/flow.edge-case.keel-run.json"));
  writeFileSync(join(b, "flows/flow.keel.yaml"), FLOW.replace("Summarise", "Condense"));
  const failed = keel(["test", "flows"], b);
  assert.equal(failed.code, 1);
  assert.match(failed.stdout, /✖ flows\/flow\.edge-case\.keel-run\.json/);
  assert.match(failed.stdout, /flow\.keel\.yaml:17 {2}step summarize \(prompt/);
  assert.match(failed.stdout, /^0 passed, 2 failed$/m);
});

test("keel test with no golden file passes with nothing to run", () => {
  const dir = workspace({ "flow.keel.yaml": FLOW });
  const r = keel(["test"], dir);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^0 passed, 0 failed$/m);
});

const PATHS_FLOW = `keel: 1
name: paths
providers:
  p: { type: scripted, default: "noted" }
steps:
  here:
    type: shell
    command: [sh, -c, 'pwd; echo "cannot read $(pwd)/input.csv" >&2']
  there:
    type: shell
    cwd: ../data
    command: [sh, -c, 'pwd']
  locate:
    type: tool
    uses: ./tool.js#locate
  missing:
    type: tool
    uses: ./tool.js#missing
    on_error: continue
  ask:
    type: llm
    provider: p
    prompt: "Where: \${{ steps.here.output.stdout }} \${{ steps.there.output.stdout }} \${{ steps.locate.output.file }}"
outputs:
  file: steps.locate.output.file
`;
const PATHS_TOOL = `"use strict";
function locate(args, ctx) { console.log("loaded from " + __dirname); return { file: ctx.workflowDir + "/tool.js" }; }
function missing() { throw new Error("cannot open " + __dirname + "/missing.csv"); }
module.exports = { locate, missing };
`;

test("an export holds no absolute path of its workspace, and replays after the workspace moved", () => {
  const a = workspace({
    "flows/flow.keel.yaml": PATHS_FLOW,
    "flows/tool.js": PATHS_TOOL,
    "data/.keep": "",
  });
  const run = keel(["run", "flows/flow.keel.yaml"], a);
  assert.equal(run.code, 0, run.stderr);
  const exported = keel(["export", "latest"], a);
  assert.equal(exported.code, 0, exported.stderr);
  for (const dir of new Set([a, realpathSync(a)]))
    assert.ok(!exported.stdout.includes(dir), `the export quotes ${dir}`);
  // Each place a path was: in the file, a shell step's folder and streams, a tool's output, what
  // it printed, its error; and the values that flowed on from them.
  const golden = JSON.parse(exported.stdout) as {
    folder: string;
    values: Record<string, string>;
    attempts: {
      stepId: string;
      inputHash: string;
      outputHash: string | null;
      errorMessage: string | null;
      meta: { log?: string } | null;
    }[];
  };
  assert.equal(golden.folder, ".");
  const value = (ref: string | null) =>
    JSON.parse(ref!.startsWith("=") ? ref!.slice(1) : golden.values[ref!]!) as Record<
      string,
      unknown
    >;
  const attempt = (id: string) => golden.attempts.find((x) => x.stepId === id)!;
  assert.equal(value(attempt("here").inputHash).cwd, ".");
  assert.deepEqual(value(attempt("here").outputHash), {
    exit_code: 0,
    stdout: ".\n",
    stderr: "cannot read input.csv\n",
  });
  assert.equal(value(attempt("there").inputHash).cwd, "../data");
  assert.equal(value(attempt("there").outputHash).stdout, "../data\n");
  assert.deepEqual(value(attempt("locate").outputHash), { file: "tool.js" });
  assert.equal(attempt("locate").meta?.log, "loaded from .\n");
  assert.equal(attempt("missing").errorMessage, "cannot open missing.csv");
  const ask = value(attempt("ask").inputHash) as { messages: { content: string }[] };
  assert.equal(ask.messages[0]!.content, "Where: .\n ../data\n tool.js");

  // Another folder: the golden file passes keel test, imports, and replays with no divergence.
  const b = workspace({
    "flows/flow.keel.yaml": PATHS_FLOW,
    "flows/tool.js": PATHS_TOOL,
    "data/.keep": "",
  });
  writeFileSync(join(b, "flows/flow.keel-run.json"), exported.stdout);
  const tested = keel(["test"], b);
  assert.equal(tested.code, 0, tested.stdout + tested.stderr);
  assert.match(tested.stdout, /^1 passed, 0 failed$/m);
  assert.equal(keel(["import", "flows/flow.keel-run.json"], b).code, 0);
  for (const args of [
    ["replay", "latest"],
    ["replay", "latest", "--current"],
  ]) {
    const r = keel(args, b);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /no divergence/);
  }
  // And an edit in the new folder is still found.
  writeFileSync(join(b, "flows/flow.keel.yaml"), PATHS_FLOW.replace("../data", "../flows"));
  const edited = keel(["test"], b);
  assert.equal(edited.code, 1, edited.stdout);
  assert.match(edited.stdout, /step there \(cwd/);
});

test("a file that is not a golden run is refused by keel import and keel test with the reason, no stack", () => {
  const dir = workspace({ "flow.keel.yaml": FLOW, "flow.keel-run.json": '{"keelRun": 1}' });
  const imported = keel(["import", "flow.keel-run.json"], dir);
  assert.equal(imported.code, 2);
  assert.match(
    imported.stderr,
    /flow\.keel-run\.json is not a golden run file Keel can read: its 'workflow' is missing/,
  );
  assert.doesNotMatch(imported.stderr, /internal error|\n\s+at /);
  const tested = keel(["test"], dir);
  assert.equal(tested.code, 1);
  assert.match(tested.stdout, /✖ flow\.keel-run\.json[\s\S]*not a golden run file/);
});

test("a workflow that names its workspace's path in its source is exported as recorded, and says so", () => {
  const dir = workspace({});
  const flow = `keel: 1
name: named
steps:
  here: { type: transform, expr: '"${dir}/data.csv"' }
  list:
    type: shell
    command: [sh, -c, 'echo \${{ steps.here.output }}']
`;
  writeFileSync(join(dir, "flow.keel.yaml"), flow);
  assert.equal(keel(["run", "flow.keel.yaml"], dir).code, 0);
  const exported = keel(["export", "latest"], dir);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(
    exported.stderr,
    /note: the workflow's source names .*, so the file keeps the run's absolute paths/,
  );
  writeFileSync(join(dir, "flow.keel-run.json"), exported.stdout);
  const tested = keel(["test"], dir);
  assert.equal(tested.code, 0, tested.stdout);
});

const PARENT = `keel: 1
name: triage all
steps:
  tickets:
    type: transform
    expr: '[{"id": "t1", "text": "refund"}, {"id": "t2", "text": "login"}]'
  per_ticket:
    type: workflow
    uses: ./lib/triage-one.keel.yaml
    for_each: steps.tickets.output
    key: item.id
    with: { ticket: "\${{ item }}" }
outputs:
  labels: steps.per_ticket.output.label
`;
const CHILD = `keel: 1
name: triage one
inputs:
  ticket: { type: object }
providers:
  p: { type: scripted, default: billing }
steps:
  classify:
    type: llm
    prompt: "Classify \${{ inputs.ticket.text }}"
outputs:
  label: steps.classify.output
`;

test("a parent's golden file holds its child runs: keel test replays them and reports an edit inside the child file; keel import stores them", () => {
  const files = { "flows/triage.keel.yaml": PARENT, "flows/lib/triage-one.keel.yaml": CHILD };
  const a = workspace(files);
  const run = keel(["run", "flows/triage.keel.yaml"], a);
  assert.equal(run.code, 0, run.stderr);
  const exported = keel(["export", "latest"], a);
  assert.equal(exported.code, 0, exported.stderr);
  const golden = JSON.parse(exported.stdout) as {
    run: { id: string };
    children: { workflow: string; folder: string; run: { parentScope: string } }[];
  };
  const validate = new Ajv({ strict: false }).compile(
    JSON.parse(readFileSync("schema/keel-run.schema.json", "utf8")) as object,
  );
  assert.ok(validate(golden), JSON.stringify(validate.errors));
  assert.deepEqual(golden.children.map((c) => [c.workflow, c.folder, c.run.parentScope]).sort(), [
    ["lib/triage-one.keel.yaml", ".", "per_ticket[t1]"],
    ["lib/triage-one.keel.yaml", ".", "per_ticket[t2]"],
  ]);
  assert.ok(!exported.stdout.includes(a), "no absolute path of the workspace");

  const b = workspace(files);
  writeFileSync(join(b, "flows/triage.keel-run.json"), exported.stdout);
  const passed = keel(["test"], b);
  assert.equal(passed.code, 0, passed.stdout + passed.stderr);
  assert.match(passed.stdout, /ℹ pass 1\nℹ fail 0/);

  writeFileSync(join(b, "flows/lib/triage-one.keel.yaml"), CHILD.replace("Classify", "Sort"));
  const failed = keel(["test"], b);
  assert.equal(failed.code, 1, failed.stdout + failed.stderr);
  assert.match(
    failed.stdout,
    /per_ticket\[t1\] › classify \(\.\/lib\/triage-one\.keel\.yaml:10\): the prompt of step 'classify' differs/,
  );

  const c = workspace(files);
  writeFileSync(join(c, "flows/triage.keel-run.json"), exported.stdout);
  const imported = keel(["import", "flows/triage.keel-run.json"], c);
  assert.equal(imported.code, 0, imported.stderr);
  const runs = JSON.parse(keel(["runs", "--json"], c).stdout || "[]") as {
    id: string;
    parentId: string | null;
  }[];
  assert.equal(runs.filter((r) => r.parentId === golden.run.id).length, 2);
  const replayed = keel(["replay", golden.run.id], c);
  assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr);
});
