// `keel run`, `keel runs` and `keel show` as a user runs them: the built CLI in a child process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { keel, workspace as workspaceWith } from "../helpers/cli";
import { openDefaultDriver } from "@keel/core/store/sql-driver";

const workspace = (flow: string) => workspaceWith({ "flow.keel.yaml": flow });

const FLOW = `keel: 1
name: greet
inputs:
  who: { type: string }
  times: { type: number, default: 2 }
steps:
  hello: { type: transform, expr: '"hello " & inputs.who' }
  repeat: { type: transform, expr: '($h := steps.hello.output; $join($map([1..inputs.times], function($i) { $h }), ", "))' }
  check: { type: assert, that: '$length(steps.repeat.output) > 0' }
outputs:
  text: steps.repeat.output
`;

test("keel run --json prints the run's result, records it in .keel/runs.sqlite, exits 0", () => {
  const dir = workspace(FLOW);
  const r = keel(
    ["run", "flow.keel.yaml", "--input", "who=ada", "--input", "times=3", "--json"],
    dir,
  );
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.status, "succeeded");
  assert.deepEqual(out.outputs, { text: "hello ada, hello ada, hello ada" });
  assert.deepEqual(
    out.steps.map((s: { id: string; status: string; attempts: number; cached: boolean }) => [
      s.id,
      s.status,
      s.attempts,
      s.cached,
    ]),
    [
      ["hello", "succeeded", 1, false],
      ["repeat", "succeeded", 1, false],
      ["check", "succeeded", 1, false],
    ],
  );
  const runs = JSON.parse(keel(["runs", "--json"], dir).stdout);
  assert.deepEqual(
    runs.map((x: { id: string; status: string }) => [x.id, x.status]),
    [[out.runId, "succeeded"]],
  );
  const shown = JSON.parse(keel(["show", out.runId, "--json"], dir).stdout);
  assert.deepEqual(shown.outputs, out.outputs);
  assert.deepEqual(
    shown.steps.map((s: { id: string }) => s.id),
    ["hello", "repeat", "check"],
  );
});

test("keel show: each step's status, attempts, origin, error and time, retries and fallbacks counted", () => {
  const dir = workspace(readFileSync("test/fixtures/runs/mixed.keel.yaml", "utf8"));
  const run = JSON.parse(keel(["run", "flow.keel.yaml", "--json"], dir).stdout);
  const shown = JSON.parse(keel(["show", run.runId, "--json"], dir).stdout);
  type Shown = { id: string; status: string; attempts: number; origin: string | null };
  const steps = (shown.steps as (Shown & { error: string | null; durationMs: number })[]).sort(
    (x, y) => (x.id < y.id ? -1 : 1),
  );
  assert.deepEqual(
    steps.map((s) => [s.id, s.status, s.attempts, s.origin, s.error]),
    [
      ["a", "succeeded", 1, "live", null],
      ["after", "succeeded", 1, "live", null],
      ["ask", "succeeded", 3, "live", null],
      ["broken", "failed", 1, null, "assertion: assertion failed: `1 = 2` is false"],
      ["end", "succeeded", 1, "live", null],
      ["shell", "succeeded", 1, "live", null],
      ["skipped", "skipped", 0, null, null],
    ],
  );
  assert.ok(steps.every((s) => s.durationMs >= 0));
  assert.equal(steps.find((s) => s.id === "skipped")!.durationMs, 0);
  const text = keel(["show", run.runId], dir).stdout;
  assert.match(text, /ask\s+succeeded\s+\S+\s+3 attempts/);
  assert.match(text, /broken\s+failed\s+\S+\s+assertion: assertion failed/);
});

