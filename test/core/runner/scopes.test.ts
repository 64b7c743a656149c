// Maps, child workflows and loops in the local runner (docs/format.md, "Maps, child workflows and
// loops"; docs/dev/scopes.md): each item and iteration is a unit of the record with its own
// events and attempts, and a child workflow is a run of its own linked to the unit that started it.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Effects, LlmRequest } from "@keel/core/runner/effects";
import { StepError } from "@keel/core/runner/errors";
import { MemoryStore } from "@keel/core/store/memory-store";
import { createNodeEffects } from "@keel/core/runner/node-effects";
import { readRecordedRun } from "@keel/core/replay/record";
import { replayRun } from "@keel/core/replay/replay";
import { planRerun } from "@keel/core/replay/rerun";
import { loadResumePoint } from "@keel/core/runner/resume";
import { load, runText, stepOf, writeWorkflow } from "./harness";

const DOCS = `[{"id": "a", "t": "one"}, {"id": "b", "t": "two"}, {"id": "c", "t": "three"}, {"id": "d", "t": "four"}]`;

/** A workflow mapping an llm step over four documents; `extra` adds keys to the map step. */
const mapFlow = (extra = "", prompt = "Summarize") => `keel: 1
name: digest
providers:
  fake: { type: scripted, default: fine }
steps:
  docs:
    type: transform
    expr: '${DOCS}'
  summarize:
    type: llm
    for_each: steps.docs.output
    key: item.id
${extra}
    prompt: "${prompt} \${{ item.t }} (\${{ index + 1 }} of \${{ $count(steps.docs.output) }})"
  combine:
    type: transform
    if: $always()
    expr: '{"outs": steps.summarize.output, "statuses": steps.summarize.items.status, "keys": steps.summarize.items.key}'
outputs:
  combined: steps.combine.output
`;

const promptOf = (r: LlmRequest) => r.messages.map((m) => m.content).join("\n");

/** Effects whose model calls fail for prompts containing one of `failing` (server_error). */
function failingOn(failing: readonly string[], calls: string[] = []) {
  return (base: Effects): Effects => ({
    ...base,
    llm: async (request, signal, key) => {
      const prompt = promptOf(request);
      calls.push(prompt);
      if (failing.some((f) => prompt.includes(f)))
        throw new StepError("server_error", `the provider failed on '${prompt}'`);
      return base.llm(request, signal, key);
    },
  });
}

test("a map runs its step once per item, each a unit with its own events and attempts; the output is the items' outputs in list order", async () => {
  const run = await runText(mapFlow());
  assert.equal(run.result.status, "succeeded");
  const combined = run.result.outputs!.combined as Record<string, unknown>;
  assert.deepEqual(combined.outs, ["fine", "fine", "fine", "fine"]);
  assert.deepEqual(combined.statuses, ["succeeded", "succeeded", "succeeded", "succeeded"]);
  assert.deepEqual(combined.keys, ["a", "b", "c", "d"]);
  const events = await run.store.events(run.result.runId);
  const expanded = events.find((e) => e.type === "expanded")!;
  assert.equal(expanded.stepId, "summarize");
  assert.equal(expanded.scope, null);
  assert.deepEqual(expanded.data?.keys, ["a", "b", "c", "d"]);
  assert.equal(expanded.data?.count, 4);
  const scoped = events.filter((e) => e.stepId === "summarize" && e.scope !== null);
  assert.deepEqual([...new Set(scoped.map((e) => e.scope))].sort(), ["[a]", "[b]", "[c]", "[d]"]);
  const attempts = await run.store.attempts(run.result.runId);
  const items = attempts.filter((a) => a.stepId === "summarize");
  assert.deepEqual(items.map((a) => [a.scope, a.attempt]).sort(), [
    ["[a]", 1],
    ["[b]", 1],
    ["[c]", 1],
    ["[d]", 1],
  ]);
  // The step's own end comes after every item's, with the assembled list by reference.
  const ownEnd = events.findIndex(
    (e) => e.stepId === "summarize" && e.scope === null && e.type === "step_succeeded",
  );
  assert.ok(scoped.every((e) => e.seq < events[ownEnd]!.seq));
  // Each item saw its own item and index.
  const inputs = items.map((a) => a.inputHash);
  assert.equal(new Set(inputs).size, 4);
});

