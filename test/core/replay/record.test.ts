// A recorded run read back whole (core/replay/record.ts) and as a golden file (golden.ts): every
// value its record refers to comes with it, a map's list (its `expanded` event) too
// (docs/dev/scopes.md, docs/replay.md "Golden runs").
import { test } from "node:test";
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { readRecordedRun } from "@keel/core/replay/record";
import { fromGolden, portableGolden, toGolden } from "@keel/core/replay/golden";
import { runText, writeWorkflow } from "../runner/harness";

// The list holds paths of the workflow's folder, given at run time (a source naming them would
// keep the golden file's paths absolute); the items' outputs are not the list.
const FLOW = `keel: 1
name: files
inputs:
  dir: { type: string }
steps:
  sizes:
    type: transform
    for_each: '[inputs.dir & "/notes/a.txt", inputs.dir & "/notes/bb.txt"]'
    expr: $length(item)
`;

test("a map's list is read back with its run, kept in its golden file and made portable with it", async () => {
  const path = writeWorkflow(FLOW);
  const dir = dirname(path);
  const r = await runText(FLOW, { path, inputs: { dir } });
  assert.equal(r.result.status, "succeeded");
  const record = (await readRecordedRun(r.store, r.result.runId))!;
  const listOf = (events: typeof record.events) =>
    events.find((e) => e.type === "expanded")!.data!.list as string;
  const list = [`${dir}/notes/a.txt`, `${dir}/notes/bb.txt`];
  assert.ok(!listOf(record.events).startsWith("="), "the list is a blob, not inline");
  assert.deepEqual(record.value(listOf(record.events)), list);

  const golden = toGolden(record, "flow.keel.yaml");
  assert.equal(golden.values[listOf(record.events)], JSON.stringify(list));

  const portable = portableGolden(golden, dir, dir);
  const back = fromGolden(portable, path);
  assert.deepEqual(back.value(listOf(back.events)), ["notes/a.txt", "notes/bb.txt"]);
});