test("progress: a line per step as it ends, then the summary; a failed run exits 1", () => {
  const dir = workspace(FLOW.replace("> 0", "> 1000"));
  const r = keel(["run", "flow.keel.yaml", "--input", "who=bo"], dir);
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split("\n");
  assert.deepEqual(
    lines.map((l) => l.split(/\s+/).slice(0, 2).join(" ")),
    ["✓ hello", "✓ repeat", "✗ check"],
  );
  assert.match(
    lines[2]!,
    /assertion: assertion failed: `\$length\(steps\.repeat\.output\) > 1000` is false/,
  );
  assert.match(
    r.stdout,
    /^\nrun \S+ failed in \d+ms \(2 succeeded, 1 failed\)\nstep 'check' failed: /,
  );
});

test("bad inputs, missing secrets and invalid workflows exit 2 with a message, and record nothing", () => {
  const dir = workspace(FLOW);
  const missing = keel(["run", "flow.keel.yaml"], dir);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /input 'who' is required: pass --input who=…/);
  const typed = keel(["run", "flow.keel.yaml", "--input", "who=a", "--input", "times=many"], dir);
  assert.equal(typed.code, 2);
  assert.match(typed.stderr, /input 'times' must be a number, not 'many'/);
  writeFileSync(
    join(dir, "secret.keel.yaml"),
    "keel: 1\nname: s\nsteps:\n  a: { type: shell, command: [node, -e, '1', '${{ secrets.API }}'] }\n",
  );
  const secret = keel(["run", "secret.keel.yaml"], dir);
  assert.equal(secret.code, 2);
  assert.match(secret.stderr, /secrets that are not set: KEEL_SECRET_API/);
  writeFileSync(
    join(dir, "bad.keel.yaml"),
    "keel: 1\nname: b\nsteps:\n  a: { type: transform, expr: steps.nope.output }\n",
  );
  const bad = keel(["run", "bad.keel.yaml"], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /bad\.keel\.yaml:4:37 error KEEL201 unknown step 'nope'/);
  assert.equal(keel(["runs"], dir).stdout, "no runs recorded yet\n");
});

test("a secret's value appears nowhere in what keel run prints", () => {
  const dir = workspace(`keel: 1
name: s
steps:
  echo: { type: shell, command: [node, -e, "console.log(JSON.stringify(process.argv[1]))", "\${{ secrets.TOKEN }}"], output: { format: json } }
  check: { type: assert, that: "false", message: "got \${{ steps.echo.output.stdout }}" }
outputs:
  leaked: steps.echo.output.stdout
`);
  const secret = "tok-9f8e7d6c5b4a";
  for (const json of [false, true]) {
    const r = keel(["run", "flow.keel.yaml", ...(json ? ["--json"] : [])], dir, {
      KEEL_SECRET_TOKEN: secret,
    });
    assert.equal(r.code, 1);
    assert.equal(`${r.stdout}${r.stderr}`.includes(secret), false, `${r.stdout}${r.stderr}`);
    assert.match(`${r.stdout}${r.stderr}`, /got «secret:TOKEN»/);
  }
});

const CHAIN = `keel: 1
name: chain
steps:
  a: { type: transform, expr: '1' }
  b: { type: transform, expr: 'steps.a.output + 1' }
  c: { type: transform, expr: 'steps.b.output * 10' }
  d: { type: transform, expr: '"other"' }
`;

test("--to S runs S and what it needs; --step S reruns S alone on the last run's recorded outputs", () => {
  const dir = workspace(CHAIN);
  const to = JSON.parse(keel(["run", "flow.keel.yaml", "--to", "b", "--json"], dir).stdout);
  assert.deepEqual(
    to.steps.map((s: { id: string }) => s.id),
    ["a", "b"],
  );
  const none = keel(["run", "flow.keel.yaml", "--step", "d", "--json"], dir);
  assert.equal(none.code, 0, none.stderr);
  const step = keel(["run", "flow.keel.yaml", "--step", "c", "--json"], dir);
  assert.equal(step.code, 0, step.stderr);
  const result = JSON.parse(step.stdout);
  assert.deepEqual(
    result.steps.map((s: { id: string; status: string }) => [s.id, s.status]),
    [
      ["b", "succeeded"],
      ["c", "succeeded"],
    ],
  );
  const shown = JSON.parse(keel(["show", result.runId, "--json"], dir).stdout);
  assert.equal(shown.run.mode, "rerun");
  assert.equal(shown.run.parentId, to.runId);
  assert.deepEqual(
    shown.steps.map((s: { id: string; origin: string }) => [s.id, s.origin]),
    [
      ["b", "reused"],
      ["c", "live"],
    ],
  );
  const c = shown.attempts.find((x: { stepId: string }) => x.stepId === "c");
  assert.ok(c);
});

