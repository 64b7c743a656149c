// Python tools at run time (docs/format.md, "Python tools"): keyword arguments, async functions,
// JSON results, printed text captured beside the protocol, exceptions with their traceback, a
// timeout or cancel killing the worker's process group, the interpreter's choice, the record and
// cache key (module, Python version, lockfile), tool_env_drift, and a replay needing no Python.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { loadWorkflowText } from "@keel/core/runner/load";
import { replayRun } from "@keel/core/replay/replay";
import { readRecordedRun } from "@keel/core/replay/record";
import { chooseInterpreter } from "@keel/core/runner/python/interpreter";
import { OUTPUT_MAX } from "@keel/core/runner/attempt-output";
import { MemoryStore } from "@keel/core/store/memory-store";
import { createNodeEffects } from "@keel/core/runner/node-effects";
import { runText, stepOf, writeWorkflow } from "./harness";

const SECRET = "tok-0123456789abcdef";

const TOOLS = `
import asyncio, os, subprocess, sys, time

def add(x, y=10, *, label="sum"):
    print("adding", x, "and", y)
    print("to stderr", file=sys.stderr)
    os.write(1, b"raw fd write\\n")
    return {label: x + y}

async def later(ms, value):
    await asyncio.sleep(ms / 1000)
    return [value, sys.version.split()[0]]

def not_json():
    return {"ok": [1, {"bad": {1, 2}}]}

def fails(token):
    helper(token)

def helper(token):
    raise ValueError("could not use " + token)

def stuck(marker):
    child = subprocess.Popen(["sleep", "300"])
    with open(marker, "w") as f:
        f.write(str(os.getpid()) + " " + str(child.pid))
    while True:
        time.sleep(1)

def loud(n):
    sys.stdout.write("x" * n)
    return "done"

def where():
    return sys.executable

def nap(ms):
    time.sleep(ms / 1000)
    return os.getpid()

class Busy(Exception):
    kind = "rate_limit"

def busy():
    raise Busy("the service is busy")
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
}

test("with: is passed as keyword arguments, async def is awaited, and what the tool prints is its attempt's log, beside the protocol", async () => {
  const run = await runText(
    `keel: 1
