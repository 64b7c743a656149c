// The Python workers of a team's worker process (core/executor/dbos-record.ts): the effects of a
// workflow it loaded keep their Python workers between runs, and end them when they are dropped
// from its cache of loaded workflows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOnWorker } from "@keel/core/executor/dbos-record";
import { chooseInterpreter } from "@keel/core/runner/python/interpreter";

const flow = (n: number) => `keel: 1
name: w${n}
steps:
  pid: { type: tool, uses: ./p.py#pid }
`;

async function until(what: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("a loaded workflow's Python workers live on between runs and end when it is dropped from the cache", async () => {
  const dir = mkdtempSync(join(tmpdir(), "keel-py-effects-"));
  const module = join(dir, "p.py");
  writeFileSync(module, "import os\ndef pid():\n    return os.getpid()\n");
  const path = join(dir, "flow.keel.yaml");
  const interpreter = chooseInterpreter(undefined, dir, "pid").path;
  const call = async (n: number) => {
    const loaded = loadOnWorker(path, flow(n));
    const r = await loaded.effects.python!(
      { module, exportName: "pid", args: {}, dir, interpreter },
      new AbortController().signal,
    );
    return r.value as number;
  };
  const first = await call(0);
  assert.equal(await call(0), first, "the same loaded workflow reuses its worker");
  for (let n = 1; n <= 32; n++) loadOnWorker(path, flow(n));
  await until(() => !alive(first));
});