test("--step refuses when a step it depends on changed, or nothing recorded has its inputs", () => {
  const dir = workspace(CHAIN);
  // a step that needs nothing runs alone, as a fresh run, even before any run was recorded
  const first = keel(["run", "flow.keel.yaml", "--step", "d", "--json"], dir);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(
    JSON.parse(first.stdout).steps.map((s: { id: string; status: string }) => [s.id, s.status]),
    [["d", "succeeded"]],
  );
  const empty = keel(["run", "flow.keel.yaml", "--step", "c"], dir);
  assert.equal(empty.code, 2);
  assert.match(
    empty.stderr,
    /no recorded run of this workflow has outputs for every step 'c' needs \(b\): run them with --to c/,
  );
  assert.equal(keel(["run", "flow.keel.yaml"], dir).code, 0);
  writeFileSync(join(dir, "flow.keel.yaml"), CHAIN.replace("expr: '1'", "expr: '2'"));
  const changed = keel(["run", "flow.keel.yaml", "--step", "c"], dir);
  assert.equal(changed.code, 2);
  assert.match(
    changed.stderr,
    /step 'a', which 'c' depends on, changed since run \S+: run everything it needs with --to c/,
  );
  assert.match(
    keel(["run", "flow.keel.yaml", "--step", "cc"], dir).stderr,
    /no step 'cc' in the workflow: did you mean 'c'\?/,
  );
});

test("every sample runs offline with keel run and succeeds", () => {
  const dir = workspace("keel: 1\nname: placeholder\nsteps: {}\n");
  for (const name of readdirSync("samples").filter((f) => f.endsWith(".keel.yaml"))) {
    const r = keel(
      ["run", join(process.cwd(), "samples", name), "--store", join(dir, "runs.sqlite"), "--json"],
      dir,
    );
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    assert.equal(JSON.parse(r.stdout).status, "succeeded", name);
  }
});

test("a store written by a newer Keel is refused with what to do, and left as it was", () => {
  const dir = workspace(FLOW);
  assert.equal(keel(["run", "flow.keel.yaml", "--input", "who=a"], dir).code, 0);
  const store = join(dir, ".keel", "runs.sqlite");
  const raw = openDefaultDriver(store);
  raw.exec("PRAGMA user_version = 999");
  raw.close();
  const r = keel(["run", "flow.keel.yaml", "--input", "who=a"], dir);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /runs\.sqlite was written by a newer Keel and is read-only here: update Keel, or run with --store <another file>/,
  );
  assert.equal(JSON.parse(keel(["runs", "--json"], dir).stdout).length, 1);
});

test("keel run --events streams every recorded event as a JSON line, then the result", () => {
  const dir = workspace(FLOW);
  const r = keel(["run", "flow.keel.yaml", "--input", "who=ada", "--events"], dir);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const events = lines
    .slice(0, -1)
    .map((l) => l.event as { seq: number; type: string; stepId: string | null });
  assert.deepEqual(
    events.map((e) => e.seq),
    events.map((_, i) => i + 1),
  );
  assert.equal(events[0]!.type, "run_started");
  assert.equal(events.at(-1)!.type, "run_finished");
  assert.deepEqual(
    events.filter((e) => e.type === "step_succeeded").map((e) => e.stepId),
    ["hello", "repeat", "check"],
  );
  const { result } = lines.at(-1) as { result: { status: string; steps: unknown[] } };
  assert.equal(result.status, "succeeded");
  assert.equal(result.steps.length, 3);
  // Nothing but JSON lines on stdout, and no progress drawn on stderr.
  assert.equal(r.stderr, "");
});
