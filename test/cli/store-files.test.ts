// Run store files the CLI cannot use as it would like: read-only (the file, its folder), damaged,
// not a SQLite file at all, or another program's SQLite database. The reading commands read what
// can be read; everything else says which file, what is wrong and what to do, with no stack trace.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { openDefaultDriver } from "@keel/core/store/sql-driver";
import { bin, keel, workspace } from "../helpers/cli";

const FLOW = `keel: 1
name: stored
steps:
  hello: { type: transform, expr: '"hello"' }
outputs:
  text: steps.hello.output
`;

// Root may write any file: as root, the command runs as nobody so that modes mean what they say.
const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

/** `keel args…` as a user who may not write what is read-only. */
function keelAsUser(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "", FORCE_COLOR: "" },
    ...asUser,
  });
  if (asUser.uid !== undefined && /Cannot find module|EACCES/.test(r.stderr) && !readableByUser()) {
    throw new Error(
      `${bin} cannot be read by uid ${asUser.uid}, whom these tests run the CLI as when run as root: ` +
        "run them from a checkout every user may read (each folder above it needs o+x, e.g. not under a 0700 mktemp folder)",
    );
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Whether the user the CLI runs as here can read the built CLI (root's checkout may be private). */
function readableByUser(): boolean {
  const probe = spawnSync(
    process.execPath,
    [
      "-e",
      "require('node:fs').accessSync(process.argv[1], require('node:fs').constants.R_OK)",
      bin,
    ],
    { ...asUser },
  );
  return probe.status === 0;
}

/** A workspace with one recorded run; its folders readable by everyone. */
function recorded(): { dir: string; runId: string } {
  const dir = workspace({ "flow.keel.yaml": FLOW });
  const r = keel(["run", "flow.keel.yaml", "--json"], dir);
  assert.equal(r.code, 0, r.stderr);
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o755);
  return { dir, runId: (JSON.parse(r.stdout) as { runId: string }).runId };
}

/** Fails when the output holds a stack trace or calls itself an internal error. */
function noTrace(r: { stderr: string }): void {
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, r.stderr);
}

const reading = (runId: string): string[][] => [
  ["runs"],
  ["show", "latest"],
  ["show", runId, "--json"],
  ["export", runId],
  ["replay", "latest"],
  ["diff", runId, runId],
];

test("the reading commands read a store whose file and folder are read-only, and change nothing", (t) => {
  if (process.platform === "win32") return t.skip("file modes");
  const { dir, runId } = recorded();
  const keelDir = join(dir, ".keel");
  const before = readdirSync(keelDir).sort();
  const bytes = readFileSync(join(keelDir, "runs.sqlite"));
  chmodSync(join(keelDir, "runs.sqlite"), 0o444);
  chmodSync(keelDir, 0o555);
  try {
    for (const args of reading(runId)) {
      const r = keelAsUser(args, dir);
      noTrace(r);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stdout, args[0] === "export" ? /"keelRun": 1/ : /\S/);
    }
    assert.match(keelAsUser(["runs"], dir).stdout, new RegExp(`${runId}  succeeded`));
    assert.deepEqual(readdirSync(keelDir).sort(), before);
    assert.deepEqual(readFileSync(join(keelDir, "runs.sqlite")), bytes);

    // A command that writes says what is read-only and what to do, exit 2.
    const run = keelAsUser(["run", "flow.keel.yaml"], dir);
    noTrace(run);
    assert.equal(run.code, 2, run.stderr);
    assert.match(
      run.stderr,
      /cannot write the run store .*runs\.sqlite: its folder .*\.keel is read-only/,
    );
    assert.match(run.stderr, /writable .*or record elsewhere with --store/);
  } finally {
    chmodSync(keelDir, 0o755);
  }
});

test("a read-only store file in a writable folder is read where it is; keel run says the file is read-only", (t) => {
  if (process.platform === "win32") return t.skip("file modes");
  const { dir, runId } = recorded();
  const file = join(dir, ".keel", "runs.sqlite");
  chmodSync(file, 0o444);
  chmodSync(join(dir, ".keel"), 0o777);
  for (const args of reading(runId)) {
    const r = keelAsUser(args, dir);
    noTrace(r);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  }
  const run = keelAsUser(["run", "flow.keel.yaml"], dir);
  noTrace(run);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /cannot write the run store .*runs\.sqlite: the file is read-only/);
});