test("a key made from a secret names its item with the secret's mark, in every event and attempt and in steps.X.items", async () => {
  const secret = "tok-very-secret-123";
  const flow = mapFlow().replace("key: item.id", 'key: item.id & "-" & secrets.TOKEN');
  const run = await runText(flow, {
    secrets: { TOKEN: secret },
  });
  assert.equal(run.result.status, "succeeded");
  const events = await run.store.events(run.result.runId);
  const attempts = await run.store.attempts(run.result.runId);
  const recorded = JSON.stringify([events, attempts, run.result]);
  assert.ok(!recorded.includes(secret), "the secret is in the record");
  const scopes = [...new Set(events.filter((e) => e.scope !== null).map((e) => e.scope))].sort();
  assert.deepEqual(
    scopes,
    ["a", "b", "c", "d"].map((k) => `[${k}-«secret:TOKEN»]`),
  );
  // The expanded keys and the items' scopes agree: one unit per item in the fold.
  const expanded = events.find((e) => e.type === "expanded")!;
  assert.deepEqual(
    (expanded.data?.keys as string[]).map((k) => `[${k}]`),
    scopes,
  );
  const combined = run.result.outputs!.combined as Record<string, unknown>;
  assert.deepEqual(
    combined.keys,
    ["a", "b", "c", "d"].map((k) => `${k}-«secret:TOKEN»`),
  );
});

test("items start in list order and no more than the step's concurrency run at once", async () => {
  let running = 0;
  let most = 0;
  const order: string[] = [];
  const run = await runText(mapFlow("    concurrency: 2"), {
    wrap: (base) => ({
      ...base,
      llm: async (request, signal, key) => {
        order.push(promptOf(request).split(" ")[1]!);
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        return base.llm(request, signal, key);
      },
    }),
  });
  assert.equal(run.result.status, "succeeded");
  assert.equal(most, 2);
  assert.deepEqual(order, ["one", "two", "three", "four"]);
});

test("on_item_error: fail (the default): no item starts after a failure, the running ones end, the others are recorded cancelled, and the step fails naming the item", async () => {
  const run = await runText(mapFlow("    concurrency: 1"), { wrap: failingOn(["two"]) });
  assert.equal(run.result.status, "failed");
  const step = stepOf(run, "summarize");
  assert.equal(step.status, "failed");
  assert.equal(step.error?.kind, "item_failures");
  assert.match(step.error!.message, /1 item of 4 failed; first summarize\[b\] \(item 2\)/);
  const events = await run.store.events(run.result.runId);
  const ends = Object.fromEntries(
    events
      .filter(
        (e) =>
          e.stepId === "summarize" && e.scope && /^step_(succeeded|failed|cancelled)$/.test(e.type),
      )
      .map((e) => [e.scope, e.type]),
  );
  assert.deepEqual(ends, {
    "[a]": "step_succeeded",
    "[b]": "step_failed",
    "[c]": "step_cancelled",
    "[d]": "step_cancelled",
  });
  // Cancelled items never started.
  assert.ok(!events.some((e) => e.scope === "[c]" && e.type === "step_started"));
  const combined = run.result.outputs;
  assert.equal(combined, null);
});

test("on_item_error: continue puts null in place of a failed item; drop leaves it out; the step succeeds", async () => {
  const cont = await runText(mapFlow("    on_item_error: continue"), { wrap: failingOn(["two"]) });
  assert.equal(cont.result.status, "succeeded");
  const c = cont.result.outputs!.combined as Record<string, unknown>;
  assert.deepEqual(c.outs, ["fine", null, "fine", "fine"]);
  assert.deepEqual(c.statuses, ["succeeded", "failed", "succeeded", "succeeded"]);
  const drop = await runText(mapFlow("    on_item_error: drop"), { wrap: failingOn(["two"]) });
  const d = drop.result.outputs!.combined as Record<string, unknown>;
  assert.deepEqual(d.outs, ["fine", "fine", "fine"]);
  assert.deepEqual(d.keys, ["a", "b", "c", "d"]);
});

