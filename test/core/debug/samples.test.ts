// The replay debugger over every sample's recorded run, in process and through `keel dap` over
// stdio: capabilities, the entry stop, Step Over to the end and Step Back to the start with the
// Variables at every stop equal to the step-through fold's state (#9 "Done when").
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import type { RunStore } from "@keel/core/store/run-store";
import { runText } from "../runner/harness";
import { hostOf, inProcess, launch, moveBy, overStdio, type Adapter } from "./harness";
import { assertStopMatchesFold, foldOf } from "./oracle";

const SAMPLES = readdirSync("samples").filter((f) => f.endsWith(".keel.yaml"));
let ws: string;
let store: RunStore;
const runs = new Map<string, string>();

before(async () => {
  ws = mkdtempSync(join(tmpdir(), "keel-debug-"));
  mkdirSync(join(ws, ".git"));
  cpSync("samples", join(ws, "samples"), { recursive: true });
  store = openSqliteStore(join(ws, ".keel", "runs.sqlite"));
  for (const name of SAMPLES) {
    const path = join(ws, "samples", name);
    const r = await runText(readFileSync(path, "utf8"), { path, store });
    runs.set(name, r.result.runId);
  }
});
after(async () => {
  await store.close();
});

async function walk(a: Adapter, name: string, deep: boolean): Promise<void> {
  const runId = runs.get(name)!;
  const fold = await foldOf(store, runId);
  const { dc } = a;
  const { stopped } = await launch(dc, { runId, workflow: join(ws, "samples", name) });
  assert.equal(stopped.body.reason, "entry");
  await assertStopMatchesFold(dc, fold, store, 0, deep);
  const last = fold.length - 1;
  for (let k = 1; k <= last; k++) {
    const s = await moveBy(dc, "next");
    assert.equal(s.body.reason, "step");
    assert.match(s.body.description ?? "", new RegExp(`^event ${fold.events[k]!.seq} `));
    await assertStopMatchesFold(dc, fold, store, k, deep);
  }
  const end = await moveBy(dc, "next");
  assert.equal(end.body.description, "end of recording", "past the end it stays paused");
  await assertStopMatchesFold(dc, fold, store, last, false);
  for (let k = last - 1; k >= 0; k--) {
    const s = await moveBy(dc, "stepBack");
    assert.match(s.body.description ?? "", new RegExp(`^event ${fold.events[k]!.seq} `));
    await assertStopMatchesFold(dc, fold, store, k, deep);
  }
  const start = await moveBy(dc, "stepBack");
  assert.equal(start.body.description, "start of recording");
}

test("initialize announces step back, goto targets, restart frame and the failure filters; launch stops at run started", async () => {
  const a = await inProcess(hostOf(store));
  try {
    const name = SAMPLES[0]!;
    const { capabilities, stopped } = await launch(a.dc, {
      runId: runs.get(name),
      workflow: join(ws, "samples", name),
    });
    assert.equal(capabilities.supportsStepBack, true);
    assert.equal(capabilities.supportsGotoTargetsRequest, true);
    assert.equal(capabilities.supportsRestartFrame, true);
    assert.equal(capabilities.supportsConfigurationDoneRequest, true);
    assert.equal(capabilities.supportsFunctionBreakpoints, true);
    assert.equal(capabilities.supportsExceptionInfoRequest, true);
    assert.equal(capabilities.supportsClipboardContext, true);
    assert.deepEqual(
      capabilities.exceptionBreakpointFilters?.map((f) => f.filter),
      ["step-failed", "attempt-failed"],
    );
    assert.equal(stopped.body.reason, "entry");
    const trace = await a.dc.stackTraceRequest({ threadId: 1 });
    assert.equal(trace.body.stackFrames[0]!.name, "run started");
    const threads = await a.dc.threadsRequest();
    assert.equal(threads.body.threads.length, 1);
  } finally {
    await a.close();
  }
});

test('"latest" replays the newest run of the workflow', async () => {
  const a = await inProcess(hostOf(store));
  try {
    const name = SAMPLES[1]!;
    await launch(a.dc, { runId: "latest", workflow: join(ws, "samples", name) });
    const t = await a.dc.threadsRequest();
    assert.equal(t.body.threads[0]!.name, `run ${runs.get(name)} (replay)`);
  } finally {
    await a.close();
  }
});

test("a run that is not in the store fails the launch with a sentence", async () => {
  const a = await inProcess(hostOf(store));
  try {
    await a.dc.initializeRequest({ adapterID: "keel-replay", pathFormat: "path" });
    await assert.rejects(a.dc.launchRequest({ runId: "01NOPE" } as never), /no run 01NOPE/);
  } finally {
    await a.close();
  }
});

for (const name of SAMPLES) {
  test(`sample ${name}: Step Over visits every event in order and Step Back every event in reverse, Variables equal to the fold at each stop (in process)`, async () => {
    const a = await inProcess(hostOf(store));
    try {
      await walk(a, name, true);
    } finally {
      await a.close();
    }
  });
}

test("over stdio (keel dap): the same walk over a sample, Variables equal to the fold at each stop", async () => {
  const a = await overStdio(ws);
  try {
    await walk(a, "provider-fallback.keel.yaml", true);
  } finally {
    await a.close();
  }
});
