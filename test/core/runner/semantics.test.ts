// What a run does: conditions and skips, continue-on-error, retries, fallbacks, timeouts, cancel,
// output schemas, and that a step sees only what it depends on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runText, stepOf } from "./harness";

const HEAD = "keel: 1\nname: t\nproviders:\n  p: { type: scripted, default: ok }\nsteps:\n";

test("a failed assertion fails the run and skips its dependents; $failure() and $always() steps still run", async () => {
  const run = await runText(
    HEAD +
      `  gate: { type: assert, that: "1 = 2", message: "one is not \${{ 1 + 1 }}" }
  after: { type: transform, expr: '"x"', needs: gate }
  later: { type: transform, expr: steps.after.output }
  on_failure: { type: transform, expr: '"cleanup"', needs: gate, if: $failure() }
  always: { type: transform, expr: '"notify"', needs: later, if: $always() }
  independent: { type: transform, expr: '"fine"' }
`,
  );
  assert.equal(run.result.status, "failed");
  assert.equal(run.result.error, "step 'gate' failed: assertion failed: one is not 2");
  assert.deepEqual(Object.fromEntries(run.result.steps.map((s) => [s.id, s.status])), {
    gate: "failed",
    after: "skipped",
    later: "skipped",
    on_failure: "succeeded",
    always: "succeeded",
    independent: "succeeded",
  });
  assert.deepEqual(stepOf(run, "gate").error, {
    kind: "assertion",
    message: "assertion failed: one is not 2",
  });
});

test("an `if` without status functions also needs its dependencies to succeed, and false skips", async () => {
  const run = await runText(
    "keel: 1\nname: t\ninputs:\n  go: { type: boolean, default: false }\nsteps:\n" +
      `  maybe: { type: transform, expr: '"ran"', if: inputs.go }
  next: { type: transform, expr: steps.maybe.output }
  rescue: { type: transform, expr: '"r"', needs: maybe, if: "\${{ $always() and true }}" }
`,
  );
  assert.equal(run.result.status, "succeeded");
  assert.deepEqual(
    run.result.steps.map((s) => s.status),
    ["skipped", "skipped", "succeeded"],
  );
  const yes = await runText(run.loaded.source, { inputs: { go: true } });
  assert.deepEqual(
    yes.result.steps.map((s) => s.status),
    ["succeeded", "succeeded", "succeeded"],
  );
});

test("on_error: continue keeps the run going: the step is failed, its output null, its dependents run", async () => {
  const run = await runText(
    HEAD +
      `  shaky: { type: assert, that: "false", on_error: continue }
  uses: { type: transform, expr: '{"status": steps.shaky.status, "output": steps.shaky.output}' }
`,
  );
  assert.equal(run.result.status, "succeeded");
  assert.deepEqual([stepOf(run, "shaky").status, stepOf(run, "shaky").continued], ["failed", true]);
  const events = await run.store.events(run.result.runId);
  const out = events.find((e) => e.type === "step_succeeded" && e.stepId === "uses")!;
  assert.equal(await run.store.blob(String(out.data!.output)), '{"status":"failed","output":null}');
});

test("retries follow retry.on and max_attempts, then the fallback provider answers; every attempt is recorded", async () => {
  const run = await runText(`keel: 1
name: t
providers:
  flaky:
    type: scripted
    responses: [{ match: "", error: rate_limit }]
    retry: { max_attempts: 3, backoff: fixed, initial: 10ms }
    fallback: steady
  steady: { type: scripted, default: "from steady", model: steady-1 }
steps:
  ask: { type: llm, provider: flaky, prompt: "hello" }
`);
  assert.equal(run.result.status, "succeeded");
  assert.equal(stepOf(run, "ask").attempts, 4);
  const attempts = await run.store.attempts(run.result.runId);
  assert.deepEqual(
    attempts.map((a) => [a.attempt, a.status, a.errorKind, a.meta?.provider]),
    [
      [1, "failed", "rate_limit", "flaky"],
      [2, "failed", "rate_limit", "flaky"],
      [3, "failed", "rate_limit", "flaky"],
      [4, "succeeded", null, "steady"],
    ],
  );
  assert.equal(attempts[3]!.meta?.model, "steady-1");
  const failedEvents = (await run.store.events(run.result.runId)).filter(
    (e) => e.type === "attempt_failed",
  );
  assert.deepEqual(
    failedEvents.map((e) => e.data?.fallback ?? null),
    [null, null, "steady"],
  );
});