test("max_failures, as a count or a share, fails the step once more items failed", async () => {
  const two = ["two", "three"];
  const within = await runText(mapFlow("    on_item_error: continue\n    max_failures: 2"), {
    wrap: failingOn(two),
  });
  assert.equal(stepOf(within, "summarize").status, "succeeded");
  const over = await runText(mapFlow("    on_item_error: continue\n    max_failures: 1"), {
    wrap: failingOn(two),
  });
  assert.equal(stepOf(over, "summarize").status, "failed");
  assert.match(
    stepOf(over, "summarize").error!.message,
    /2 items of 4 failed; first summarize\[b\]/,
  );
  // 25 % of 4 is one item: two failures are too many.
  const share = await runText(mapFlow('    on_item_error: drop\n    max_failures: "25%"'), {
    wrap: failingOn(two),
  });
  assert.equal(stepOf(share, "summarize").error?.kind, "item_failures");
});

test("a list over max_items, a duplicate key or a for_each that is not a list fails the step before any item runs", async () => {
  const calls: string[] = [];
  const long = await runText(mapFlow("    max_items: 3"), { wrap: failingOn([], calls) });
  assert.equal(stepOf(long, "summarize").status, "failed");
  assert.match(
    stepOf(long, "summarize").error!.message,
    /gave 4 items, more than its max_items \(3\): no item ran/,
  );
  assert.equal(calls.length, 0);
  const dup = await runText(mapFlow().replace("key: item.id", "key: $length(item.t)"));
  assert.match(stepOf(dup, "summarize").error!.message, /items 0 and 1 have the same key '3'/);
  const notList = await runText(mapFlow().replace(`expr: '${DOCS}'`, `expr: '{"a": 1}'`));
  assert.match(
    stepOf(notList, "summarize").error!.message,
    /for_each of step 'summarize' gave object, not a list/,
  );
  const events = await notList.store.events(notList.result.runId);
  assert.ok(!events.some((e) => e.scope !== null));
});

test("an empty list succeeds with an empty output", async () => {
  const run = await runText(mapFlow().replace(`expr: '${DOCS}'`, "expr: '[]'"));
  assert.equal(run.result.status, "succeeded");
  assert.deepEqual((run.result.outputs!.combined as Record<string, unknown>).outs, []);
});

test("retries are per item: a failing item is attempted again on its own", async () => {
  let failedOnce = false;
  const run = await runText(mapFlow("    retry: { max_attempts: 2, initial: 1ms }"), {
    wrap: (base) => ({
      ...base,
      llm: async (request, signal, key) => {
        if (promptOf(request).includes("three") && !failedOnce) {
          failedOnce = true;
          throw new StepError("rate_limit", "slow down");
        }
        return base.llm(request, signal, key);
      },
    }),
  });
  assert.equal(run.result.status, "succeeded");
  const attempts = await run.store.attempts(run.result.runId);
  const c = attempts.filter((a) => a.scope === "[c]").map((a) => [a.attempt, a.status]);
  assert.deepEqual(c, [
    [1, "failed"],
    [2, "succeeded"],
  ]);
  assert.ok(
    attempts.filter((a) => a.scope !== null && a.scope !== "[c]").every((a) => a.attempt === 1),
  );
});

test("the cache is per item: after one item's input changes, only that item calls the model again", async () => {
  const store = new MemoryStore();
  const path = writeWorkflow(mapFlow());
  const first: string[] = [];
  await runText("", { path, store, wrap: failingOn([], first) });
  assert.equal(first.length, 4);
  const { writeFileSync } = await import("node:fs");
  writeFileSync(path, mapFlow().replace('"t": "three"', '"t": "THREE"'));
  const second: string[] = [];
  const again = await runText("", { path, store, wrap: failingOn([], second) });
  assert.deepEqual(
    second.map((p) => p.split(" ")[1]),
    ["THREE"],
  );
  const events = await store.events(again.result.runId);
  assert.equal(
    events.filter((e) => e.type === "step_cached" && e.stepId === "summarize").length,
    3,
  );
});

