// Golden runs: exported on one machine, tested and imported in a fresh workspace with a new store.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
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
