// `defaults.<type>` (docs/format.md, "Defaults"): what every step of a type gets when it does not
// say, below the step's own keys and its provider's, above `defaults` for every step.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadWorkflow } from "@keel/core/runner/load";
import { cachePolicy } from "@keel/core/runner/cache";
import { stepRetryPolicy, stepTimeout } from "@keel/core/runner/policy";
import type { Step } from "@keel/core/model/schema";
import { load, runText, stepOf, writeWorkflow } from "./harness";

const SETTINGS = `keel: 1
name: settings
providers:
  fast: { type: scripted, default: ok }
  slow: { type: scripted, default: ok, timeout: 5m, retry: { max_attempts: 4 } }
defaults:
  timeout: 30s
  retry: { max_attempts: 2 }
  llm: { timeout: 1m, retry: { max_attempts: 3 }, params: { temperature: 0.2, max_tokens: 100 } }
  http: { timeout: 10s }
  tool: { cache: true }
steps:
  plain: { type: llm, provider: fast, prompt: hi }
  own: { type: llm, provider: fast, prompt: hi, timeout: 2s, retry: { max_attempts: 9 } }
  on_slow: { type: llm, provider: slow, prompt: hi }
  get: { type: http, url: "http://127.0.0.1:9/" }
  cmd: { type: shell, command: ["true"] }
  t: { type: tool, uses: ./t.js#f }
`;

test("a step's setting comes from the step, its provider, defaults.<type>, defaults, then the built-in", () => {
  const { workflow } = load(writeWorkflow(SETTINGS, { "t.js": "exports.f = () => 1;\n" }));
  const step = (id: string) => workflow.steps[id] as Step;
  const provider = (id: string) => (step(id) as { provider?: string }).provider;
  const timeout = (id: string) => stepTimeout(step(id), workflow, provider(id));
  const attempts = (id: string) => stepRetryPolicy(step(id), workflow, provider(id)).maxAttempts;
  assert.equal(timeout("own"), "2s");
  assert.equal(attempts("own"), 9);
  assert.equal(timeout("on_slow"), "5m");
  assert.equal(attempts("on_slow"), 4);
  assert.equal(timeout("plain"), "1m");
  assert.equal(attempts("plain"), 3);
  assert.equal(timeout("get"), "10s");
  assert.equal(timeout("cmd"), "30s");
  assert.equal(attempts("cmd"), 2);
  assert.deepEqual(cachePolicy(step("t"), workflow), { enabled: true });
  assert.deepEqual(cachePolicy(step("cmd"), workflow), { enabled: false });
});

test("defaults.llm.params lie under a step's own params, key by key, and reach the request", async () => {
  const run = await runText(
    `keel: 1
name: params
providers:
  p: { type: scripted, default: ok }
defaults:
  llm: { params: { temperature: 0.2, max_tokens: 100 } }
steps:
  a: { type: llm, prompt: hi, params: { temperature: 0.9 } }
  b: { type: llm, prompt: hi }
`,
  );
  assert.equal(run.result.status, "succeeded", run.result.error ?? "");
  const attempts = await run.store.attempts(run.result.runId);
  const paramsOf = async (id: string) => {
    const a = attempts.find((x) => x.stepId === id)!;
    const input = JSON.parse((await run.store.blob(a.inputHash))!) as { params: unknown };
    return input.params;
  };
  assert.deepEqual(await paramsOf("a"), { temperature: 0.9, max_tokens: 100 });
  assert.deepEqual(await paramsOf("b"), { temperature: 0.2, max_tokens: 100 });
});

test("defaults.shell.on_error: continue lets a failing command's dependents run; a step's own fail wins", async () => {
  const run = await runText(
    `keel: 1
name: errors
defaults:
  shell: { on_error: continue }
steps:
  soft: { type: shell, command: [sh, -c, "exit 3"] }
  after: { type: transform, needs: soft, expr: '"ran"' }
outputs:
  after: steps.after.output
`,
  );
  assert.equal(run.result.status, "succeeded", run.result.error ?? "");
  assert.equal(stepOf(run, "soft").status, "failed");
  assert.deepEqual(run.result.outputs, { after: "ran" });
  const strict = await runText(
    `keel: 1
name: errors
defaults:
  shell: { on_error: continue }
steps:
  hard: { type: shell, command: [sh, -c, "exit 3"], on_error: fail }
`,
  );
  assert.equal(strict.result.status, "failed");
});

test("a key defaults.<type> does not know is an error naming it, as a step's unknown key is", () => {
  const path = writeWorkflow(`keel: 1
name: bad
defaults:
  shell: { params: { temperature: 1 } }
  agentish: { timeout: 1s }
steps:
  a: { type: transform, expr: "1" }
`);
  const r = loadWorkflow(path);
  assert.equal(r.ok, false);
  const messages = r.ok ? [] : r.diagnostics.map((d) => d.message).join("\n");
  assert.match(String(messages), /params/);
  assert.match(String(messages), /agentish/);
});