test("a replay of a map makes no call and finds no divergence; an edited prompt is reported at the first item, an added document as items added", async () => {
  const run = await runText(mapFlow());
  const record = (await readRecordedRun(run.store, run.result.runId))!;
  const same = await replayRun(record, run.loaded);
  assert.equal(same.divergence, null);
  assert.equal(same.effectsExecuted, 0);
  const edited = load(writeWorkflow(mapFlow("", "Sum up")));
  const changed = await replayRun(record, edited);
  assert.equal(changed.divergence?.step, "summarize");
  assert.equal(changed.divergence?.scope, "[a]");
  assert.equal(changed.divergence?.field, "prompt");
  assert.match(changed.divergence!.message, /the prompt of summarize\[a\] \(item 1 of 4\) differs/);
  const more = load(
    writeWorkflow(mapFlow().replace('"t": "four"}]', '"t": "four"}, {"id": "e", "t": "five"}]')),
  );
  const added = await replayRun(record, more);
  const items = added.divergences.find((d) => d.field === "items");
  assert.match(
    items!.message,
    /the items of step 'summarize' differ from the record: 1 added \(e\), 0 removed/,
  );
});

const CHILD = `keel: 1
name: triage one
inputs:
  ticket: { type: object }
  tone: { type: string, default: plain }
providers:
  fake: { type: scripted, default: billing }
steps:
  classify:
    type: llm
    prompt: "Classify \${{ inputs.ticket.text }} (\${{ inputs.tone }})"
  shape:
    type: transform
    expr: '{"id": inputs.ticket.id, "label": steps.classify.output}'
outputs:
  result: steps.shape.output
`;

test("a workflow step runs its child as a run of its own, linked to the unit that started it; the child's outputs are the step's output", async () => {
  const run = await runText(
    `keel: 1
name: triage all
steps:
  tickets:
    type: transform
    expr: '[{"id": "t1", "text": "refund"}, {"id": "t2", "text": "login"}]'
  per_ticket:
    type: workflow
    uses: ./child.keel.yaml
    for_each: steps.tickets.output
    key: item.id
    with: { ticket: "\${{ item }}" }
  one:
    type: workflow
    uses: ./child.keel.yaml
    with: { ticket: { id: solo, text: hi }, tone: warm }
outputs:
  all: steps.per_ticket.output
  one: steps.one.output
`,
    { files: { "child.keel.yaml": CHILD } },
  );
  assert.equal(run.result.status, "succeeded", run.result.error ?? "");
  assert.deepEqual(run.result.outputs, {
    all: [{ result: { id: "t1", label: "billing" } }, { result: { id: "t2", label: "billing" } }],
    one: { result: { id: "solo", label: "billing" } },
  });
  const runs = await run.store.listRuns();
  const children = runs.filter((r) => r.parentId === run.result.runId);
  assert.deepEqual(children.map((r) => r.parentScope).sort(), [
    "one",
    "per_ticket[t1]",
    "per_ticket[t2]",
  ]);
  assert.ok(children.every((r) => r.status === "succeeded" && r.workflowName === "triage one"));
  const events = await run.store.events(run.result.runId);
  const started = events.filter((e) => e.type === "child_started");
  assert.deepEqual(started.map((e) => `${e.stepId}${e.scope ?? ""}`).sort(), [
    "one",
    "per_ticket[t1]",
    "per_ticket[t2]",
  ]);
  for (const e of started) assert.ok(children.some((c) => c.id === e.data?.childRun));
  // The child's own record holds its steps and its resolved prompt.
  const solo = children.find((c) => c.parentScope === "one")!;
  const childAttempts = await run.store.attempts(solo.id);
  assert.deepEqual(childAttempts.map((a) => a.stepId).sort(), ["classify", "shape"]);
});

