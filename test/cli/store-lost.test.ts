// A step that deletes, overwrites or replaces the run store (.keel/runs.sqlite) fails the run,
// which says what was lost, and the commands after it say what is wrong without a stack trace.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { keel, workspace } from "../helpers/cli";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { runText, writeWorkflow } from "../core/runner/harness";

const flow = (command: string) => `keel: 1
name: wipe
steps:
  wipe:
    type: shell
    command: ${command}
  after:
    type: transform
    expr: steps.wipe.output.exit_code
outputs:
  code: steps.after.output
`;

function noStack(stderr: string): void {
  assert.doesNotMatch(stderr, /internal error|\n\s+at /, stderr);
}

test("a shell step that runs rm -rf .keel fails the run, which says the store was deleted", () => {
  const dir = workspace({ "flow.keel.yaml": flow("[rm, -rf, .keel]") });
  const run = keel(["run", "flow.keel.yaml"], dir);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /the run store .*runs\.sqlite was deleted while step 'wipe' ran/);
  assert.match(run.stderr, /every run in it, this one too/);
  assert.doesNotMatch(run.stderr, /keel resume/);
  assert.doesNotMatch(run.stderr, /succeeded/);
  noStack(run.stderr);
  // The next command starts a new, empty store.
  const runs = keel(["runs"], dir);
  assert.equal(runs.code, 0, runs.stderr);
  noStack(runs.stderr);
});

test("a shell step that overwrites the store file fails the run; later commands say the file is no run store", () => {
  const dir = workspace({
    "flow.keel.yaml": flow(`[sh, -c, "printf 'not a database' > .keel/runs.sqlite"]`),
  });
  const run = keel(["run", "flow.keel.yaml"], dir);
  assert.equal(run.code, 1, run.stderr);
  assert.match(
    run.stderr,
    /runs\.sqlite was overwritten \(it no longer starts as a SQLite database\) while step 'wipe' ran/,
  );
  noStack(run.stderr);
  // What SQLite makes of the file now depends on what was left in its log; either way a command
  // says so plainly.
  const runs = keel(["runs"], dir);
  assert.ok(runs.code === 0 || /is not a Keel run store|is damaged/.test(runs.stderr), runs.stderr);
  noStack(runs.stderr);
});

test("a store file replaced by another one is noticed, and the new file is left as it is", async () => {
  const path = writeWorkflow(flow(`[mv, -f, other.sqlite, store.sqlite]`));
  const dir = join(path, "..");
  const storePath = join(dir, "store.sqlite");
  const store = openSqliteStore(storePath);
  // Another store file, made beside it, is moved over it by the step.
  const other = openSqliteStore(join(dir, "seed.sqlite"));
  await other.close();
  copyFileSync(join(dir, "seed.sqlite"), join(dir, "other.sqlite"));
  await assert.rejects(
    runText("", { path, store }),
    /store\.sqlite was replaced by another file while step 'wipe' ran/,
  );
  await store.close();
  // The file moved there is the other store, as it was.
  const reopened = openSqliteStore(storePath);
  assert.deepEqual(await reopened.listRuns(), []);
  await reopened.close();
});
