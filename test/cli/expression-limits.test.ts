// A transform that never ends, run by the built CLI: `timeout:` ends it as a timeout in about
// that time, Ctrl-C cancels it, and either way `keel runs` lists the run (it was listed as
// running meanwhile). docs/runner.md, "Limits on expressions".
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { bin, keel, workspace } from "../helpers/cli";

const LOOP = "($f := function($x) { $f($x) }; $f(1))";

test("keel run: a transform that never ends fails as a timeout, and keel runs shows it", () => {
  const dir = workspace({
    "spin.keel.yaml": `keel: 1\nname: spin\nsteps:\n  spin:\n    type: transform\n    expr: ${LOOP}\n    timeout: 2s\n`,
  });
  const started = Date.now();
  // Killed after 20 s: an expression that held the event loop would never let the timeout fire.
  const r = spawnSync(process.execPath, [bin, "run", "spin.keel.yaml"], {
    cwd: dir,
    encoding: "utf8",
    timeout: 20_000,
    env: { ...process.env, NO_COLOR: "", FORCE_COLOR: "" },
  });
  const elapsed = Date.now() - started;
  assert.equal(r.status, 1, `${r.signal ?? ""} ${r.stderr}`);
  assert.match(r.stderr, /timeout: the expression did not end within 2s/);
  assert.ok(elapsed < 10_000, `ended after ${elapsed} ms`);
  const runs = keel(["runs"], dir);
  assert.match(runs.stdout, /failed\s.*\sspin/);
});

test("keel run: Ctrl-C cancels a transform that never ends and has no time limit", async () => {
  const dir = workspace({
    "forever.keel.yaml": `keel: 1\nname: forever\nsteps:\n  spin:\n    type: transform\n    expr: ${LOOP}\n`,
  });
  const child = spawn(process.execPath, [bin, "run", "forever.keel.yaml"], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "", FORCE_COLOR: "" },
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  // While it spins, the run is recorded as running: the evaluation lets the store commit.
  let listed = "";
  for (let i = 0; i < 50 && !/running/.test(listed); i++) {
    await new Promise((r) => setTimeout(r, 200));
    listed = keel(["runs"], dir).stdout;
  }
  assert.match(listed, /running\s.*\sforever/);
  const sent = Date.now();
  child.kill("SIGINT");
  // A process whose event loop an expression held would not see the signal: end it after 10 s.
  const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
  const code = await exited;
  clearTimeout(kill);
  assert.equal(code, 130, stderr);
  assert.ok(Date.now() - sent < 5_000, `ended ${Date.now() - sent} ms after Ctrl-C`);
  assert.match(stderr, /cancelled/);
  assert.match(keel(["runs"], dir).stdout, /cancelled\s.*\sforever/);
});