test("a child that fails fails the step's attempt with the child step's kind; inputs that do not fit the child fail it with the reason", async () => {
  const failing = await runText(
    `keel: 1
name: p
steps:
  one:
    type: workflow
    uses: ./child.keel.yaml
    with: { ticket: { id: x, text: y } }
`,
    { files: { "child.keel.yaml": CHILD }, wrap: failingOn(["Classify"]) },
  );
  // The wrapped effects are the parent's: a child gets the Node effects of its own providers
  // unless childEffects says otherwise.
  assert.equal(failing.result.status, "succeeded");
  const viaChild = await runText(
    `keel: 1
name: p
steps:
  one:
    type: workflow
    uses: ./child.keel.yaml
    with: { ticket: { id: x, text: y } }
`,
    {
      files: { "child.keel.yaml": CHILD },
      childEffects: (child) =>
        failingOn(["Classify"])(
          createNodeEffects({ providers: child.workflow.providers ?? {}, dir: child.dir }),
        ),
    },
  );
  const one = stepOf(viaChild, "one");
  assert.equal(one.status, "failed");
  assert.equal(one.error?.kind, "server_error");
  assert.match(
    one.error!.message,
    /the child run \S+ of \.\/child\.keel\.yaml failed at step 'classify'/,
  );
  const misfit = await runText(
    `keel: 1
name: p
steps:
  one:
    type: workflow
    uses: ./child.keel.yaml
    with: { ticket: "\${{ 'just text' }}" }
`,
    { files: { "child.keel.yaml": CHILD } },
  );
  assert.equal(stepOf(misfit, "one").error?.kind, "config");
  assert.match(
    stepOf(misfit, "one").error!.message,
    /the inputs given to \.\/child\.keel\.yaml do not fit it: input 'ticket'/,
  );
  // Nothing ran: no child run was recorded.
  assert.deepEqual(
    (await misfit.store.listRuns()).map((r) => r.id),
    [misfit.result.runId],
  );
});

const DRAFT = `keel: 1
name: draft
inputs:
  n: { type: number }
steps:
  grade:
    type: transform
    expr: '{"score": inputs.n * 30}'
outputs:
  score: steps.grade.output.score
`;

const loopFlow = (repeat: string) => `keel: 1
name: refine
steps:
  refine:
    type: workflow
    uses: ./draft.keel.yaml
    with: { n: 1 }
    repeat:
${repeat}
outputs:
  last: steps.refine.output
  all: steps.refine.iterations
`;

test("a workflow step that times out waits for its child run to end cancelled and records child_finished before its failure", async () => {
  const run = await runText(
    `keel: 1
name: parent
steps:
  slow:
    type: workflow
    uses: ./child.keel.yaml
    timeout: 300ms
    on_error: continue
`,
    {
      files: {
        "child.keel.yaml": `keel: 1
name: child
steps:
  hang: { type: tool, uses: ./t.js#hang }
`,
        "t.js": "exports.hang = () => new Promise(() => {});\n",
      },
    },
  );
  assert.equal(stepOf(run, "slow").error?.kind, "timeout");
  const events = await run.store.events(run.result.runId);
  const types = events.filter((e) => e.stepId === "slow").map((e) => e.type);
  assert.deepEqual(types, [
    "step_started",
    "child_started",
    "child_finished",
    "attempt_failed",
    "step_failed",
  ]);
  const finished = events.find((e) => e.type === "child_finished")!;
  assert.equal(finished.data?.status, "cancelled");
  const child = (await run.store.listRuns()).find((r) => r.parentId === run.result.runId)!;
  assert.equal(child.status, "cancelled");
});

test("repeat runs iterations refine#1, #2, … until `until` holds; the next iteration reads previous.output", async () => {
  const run = await runText(
    loopFlow(
      `      max: 5
      until: output.score >= 80
      with: { n: "\${{ previous.output.score / 30 + 1 }}" }`,
    ),
    { files: { "draft.keel.yaml": DRAFT } },
  );
  assert.equal(run.result.status, "succeeded", run.result.error ?? "");
  assert.deepEqual(run.result.outputs, {
    last: { score: 90 },
    all: [{ score: 30 }, { score: 60 }, { score: 90 }],
  });
  const events = await run.store.events(run.result.runId);
  assert.deepEqual(
    events.filter((e) => e.type === "child_started").map((e) => e.scope),
    ["#1", "#2", "#3"],
  );
});

test("at max with `until` still false: on_max fail fails with max_iterations; on_max last keeps the last output", async () => {
  const files = { files: { "draft.keel.yaml": DRAFT } };
  const failing = await runText(loopFlow("      max: 2\n      until: output.score > 1000"), files);
  const step = stepOf(failing, "refine");
  assert.equal(step.error?.kind, "max_iterations");
  assert.match(step.error!.message, /`until` was still not true after 2 iterations/);
  const last = await runText(
    loopFlow("      max: 2\n      until: output.score > 1000\n      on_max: last"),
    files,
  );
  assert.deepEqual(last.result.outputs, {
    last: { score: 30 },
    all: [{ score: 30 }, { score: 30 }],
  });
});