test("a file that is not a SQLite database: every command names it, says so and how to recover, exit 2", () => {
  const { dir, runId } = recorded();
  const file = join(dir, ".keel", "runs.sqlite");
  const golden = keel(["export", runId], dir).stdout;
  writeFileSync(join(dir, "flow.keel-run.json"), golden);
  writeFileSync(file, "this is not a database\n".repeat(200));
  for (const args of [
    ...reading(runId),
    ["run", "flow.keel.yaml"],
    ["import", "flow.keel-run.json"],
  ]) {
    const r = keel(args, dir);
    noTrace(r);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /runs\.sqlite is not a Keel run store: it is not a SQLite database/);
    assert.match(r.stderr, /mv .*runs\.sqlite .*runs\.sqlite\.damaged/);
  }
  assert.equal(readFileSync(file, "utf8"), "this is not a database\n".repeat(200));
});

test("a store damaged past its first page is named as damaged, with the way out", () => {
  const { dir } = recorded();
  const file = join(dir, ".keel", "runs.sqlite");
  // Checkpoint into the file, then overwrite every page after the first two.
  const db = openDefaultDriver(file);
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
  const bytes = readFileSync(file);
  assert.ok(bytes.length > 8192);
  bytes.fill(0xff, 8192);
  writeFileSync(file, bytes);
  for (const args of [["runs"], ["show", "latest"], ["export", "latest"]]) {
    const r = keel(args, dir);
    noTrace(r);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /the run store .*runs\.sqlite is damaged \(SQLite says: .*malformed/);
    assert.match(r.stderr, /\.recover/);
  }
});

test("another program's SQLite database is refused and left as it is", () => {
  const dir = workspace({ "flow.keel.yaml": FLOW });
  const file = join(dir, "other.sqlite");
  const db = openDefaultDriver(file);
  db.exec("CREATE TABLE notes (text TEXT)");
  db.close();
  const size = statSync(file).size;
  for (const args of [
    ["runs", "--store", "other.sqlite"],
    ["run", "flow.keel.yaml", "--store", "other.sqlite"],
  ]) {
    const r = keel(args, dir);
    noTrace(r);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /other\.sqlite is a SQLite database but not a Keel run store/);
  }
  const after = openDefaultDriver(file, { readOnly: true });
  const tables = after.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
  after.close();
  // node:sqlite (Node 24) gives rows without a prototype, better-sqlite3 plain objects.
  assert.deepEqual(
    tables.map((t) => (t as { name: string }).name),
    ["notes"],
  );
  assert.equal(statSync(file).size, size);
});

test("a reading command where no run was recorded creates no store", () => {
  const dir = workspace({ "flow.keel.yaml": FLOW });
  mkdirSync(join(dir, "sub"));
  const r = keel(["runs"], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /no runs recorded yet/);
  const show = keel(["show", "latest"], dir);
  assert.equal(show.code, 2);
  assert.match(show.stderr, /no run 'latest'/);
  assert.ok(!existsSync(join(dir, ".keel")), "nothing was created");
});

test("a folder given as the store, a bad --limit and a missing test folder are bad usage, not internal errors", () => {
  const dir = workspace({ "flow.keel.yaml": FLOW });
  mkdirSync(join(dir, "stores"));
  for (const [args, message] of [
    [
      ["show", "latest", "--store", "stores"],
      /stores is a folder, not a run store file: name a file, such as stores\/runs\.sqlite/,
    ],
    [["run", "flow.keel.yaml", "--store", "stores"], /stores is a folder, not a run store file/],
    [["runs", "--limit", "abc"], /--limit takes a whole number above 0/],
    [["test", "nowhere"], /no such folder: nowhere/],
  ] as const) {
    const r = keel([...args], dir);
    noTrace(r);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