test("an error kind not in retry.on is not retried", async () => {
  const run = await runText(`keel: 1
name: t
providers:
  p: { type: scripted, responses: [{ match: "", error: server_error }] }
steps:
  ask: { type: llm, provider: p, prompt: hi, retry: { max_attempts: 5, initial: 1ms, on: [rate_limit] } }
`);
  assert.equal(run.result.status, "failed");
  assert.equal(stepOf(run, "ask").attempts, 1);
  assert.equal(stepOf(run, "ask").error?.kind, "server_error");
});

test("a timeout ends an attempt that does not answer, and kills a command", async () => {
  const started = Date.now();
  const run = await runText(`keel: 1
name: t
providers:
  slow: { type: scripted, responses: [{ match: "", reply: late, delay: 5s }] }
steps:
  ask: { type: llm, provider: slow, prompt: hi, timeout: 100ms }
  sleeper: { type: shell, command: [node, -e, "setTimeout(() => {}, 10000)"], timeout: 300ms }
`);
  assert.ok(Date.now() - started < 4000);
  assert.deepEqual(stepOf(run, "ask").error, {
    kind: "timeout",
    message: "no answer within 100ms",
  });
  assert.deepEqual(stepOf(run, "sleeper").error, {
    kind: "timeout",
    message: "no answer within 300ms",
  });
});

test("cancelling a run aborts what is running and records the run as cancelled", async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  const run = await runText(
    `keel: 1
name: t
steps:
  long: { type: shell, command: [node, -e, "setTimeout(() => {}, 10000)"] }
  after: { type: transform, expr: steps.long.output }
  cleanup: { type: transform, expr: '"bye"', needs: long, if: $always() }
`,
    { signal: controller.signal },
  );
  assert.equal(run.result.status, "cancelled");
  assert.deepEqual(
    run.result.steps.map((s) => s.status),
    ["cancelled", "cancelled", "succeeded"],
  );
  assert.equal((await run.store.getRun(run.result.runId))?.status, "cancelled");
});

test("an output that does not match output.schema is invalid_output", async () => {
  const run = await runText(
    HEAD +
      `  shape: { type: transform, expr: '{"n": "three"}', output: { schema: { type: object, properties: { n: { type: number } } } } }
`,
  );
  assert.equal(stepOf(run, "shape").error?.kind, "invalid_output");
  assert.match(stepOf(run, "shape").error!.message, /at \/n must be number/);
});

test("a step sees the outputs of the steps it names, and no others", async () => {
  // Reaching `steps` without naming one would read a step that has not run: refused before a run.
  await assert.rejects(
    runText(
      HEAD +
        `  a: { type: transform, expr: '1' }\n  c: { type: transform, expr: '$keys(steps)', needs: a }\n`,
    ),
    /KEEL212 `steps` is read without naming a step/,
  );
  // Named through the context variable, the step is a dependency: `c` runs after the slow `a`.
  const run = await runText(
    HEAD +
      `  a: { type: shell, command: [node, -e, "setTimeout(() => console.log(41), 300)"], output: { format: json } }
  c: { type: transform, expr: '$$.steps.a.output.stdout + 1' }
`,
  );
  const events = await run.store.events(run.result.runId);
  const c = events.find((e) => e.type === "step_succeeded" && e.stepId === "c")!;
  assert.equal(await run.store.blob(String(c.data!.output)), "42");
});

test("shell commands get argv as given: a templated value is one argument, never parsed by a shell", async () => {
  const run = await runText(
    "keel: 1\nname: t\ninputs:\n  evil: { type: string, default: 'x; echo pwned $(id)' }\nsteps:\n" +
      `  echo:
    type: shell
    command: [node, -e, "console.log(JSON.stringify(process.argv.slice(1)))", "\${{ inputs.evil }}"]
    output: { format: json }
`,
  );
  const events = await run.store.events(run.result.runId);
  const out = events.find((e) => e.type === "step_succeeded")!;
  const value = JSON.parse((await run.store.blob(String(out.data!.output)))!);
  assert.deepEqual(value.stdout, ["x; echo pwned $(id)"]);
});

test("an expression that fails at run time is an `expression` error of its step", async () => {
  const run = await runText(HEAD + `  bad: { type: transform, expr: '"a" * 2' }\n`);
  assert.equal(stepOf(run, "bad").error?.kind, "expression");
  assert.match(stepOf(run, "bad").error!.message, /^expression `"a" \* 2` failed: /);
});

test("many steps in flight at once do not pile listeners on the run's signal", async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on("warning", onWarning);
  let text = HEAD + "  src: { type: transform, expr: '1' }\n";
  for (let i = 0; i < 40; i++)
    text += `  s${i}: { type: shell, command: [node, -e, "1"], needs: src }\n`;
  const run = await runText(text, { signal: new AbortController().signal });
  await new Promise((r) => setImmediate(r));
  process.off("warning", onWarning);
  assert.equal(run.result.status, "succeeded");
  assert.deepEqual(warnings, []);
});