test("a replay replays each child run from its own record: no call; an edit inside the child file is reported there, under the step that started it", async () => {
  const files = { "child.keel.yaml": CHILD };
  const parent = `keel: 1
name: triage all
steps:
  tickets:
    type: transform
    expr: '[{"id": "t1", "text": "refund"}, {"id": "t2", "text": "login"}]'
  per_ticket:
    type: workflow
    uses: ./child.keel.yaml
    for_each: steps.tickets.output
    key: item.id
    with: { ticket: "\${{ item }}" }
outputs:
  all: steps.per_ticket.output
`;
  const path = writeWorkflow(parent, files);
  const run = await runText("", { path });
  assert.equal(run.result.status, "succeeded", run.result.error ?? "");
  const record = (await readRecordedRun(run.store, run.result.runId))!;
  assert.equal(record.children.size, 2);
  const same = await replayRun(record, run.loaded, { currentChildren: true });
  assert.equal(same.divergence, null);
  assert.equal(same.effectsExecuted, 0);
  assert.deepEqual(same.outputs, run.result.outputs);
  // The child file changes: the parent's replay finds where, in the child.
  const { writeFileSync } = await import("node:fs");
  const { dirname, join } = await import("node:path");
  writeFileSync(join(dirname(path), "child.keel.yaml"), CHILD.replace("Classify", "Sort"));
  const edited = await replayRun(record, run.loaded, { currentChildren: true });
  const d = edited.divergence!;
  assert.equal(d.step, "per_ticket");
  assert.equal(d.scope, "[t1]");
  assert.equal(d.field, "prompt");
  assert.deepEqual(d.within, {
    file: "./child.keel.yaml",
    step: "classify",
    scope: null,
    line: 11,
  });
  assert.match(
    d.message,
    /^per_ticket\[t1\] › classify \(\.\/child\.keel\.yaml:11\): the prompt of step 'classify' differs/,
  );
  assert.equal(edited.effectsExecuted, 0);
  // As recorded, the child's own text is replayed: no divergence.
  const recorded = await replayRun(record, run.loaded);
  assert.equal(recorded.divergence, null);
  // A rerun lists a workflow step among the steps that touch the world: its child may.
  const plan = planRerun(record, run.loaded, "per_ticket", new Map());
  assert.ok(plan.ok);
  assert.deepEqual(plan.effectful, ["per_ticket"]);
});

test("a rerun of what failed keeps the items that succeeded and runs the failed and never-started ones; --from one item runs that item alone", async () => {
  const path = writeWorkflow(mapFlow("    concurrency: 1"));
  const store = new MemoryStore();
  const first = await runText("", { path, store, wrap: failingOn(["two"]) });
  assert.equal(first.result.status, "failed");
  const record = (await readRecordedRun(store, first.result.runId))!;
  const plan = planRerun(record, first.loaded, { failed: true }, new Map());
  assert.ok(plan.ok, plan.ok ? "" : plan.problem);
  assert.deepEqual([...plan.reuse.keys()].sort(), ["docs", "summarize[a]"]);
  const calls: string[] = [];
  const again = await runText("", {
    path,
    store,
    reuse: plan.reuse,
    parentId: record.run.id,
    mode: "rerun",
    wrap: failingOn([], calls),
  });
  assert.equal(again.result.status, "succeeded");
  assert.deepEqual(
    calls.map((p) => p.split(" ")[1]),
    ["two", "three", "four"],
  );
  const events = await store.events(again.result.runId);
  assert.deepEqual(
    events.filter((e) => e.type === "step_reused").map((e) => `${e.stepId}${e.scope ?? ""}`),
    ["docs", "summarize[a]"],
  );
  const combined = again.result.outputs!.combined as Record<string, unknown>;
  assert.deepEqual(combined.outs, ["fine", "fine", "fine", "fine"]);

  // From one item: the others are kept, that one runs, and what reads the map runs again.
  const done = (await readRecordedRun(store, again.result.runId))!;
  const one = planRerun(done, again.loaded, "summarize[c]", new Map());
  assert.ok(one.ok);
  assert.deepEqual([...one.reuse.keys()].sort(), [
    "docs",
    "summarize[a]",
    "summarize[b]",
    "summarize[d]",
  ]);
  assert.deepEqual(one.live, ["summarize", "combine"]);
  const typo = planRerun(done, again.loaded, "summarize[cc]", new Map());
  assert.ok(!typo.ok);
  assert.match(
    typo.problem,
    /has no item \[cc\] of step 'summarize': did you mean summarize\[c\]\?/,
  );
  const nothing = planRerun(done, again.loaded, { failed: true }, new Map());
  assert.ok(!nothing.ok);
  assert.match(nothing.problem, /has no failed or cancelled step/);
});

