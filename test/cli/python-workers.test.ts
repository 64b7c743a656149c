// Python tools on a team's workers (docs/team.md): a `keel worker` runs a Python tool in its own
// persistent Python worker, and the attempt's record on PostgreSQL holds the Python version and
// the lockfile's hash, as a local run's does.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openPgStore } from "@keel/core/store/pg-store";
import { workspace } from "../helpers/cli";
import { keelAsync } from "../helpers/otlp";
import { postgresMissing, startPostgres, type ThrowawayPostgres } from "../helpers/postgres";
import { killWorkers, startWorkerProcess } from "../helpers/workers";

const FLOW = `keel: 1
name: py on workers
defaults:
  python: { lockfile: ./requirements.txt }
steps:
  add: { type: tool, uses: ./tools/add.py#add, with: { x: 2, y: 3 } }
outputs:
  sum: steps.add.output
`;

const missing = postgresMissing();
let server: ThrowawayPostgres | undefined;
let dir = "";

before(async () => {
  if (missing) return;
  server = await startPostgres();
  dir = workspace({
    "py.keel.yaml": FLOW,
    "tools/add.py": "def add(x, y):\n    print('adding')\n    return x + y\n",
    "requirements.txt": "requests==2.32.0\n",
  });
  writeFileSync(join(dir, "effects.log"), "");
  const worker = startWorkerProcess(server.url, "p1", dir, join(dir, "effects.log"));
  await worker.ready;
});
after(() => {
  killWorkers();
  server?.stop();
});

test(
  "a Python tool runs on the workers and its attempt records the Python version and lockfile hash",
  { skip: missing },
  async () => {
    const run = await keelAsync(["run", "py.keel.yaml", "--on", server!.url, "--json"], dir);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const result = JSON.parse(run.stdout) as { runId: string; outputs: { sum: number } };
    assert.equal(result.outputs.sum, 5);
    const store = await openPgStore(server!.url, { readOnly: true });
    try {
      const [attempt] = await store.attempts(result.runId);
      const version = execFileSync("python3", ["-c", "import sys; print(sys.version.split()[0])"], {
        encoding: "utf8",
      }).trim();
      assert.equal(attempt!.meta?.python, version);
      assert.match(String(attempt!.meta?.lockfile), /^[0-9a-f]{64}$/);
      assert.equal(attempt!.meta?.log, "adding\n");
    } finally {
      await store.close();
    }
  },
);
