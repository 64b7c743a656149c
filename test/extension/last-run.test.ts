// What the graph panel's host reads of a child run from the workspace's run store
// (extension/runs/last-run.ts): the child's recording names its parent run and the unit there
// that started it (the panel's way back), and a run's workflow file is found from the store of
// either side (where "Open child run" and "Parent run" open their panel).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { defaultStorePath } from "@keel/core/node/store-path";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { recording, workflowOfRun } from "../../extension/runs/last-run";
import { runText, writeWorkflow } from "../core/runner/harness";

const CHILD = `keel: 1
name: double
inputs:
  n: { type: number }
steps:
  twice:
    type: transform
    expr: inputs.n * 2
outputs:
  value: steps.twice.output
`;

const PARENT = `keel: 1
name: doubles
steps:
  each:
    type: workflow
    for_each: "[1, 2]"
    uses: ./child.keel.yaml
    with: { n: "\${{ item }}" }
`;

test("a child run's recording names its parent and unit; a run's workflow file is found from either store", async () => {
  const parentPath = writeWorkflow(PARENT, { "child.keel.yaml": CHILD });
  const dir = dirname(parentPath);
  mkdirSync(join(dir, ".keel"));
  const store = openSqliteStore(defaultStorePath(dir));
  let parentId: string;
  try {
    const run = await runText(PARENT, { path: parentPath, store });
    assert.equal(run.result.status, "succeeded", run.result.error ?? "");
    parentId = run.result.runId;
  } finally {
    await store.close();
  }
  const parent = await recording(parentPath, parentId);
  assert.equal(parent?.parentId, null);
  const started = parent!.events.filter((e) => e.type === "child_started");
  assert.deepEqual(
    started.map((e) => e.scope),
    ["[0]", "[1]"],
  );
  const childId = started[1]!.data!.childRun as string;
  const childPath = join(dir, "child.keel.yaml");
  assert.equal(await workflowOfRun(parentPath, childId), childPath);
  const child = await recording(childPath, childId);
  assert.equal(child?.runId, childId);
  assert.equal(child?.parentId, parentId);
  assert.equal(child?.parentScope, "each[1]");
  assert.equal(await workflowOfRun(childPath, parentId), parentPath);
  assert.equal(await workflowOfRun(parentPath, "01NOSUCHRUN"), null);
});