test("a run resumed after a crash in the middle of a map keeps the items that had ended and runs the others, numbering their attempts on", async () => {
  const path = writeWorkflow(mapFlow("    concurrency: 1"));
  const done = await runText("", { path });
  const record = (await readRecordedRun(done.store, done.result.runId))!;
  // The crash: the log ends just after item b ended; c had started.
  const cut = record.events.findIndex((e) => e.scope === "[c]" && e.type === "step_started");
  const events = record.events.slice(0, cut + 1);
  const kept = new Set(["[a]", "[b]"]);
  const store = new MemoryStore();
  await store.commit({
    runs: [{ ...record.run, status: "running", endedAt: null, outputsHash: null }],
    events,
    attempts: record.attempts.filter((a) => a.scope === null || kept.has(a.scope)),
    blobs: [
      ...new Set([
        record.run.sourceHash,
        record.run.inputsHash,
        ...record.attempts.flatMap((a) => [a.inputHash, a.outputHash]),
        ...events.map((e) => e.data?.output as string | undefined),
        ...events.map((e) => e.data?.list as string | undefined),
      ]),
    ]
      .filter((r): r is string => typeof r === "string" && !r.startsWith("="))
      .map((hash) => ({ hash, text: record.text(hash)! })),
  });
  const resumed = (await loadResumePoint(store, record.run.id))!;
  assert.deepEqual(resumed.point.inFlight, ["summarize"]);
  assert.equal(resumed.point.ended.get("summarize[a]")?.status, "succeeded");
  const calls: string[] = [];
  const again = await runText("", {
    path,
    store,
    resume: resumed.point,
    inputs: resumed.inputs,
    wrap: failingOn([], calls),
  });
  assert.equal(again.result.status, "succeeded");
  assert.deepEqual(
    calls.map((p) => p.split(" ")[1]),
    ["three", "four"],
  );
  assert.deepEqual((again.result.outputs!.combined as Record<string, unknown>).outs, [
    "fine",
    "fine",
    "fine",
    "fine",
  ]);
  const attempts = await store.attempts(record.run.id);
  const perUnit = attempts.filter((a) => a.scope !== null).map((a) => `${a.scope}:${a.attempt}`);
  assert.deepEqual(perUnit.sort(), ["[a]:1", "[b]:1", "[c]:1", "[d]:1"]);
});

test("a cancel in the middle of a map lets the running items end as cancelled, records the never-started ones cancelled, and cancels the run", async () => {
  const controller = new AbortController();
  let calls = 0;
  const run = await runText(mapFlow("    concurrency: 1"), {
    signal: controller.signal,
    wrap: (base) => ({
      ...base,
      llm: async (request, signal, key) => {
        if (++calls === 2) {
          controller.abort();
          await new Promise((r) => setTimeout(r, 5));
        }
        return base.llm(request, signal, key);
      },
    }),
  });
  assert.equal(run.result.status, "cancelled");
  assert.equal(stepOf(run, "summarize").status, "cancelled");
  const events = await run.store.events(run.result.runId);
  const ends = Object.fromEntries(
    events
      .filter((e) => e.stepId === "summarize" && e.scope && e.type !== "step_started")
      .map((e) => [e.scope, e.type]),
  );
  assert.equal(ends["[a]"], "step_succeeded");
  assert.equal(ends["[c]"], "step_cancelled");
  assert.equal(ends["[d]"], "step_cancelled");
  assert.ok(["step_succeeded", "step_cancelled"].includes(ends["[b]"]!));
  assert.ok(!events.some((e) => e.scope === "[c]" && e.type === "step_started"));
  assert.equal(calls, 2);
});