name: t
steps:
  a: { type: tool, uses: ./t.py#add, with: { x: 1, label: total } }
  b: { type: tool, uses: ./t.py#later, with: { ms: 20, value: "\${{ steps.a.output.total }}" } }
`,
    { files: { "t.py": TOOLS } },
  );
  assert.equal(run.result.status, "succeeded", JSON.stringify(run.result.steps));
  const attempts = await run.store.attempts(run.result.runId);
  const a = attempts.find((x) => x.stepId === "a")!;
  const b = attempts.find((x) => x.stepId === "b")!;
  assert.equal(await run.store.blob(a.outputHash!), JSON.stringify({ total: 11 }));
  const version = execFileSync("python3", ["-c", "import sys; print(sys.version.split()[0])"], {
    encoding: "utf8",
  }).trim();
  assert.equal(await run.store.blob(b.outputHash!), JSON.stringify([11, version]));
  const log = String(a.meta?.log);
  for (const line of ["adding 1 and 10\n", "to stderr\n", "raw fd write\n"])
    assert.ok(log.includes(line), `${JSON.stringify(line)} in ${JSON.stringify(log)}`);
  assert.equal(a.meta?.python, version);
  assert.equal(a.meta?.lockfile, null);
  assert.equal(b.meta?.log, undefined, "the second call printed nothing");
});

test("an exception is a tool_error naming the file and line, its traceback is recorded and redacted; a value that is not JSON names the type found", async () => {
  const run = await runText(
    `keel: 1
name: t
steps:
  bad: { type: tool, uses: ./t.py#not_json, on_error: continue }
  boom: { type: tool, uses: ./t.py#fails, with: { token: "\${{ secrets.TOKEN }}" }, on_error: continue }
  busy: { type: tool, uses: ./t.py#busy, on_error: continue }
`,
    { files: { "t.py": TOOLS }, secrets: { TOKEN: SECRET } },
  );
  const bad = stepOf(run, "bad").error!;
  assert.equal(bad.kind, "tool_error");
  assert.match(bad.message, /t\.py#not_json is not JSON: a set at \$\.ok\[1\]\.bad/);
  const boom = stepOf(run, "boom").error!;
  assert.equal(boom.kind, "tool_error");
  assert.match(
    boom.message,
    /^ValueError: could not use «secret:TOKEN» \(t\.py, line 21, in helper\)$/,
  );
  const attempt = (await run.store.attempts(run.result.runId)).find((x) => x.stepId === "boom")!;
  const log = String(attempt.meta?.log);
  assert.match(log, /Traceback \(most recent call last\):/);
  assert.match(log, /line 18, in fails\n/);
  assert.match(log, /line 21, in helper\n/);
  assert.ok(!log.includes("<string>"), "the worker's own frames are left out");
  assert.ok(!JSON.stringify(await run.store.attempts(run.result.runId)).includes(SECRET));
  const busy = stepOf(run, "busy").error!;
  assert.equal(busy.kind, "rate_limit", "an exception's kind attribute is its error kind");
  assert.match(busy.message, /^Busy: the service is busy \(t\.py, line \d+, in busy\)$/);
});

test("a function gone from its module by the time it is called is a config error naming what the module defines", async () => {
  const path = writeWorkflow(
    `keel: 1
name: t
steps:
  a: { type: tool, uses: ./m.py#gone }
`,
    { "m.py": "def gone():\n    return 1\n" },
  );
  const run = await runText("", {
    path,
    wrap: (effects) => ({
      ...effects,
      // Edited after the workflow was validated, before the call.
      python: (call, signal, scope) => {
        writeFileSync(call.module, "def kept():\n    return 1\n");
        return effects.python!(call, signal, scope);
      },
    }),
  });
  const err = stepOf(run, "a").error!;
  assert.equal(err.kind, "config");
  assert.equal(err.message, "m.py has no function 'gone': it defines kept");
});

test("a module with a syntax error is a config error naming its file and line", async () => {
  const path = writeWorkflow(`keel: 1
name: t
steps:
  a: { type: tool, uses: ./tools/broken.py#f }
`);
  mkdirSync(join(dirname(path), "tools"));
  writeFileSync(join(dirname(path), "tools", "broken.py"), "def f():\n    return 1\n\ndef g(:\n");
  const run = await runText("", { path });
  const err = stepOf(run, "a").error!;
  assert.equal(err.kind, "config");
  assert.match(err.message, /^tools\/broken\.py, line 4: SyntaxError: /);
});

test("a timeout kills the worker's process group, what the function started with it, and the next call starts a fresh worker", async () => {
  const path = writeWorkflow(
    `keel: 1
name: t
steps:
  wait: { type: tool, uses: ./t.py#stuck, with: { marker: "\${{ inputs.marker }}" }, timeout: 1500ms, on_error: continue }
  after: { type: tool, uses: ./t.py#add, with: { x: 2 }, needs: [wait] }
inputs:
  marker: { type: string }
`,
    { "t.py": TOOLS },
  );
  const marker = join(dirname(path), "pids");
  const run = await runText("", { path, inputs: { marker } });
  const err = stepOf(run, "wait").error!;
  assert.equal(err.kind, "timeout");
  const [worker, child] = readFileSync(marker, "utf8").split(" ").map(Number) as [number, number];
  await until(() => !alive(worker) && !alive(child));
  assert.equal(stepOf(run, "after").status, "succeeded");
  const attempts = await run.store.attempts(run.result.runId);
  assert.equal(
    await run.store.blob(attempts.find((a) => a.stepId === "after")!.outputHash!),
    JSON.stringify({ sum: 12 }),
  );
});

test("a cancel kills the worker's process group at once", async () => {
  const path = writeWorkflow(
    `keel: 1
name: t
inputs:
  marker: { type: string }
steps:
  wait: { type: tool, uses: ./t.py#stuck, with: { marker: "\${{ inputs.marker }}" } }
`,
    { "t.py": TOOLS },
  );
  const marker = join(dirname(path), "pids");
  const controller = new AbortController();
  const running = runText("", { path, inputs: { marker }, signal: controller.signal });
  await until(() => existsSync(marker) && readFileSync(marker, "utf8").includes(" "));
  const [worker, child] = readFileSync(marker, "utf8").split(" ").map(Number) as [number, number];
  assert.ok(alive(worker) && alive(child));
  controller.abort(new Error("stop"));
  const run = await running;
  assert.equal(run.result.status, "cancelled");
  await until(() => !alive(worker) && !alive(child));
});

test("a function that prints megabytes keeps its result; its log is cut at the attempt's limit", async () => {
  const n = 3 * 1024 * 1024;
  const run = await runText(
    `keel: 1
name: t
steps:
  loud: { type: tool, uses: ./t.py#loud, with: { n: ${n} } }
  again: { type: tool, uses: ./t.py#add, with: { x: 5 }, needs: [loud] }
`,
    { files: { "t.py": TOOLS } },
  );
  assert.equal(run.result.status, "succeeded", JSON.stringify(run.result.steps));
  const attempts = await run.store.attempts(run.result.runId);
  const loud = attempts.find((a) => a.stepId === "loud")!;
  assert.equal(await run.store.blob(loud.outputHash!), JSON.stringify("done"));
  const log = String(loud.meta?.log);
  assert.ok(log.startsWith("x".repeat(OUTPUT_MAX)));
  assert.ok(
    log.endsWith(`… ${n - OUTPUT_MAX} more characters were printed and not kept`),
    log.slice(-80),
  );
  const again = attempts.find((a) => a.stepId === "again")!;
  assert.equal(await run.store.blob(again.outputHash!), JSON.stringify({ sum: 15 }));
});

test("a missing interpreter is a config error naming the step, the interpreter tried and the fix", async () => {
  const run = await runText(
    `keel: 1
name: t
defaults:
  python: { interpreter: ./nowhere/bin/python }
steps:
  a: { type: tool, uses: ./t.py#add, with: { x: 1 } }
`,
    { files: { "t.py": TOOLS } },
  );
  const err = stepOf(run, "a").error!;
  assert.equal(err.kind, "config");
  assert.match(
    err.message,
    /^step 'a': the Python interpreter '\.\/nowhere\/bin\/python' \(defaults\.python\.interpreter\) does not exist at \/.*\/nowhere\/bin\/python: set `defaults\.python\.interpreter`.*KEEL_PYTHON.*install python3/,
  );
  assert.throws(
    () => chooseInterpreter(undefined, tmpdir(), "b", { PATH: "/nonexistent" }),
    /step 'b': no Python interpreter: .*python3 is not on PATH/,
  );
});

test("the interpreter: defaults.python.interpreter, else KEEL_PYTHON, else a .venv beside the workflow or above it, else python3", async () => {
  const root = mkdtempSync(join(tmpdir(), "keel-py-"));
  mkdirSync(join(root, ".git"));
  const flows = join(root, "flows");
  mkdirSync(flows);
  const env = { PATH: process.env.PATH };
  const python3 = chooseInterpreter(undefined, flows, "a", env);
  assert.equal(python3.from, "python3 on PATH");
  // A real virtual environment at the workspace's root is found from the workflow's folder.
  execFileSync("python3", ["-m", "venv", "--without-pip", join(root, ".venv")]);
  const venv = join(root, ".venv", "bin", "python");
  assert.deepEqual(chooseInterpreter(undefined, flows, "a", env), {
    path: venv,
    from: `.venv in ${root}`,
  });
  assert.equal(
    chooseInterpreter(undefined, flows, "a", { ...env, KEEL_PYTHON: "python3" }).path,
    python3.path,
  );
  assert.equal(
    chooseInterpreter({ interpreter: "../.venv/bin/python" }, flows, "a", {
      ...env,
      KEEL_PYTHON: "/nowhere",
    }).path,
    join(root, ".venv", "bin", "python"),
  );
  // The tool runs in the chosen environment.
  writeFileSync(join(flows, "t.py"), TOOLS);
  const path = join(flows, "flow.keel.yaml");
  writeFileSync(
    path,
    `keel: 1
name: t
steps:
  where: { type: tool, uses: ./t.py#where }
`,
  );
  const run = await runText("", { path });
  const [attempt] = await run.store.attempts(run.result.runId);
  assert.equal(await run.store.blob(attempt!.outputHash!), JSON.stringify(venv));
});

test("one worker serves the run's calls one after another, imports a module again only when it changed, and ends with the run", async () => {
  const tool = (n: number) =>
    `import os\nloads = globals().get("loads", 0) + 1\ndef pid():\n    return [os.getpid(), ${n}, loads]\n`;
  const path = writeWorkflow(
    `keel: 1
name: t
steps:
  a: { type: tool, uses: ./p.py#pid }
  b: { type: tool, uses: ./p.py#pid, needs: [a] }
  c: { type: tool, uses: ./p.py#pid, needs: [b] }
`,
    { "p.py": tool(1) },
  );
  const effects = createNodeEffects({ providers: {}, dir: dirname(path) });
  const run = await runText("", {
    path,
    effects: {
      ...effects,
      // The module is edited between b and c: c runs the new text in the same worker.
      python: async (call, signal, scope) => {
        const r = await effects.python!(call, signal, scope);
        if (scope?.stepId === "b") writeFileSync(join(dirname(path), "p.py"), tool(2));
        return r;
      },
    },
  });
  assert.equal(run.result.status, "succeeded", JSON.stringify(run.result.steps));
  const attempts = await run.store.attempts(run.result.runId);
  const out = async (id: string) =>
    JSON.parse((await run.store.blob(attempts.find((a) => a.stepId === id)!.outputHash!))!) as [
      number,
      number,
      number,
    ];
  const [a, b, c] = [await out("a"), await out("b"), await out("c")];
  assert.equal(a[0], b[0]);
  assert.equal(b[0], c[0]);
  assert.deepEqual([a[1], b[1], c[1]], [1, 1, 2]);
  assert.deepEqual([a[2], b[2], c[2]], [1, 1, 1], "a module run again starts afresh");
  await until(() => !alive(a[0]));
});

const CACHED = `keel: 1
name: t
defaults:
  python: { lockfile: ./requirements.txt }
steps:
  a: { type: tool, uses: ./t.py#add, with: { x: 1 }, cache: true }
`;

test("the cache key holds the module, the Python version and the lockfile; a changed lockfile or Python is a tool_env_drift finding", async () => {
  const path = writeWorkflow(CACHED, { "t.py": TOOLS, "requirements.txt": "requests==2.31.0\n" });
  const store = new MemoryStore();
  const first = await runText("", { path, store });
  assert.equal(stepOf(first, "a").origin, "live");
  const [attempt] = await store.attempts(first.result.runId);
  assert.match(String(attempt!.meta?.lockfile), /^[0-9a-f]{64}$/);
  const second = await runText("", { path, store });
  assert.equal(stepOf(second, "a").origin, "cached", "nothing changed: the result is reused");
  writeFileSync(join(dirname(path), "requirements.txt"), "requests==2.32.0\n");
  const third = await runText("", { path, store });
  assert.equal(stepOf(third, "a").origin, "live", "a changed lockfile is a new key");
  const drift = third.result.findings.filter((f) => f.kind === "tool_env_drift");
  assert.equal(drift.length, 1);
  assert.match(
    drift[0]!.message,
    /^step 'a': the lockfile \(defaults\.python\.lockfile\) changed since run /,
  );
  writeFileSync(join(dirname(path), "t.py"), TOOLS + "\n# edited\n");
  const fourth = await runText("", { path, store });
  assert.equal(stepOf(fourth, "a").origin, "live", "a changed module is a new key");
  assert.deepEqual(fourth.result.findings, [], "the environment is the same as the third run's");
  // Another interpreter's version (one this machine cannot install) as its worker reports it.
  const other = createNodeEffects({ providers: {}, dir: dirname(path) });
  const fifth = await runText("", {
    path,
    store,
    noCache: true,
    effects: {
      ...other,
      python: async (call, signal, scope) => ({
        ...(await other.python!(call, signal, scope)),
        version: "3.99.0",
      }),
    },
  });
  const changed = fifth.result.findings.filter((f) => f.kind === "tool_env_drift");
  assert.equal(changed.length, 1);
  assert.match(
    changed[0]!.message,
    /^step 'a': Python changed from 3\.\d+\.\d+ to 3\.99\.0 since run /,
  );
});

test("a replay answers a Python tool from the record with no Python at all, and reports an edited module as its tool source", async () => {
  const path = writeWorkflow(
    `keel: 1
name: t
steps:
  a: { type: tool, uses: ./t.py#add, with: { x: 4 }, pure: true }
  b: { type: tool, uses: ./t.py#later, with: { ms: 1, value: "\${{ steps.a.output.sum }}" } }
`,
    { "t.py": TOOLS },
  );
  const run = await runText("", { path });
  assert.equal(run.result.status, "succeeded", JSON.stringify(run.result.steps));
  const record = (await readRecordedRun(run.store, run.result.runId))!;
  const saved = { PATH: process.env.PATH, KEEL_PYTHON: process.env.KEEL_PYTHON };
  process.env.PATH = "/nonexistent";
  process.env.KEEL_PYTHON = "/nowhere/python";
  try {
    const loaded = loadWorkflowText(path, record.source);
    assert.ok(loaded.ok);
    const report = await replayRun(record, loaded.loaded);
    assert.deepEqual(report.divergences, []);
    assert.equal(report.effectsExecuted, 0);
    assert.equal(report.status, "succeeded");
    writeFileSync(join(dirname(path), "t.py"), TOOLS.replace("x + y", "x * y"));
    const edited = await replayRun(record, loaded.loaded);
    assert.equal(edited.divergence?.field, "tool source");
    assert.equal(edited.divergence?.step, "a");
    assert.equal(edited.divergence?.line, 4);
  } finally {
    process.env.PATH = saved.PATH;
    if (saved.KEEL_PYTHON === undefined) delete process.env.KEEL_PYTHON;
    else process.env.KEEL_PYTHON = saved.KEEL_PYTHON;
  }
});

test("runs one after another each end their worker, and add no listener to the process each", async () => {
  const path = writeWorkflow(
    `keel: 1
name: t
steps:
  a: { type: tool, uses: ./p.py#pid }
`,
    { "p.py": "import os\ndef pid():\n    return os.getpid()\n" },
  );
  const pids: number[] = [];
  let listeners = -1;
  for (let i = 0; i < 12; i++) {
    const run = await runText("", { path });
    const [attempt] = await run.store.attempts(run.result.runId);
    pids.push(JSON.parse((await run.store.blob(attempt!.outputHash!))!) as number);
    if (i === 0) listeners = process.listenerCount("exit");
  }
  assert.equal(process.listenerCount("exit"), listeners);
  assert.equal(new Set(pids).size, 12, "each run had its own worker");
  await until(() => pids.every((pid) => !alive(pid)));
});

test("calls in parallel run in workers of their own: a timeout kills only its call's worker", async () => {
  const path = writeWorkflow(
    `keel: 1
name: t
inputs:
  marker: { type: string }
steps:
  stuck: { type: tool, uses: ./t.py#stuck, with: { marker: "\${{ inputs.marker }}" }, timeout: 700ms, on_error: continue }
  slow: { type: tool, uses: ./t.py#nap, with: { ms: 2500 } }
`,
    { "t.py": TOOLS },
  );
  const marker = join(dirname(path), "pids");
  const run = await runText("", { path, inputs: { marker } });
  assert.equal(stepOf(run, "stuck").error?.kind, "timeout");
  assert.equal(stepOf(run, "slow").status, "succeeded", JSON.stringify(run.result.steps));
  const [killed] = readFileSync(marker, "utf8").split(" ").map(Number) as [number];
  const attempts = await run.store.attempts(run.result.runId);
  const slow = attempts.find((a) => a.stepId === "slow")!;
  assert.notEqual(JSON.parse((await run.store.blob(slow.outputHash!))!), killed);
});

test("a worker whose Keel died in the middle of a stuck call ends its process group by itself", async () => {
  const path = writeWorkflow(
    `keel: 1
name: t
inputs:
  marker: { type: string }
steps:
  wait: { type: tool, uses: ./t.py#stuck, with: { marker: "\${{ inputs.marker }}" } }
`,
    { "t.py": TOOLS },
  );
  const marker = join(dirname(path), "pids");
  const script = join(dirname(path), "run.ts");
  writeFileSync(
    script,
    `import { runText } from ${JSON.stringify(join(import.meta.dirname, "harness.ts"))};
void runText("", { path: ${JSON.stringify(path)}, inputs: { marker: ${JSON.stringify(marker)} } });
`,
  );
  const keel = spawn(process.execPath, ["--import", "tsx", script], { stdio: "ignore" });
  try {
    await until(() => existsSync(marker) && readFileSync(marker, "utf8").includes(" "), 20_000);
  } finally {
    keel.kill("SIGKILL");
  }
  const [worker, child] = readFileSync(marker, "utf8").split(" ").map(Number) as [number, number];
  await until(() => !alive(worker) && !alive(child));
});
