// Maps, child runs and iterations as a user sees them in the CLI (docs/cli.md): `keel run`'s
// progress (one line per step, a map's tally, a loop's iteration), `keel show` of a run, a step,
// an item and an iteration, and `keel runs` / `latest` with child runs. The built CLI in a child
// process, on workflows with offline scripted providers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventsLine, RunList, RunSummary } from "@keel/core/protocol/cli";
import { keel, workspace } from "../helpers/cli";

/** A map-reduce over documents: one document's summary fails and the map goes on without it. */
const DIGEST = `keel: 1
name: weekly digest
providers:
  writer:
    type: scripted
    model: writer-1
    responses:
      - { match: "Summarize: budget", error: server_error }
    default: a short summary
steps:
  docs:
    type: transform
    expr: '[{"id": "doc-1", "t": "intro"}, {"id": "doc-2", "t": "budget"}, {"id": "doc-3", "t": "plan"}, {"id": "doc-4", "t": "risks"}]'
  summarize:
    type: llm
    provider: writer
    for_each: steps.docs.output
    key: item.id
    on_item_error: continue
    prompt: "Summarize: \${{ item.t }}"
  combine:
    type: transform
    expr: '$join(steps.summarize.output[$ != null], " / ")'
outputs:
  digest: steps.combine.output
`;

/** One ticket's triage: a child workflow. */
const TRIAGE_ONE = `keel: 1
name: triage one
inputs:
  ticket: { type: object }
providers:
  classifier: { type: scripted, default: billing }
steps:
  classify:
    type: llm
    prompt: "Classify \${{ inputs.ticket.text }}"
outputs:
  label: steps.classify.output
`;

/** Every ticket triaged by the child workflow, and one urgent ticket on its own. */
const TRIAGE_ALL = `keel: 1
name: triage all
steps:
  tickets:
    type: transform
    expr: '[{"id": "t-1", "text": "refund"}, {"id": "t-2", "text": "login"}, {"id": "t-3", "text": "crash"}]'
  per_ticket:
    type: workflow
    uses: ./triage-one.keel.yaml
    for_each: steps.tickets.output
    key: item.id
    with: { ticket: "\${{ item }}" }
  urgent:
    type: workflow
    uses: ./triage-one.keel.yaml
    with: { ticket: { id: t-0, text: outage } }
`;

/** A draft graded and redrafted until its score is high enough. */
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

const REFINE = `keel: 1
name: refine
steps:
  refine:
    type: workflow
    uses: ./draft.keel.yaml
    with: { n: 1 }
    repeat:
      max: 5
      until: output.score >= 80
      with: { n: "\${{ previous.output.score / 30 + 1 }}" }
outputs:
  last: steps.refine.output
`;

const FILES = {
  "digest.keel.yaml": DIGEST,
  "triage-one.keel.yaml": TRIAGE_ONE,
  "triage-all.keel.yaml": TRIAGE_ALL,
  "draft.keel.yaml": DRAFT,
  "refine.keel.yaml": REFINE,
};

/** The runs of the store, all of them (`keel runs --json`). */
function runs(dir: string): RunList {
  return RunList.parse(JSON.parse(keel(["runs", "--json", "--limit", "100"], dir).stdout));
}

test("progress without a terminal: one line per step as it ends, a map's with its items' tally, a loop's with its iterations, a child's with its run", () => {
  const dir = workspace(FILES);
  const digest = keel(["run", "digest.keel.yaml"], dir);
  assert.equal(digest.code, 0, digest.stderr);
  const lines = digest.stderr.trimEnd().split("\n");
  // Items make no line of their own, and do not end their step's.
  assert.deepEqual(
    lines.map((l) => l.split(/ +/)[1]),
    ["docs", "summarize", "combine"],
    digest.stderr,
  );
  assert.match(lines[1]!, /^✓ {2}summarize +\d+ms {2}4\/4 {2}3 ✓ 1 ✗$/);

  const triage = keel(["run", "triage-all.keel.yaml"], dir);
  assert.equal(triage.code, 0, triage.stderr);
  const rows = triage.stderr.trimEnd().split("\n");
  assert.deepEqual(rows.map((l) => l.split(/ +/)[1]).sort(), ["per_ticket", "tickets", "urgent"]);
  assert.match(triage.stderr, /^✓ {2}per_ticket +\d+ms {2}3\/3 {2}3 ✓ 0 ✗$/m);
  const urgent = /^✓ {2}urgent +\d+ms {2}child run (\S+)$/m.exec(triage.stderr);
  assert.ok(urgent, triage.stderr);
  assert.equal(runs(dir).find((r) => r.id === urgent[1])?.parentScope, "urgent");

  const refine = keel(["run", "refine.keel.yaml"], dir);
  assert.equal(refine.code, 0, refine.stderr);
  assert.match(refine.stderr, /^✓ {2}refine +\d+ms {2}3 iterations {2}child run \S+$/m);
  assert.equal(refine.stderr.trimEnd().split("\n").length, 1, refine.stderr);
});

test("keel run --json and --events keep their shape with maps and child runs: steps only, every event as recorded", () => {
  const dir = workspace(FILES);
  const json = keel(["run", "digest.keel.yaml", "--json"], dir);
  assert.equal(json.code, 0, json.stderr);
  assert.equal(json.stderr, "");
  const summary = RunSummary.parse(JSON.parse(json.stdout));
  assert.deepEqual(
    summary.steps.map((s) => s.id),
    ["docs", "summarize", "combine"],
  );
  const events = keel(["run", "triage-all.keel.yaml", "--events"], dir);
  assert.equal(events.code, 0, events.stderr);
  assert.equal(events.stderr, "");
  const lines = events.stdout
    .trimEnd()
    .split("\n")
    .map((l) => EventsLine.parse(JSON.parse(l)));
  const scoped = lines.flatMap((l) => ("event" in l && l.event.scope !== null ? [l.event] : []));
  assert.ok(scoped.some((e) => e.type === "child_started" && e.scope === "[t-2]"));
  assert.ok("result" in lines.at(-1)!);
});

/** Runs `file` in `dir` and returns its run id (from --json). */
function run(dir: string, file: string): string {
  const r = keel(["run", file, "--json"], dir);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { runId: string }).runId;
}

interface Row {
  unit: string;
  key: string;
  status: string;
  attempts: number;
  durationMs: number | null;
  childRun: string | null;
  error: { kind: string } | null;
  iterations: number | null;
}

interface Shown {
  step: string;
  scope: string | null;
  status: string;
  input: { messages: { content: string }[] } | null;
  output: unknown;
  error: { kind: string; message: string } | null;
  attempts: { attempt: number; status: string; error: { kind: string } | null }[];
  items: Row[] | null;
  tally: Record<string, number> | null;
  iterations: Row[] | null;
  childRuns: string[];
}

const shown = (dir: string, ...args: string[]) => {
  const r = keel(["show", ...args, "--json"], dir);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Shown;
};

test("keel show of a map: the run lists the step with its tally, the step its items in list order, an item is shown like a step", () => {
  const dir = workspace(FILES);
  const id = run(dir, "digest.keel.yaml");
  const summary = keel(["show", id], dir);
  assert.equal(summary.code, 0, summary.stderr);
  assert.match(summary.stdout, /^ {2}summarize +succeeded +\d+ms {2}4 items: 3 ✓ 1 ✗$/m);
  const runJson = JSON.parse(keel(["show", id, "--json"], dir).stdout) as {
    steps: { id: string; items: { count: number; tally: Record<string, number> } | null }[];
  };
  assert.deepEqual(
    runJson.steps.map((st) => st.id),
    ["docs", "summarize", "combine"],
  );
  assert.deepEqual(runJson.steps[1]!.items, { count: 4, tally: { succeeded: 3, failed: 1 } });

  // The map step: no attempt of its own, its items with theirs.
  const step = shown(dir, id, "summarize");
  assert.equal(step.scope, null);
  assert.deepEqual(step.attempts, []);
  assert.deepEqual(step.tally, { succeeded: 3, failed: 1 });
  assert.deepEqual(
    step.items!.map((r) => [r.unit, r.key, r.status, r.attempts, r.error?.kind ?? null]),
    [
      ["summarize[doc-1]", "doc-1", "succeeded", 1, null],
      ["summarize[doc-2]", "doc-2", "failed", 1, "server_error"],
      ["summarize[doc-3]", "doc-3", "succeeded", 1, null],
      ["summarize[doc-4]", "doc-4", "succeeded", 1, null],
    ],
  );
  assert.ok(step.items!.every((r) => typeof r.durationMs === "number"));
  const text = keel(["show", id, "summarize"], dir).stdout;
  assert.match(text, /^summarize {2}llm {2}succeeded/);
  assert.match(text, /^4 items: 3 ✓ 1 ✗$/m);
  assert.doesNotMatch(text, /no attempt was recorded/);
  assert.match(
    text,
    /items:\n {2}doc-1 +succeeded +1 attempt +\d+ms\n {2}doc-2 +failed +1 attempt/,
  );
  assert.match(text, new RegExp(`keel show ${id} 'summarize\\[doc-2\\]': one of them`));

  // One item, as a step is shown: its attempt, what it was sent, its error.
  const item = shown(dir, id, "summarize[doc-2]");
  assert.equal(item.step, "summarize");
  assert.equal(item.scope, "[doc-2]");
  assert.equal(item.status, "failed");
  assert.equal(item.error?.kind, "server_error");
  assert.equal(item.input?.messages[0]!.content, "Summarize: budget");
  assert.deepEqual(
    item.attempts.map((a) => [a.attempt, a.status]),
    [[1, "failed"]],
  );
  assert.equal(item.items, null);
  assert.equal(shown(dir, id, "summarize[doc-3]").output, "a short summary");
  const itemText = keel(["show", id, "summarize[doc-3]"], dir).stdout;
  assert.match(itemText, /^summarize\[doc-3\] {2}llm {2}succeeded/);
  assert.match(itemText, /"content": "Summarize: plan"/);
  assert.match(itemText, /output:\n {2}"a short summary"/);
  assert.match(itemText, /attempt 1 {2}succeeded {2}live/);

  // An item the step does not have: exit 2, with the closest key.
  const missing = keel(["show", id, "summarize[doc-5]"], dir);
  assert.equal(missing.code, 2);
  assert.match(
    missing.stderr,
    new RegExp(
      `run ${id} has no item 'summarize\\[doc-5\\]': did you mean 'summarize\\[doc-1\\]'\\? \\(keel show ${id} summarize lists its 4 items\\)`,
    ),
  );
  const plain = keel(["show", id, "combine#2"], dir);
  assert.equal(plain.code, 2);
  assert.match(
    plain.stderr,
    /has no iteration 'combine#2' \(step 'combine' has no items or iterations\)/,
  );
});

test("keel show of a map over more than 50 items lists the first 50, then how many more; --json all of them", () => {
  const many = DIGEST.replace(
    /expr: '\[\{"id": "doc-1".*'/,
    `expr: '[1..60].{"id": "doc-" & $string($), "t": "part " & $string($)}'`,
  );
  const dir = workspace({ "digest.keel.yaml": many });
  const id = run(dir, "digest.keel.yaml");
  const text = keel(["show", id, "summarize"], dir).stdout;
  const rows = text.split("\n").filter((l) => /^ {2}doc-\d+ /.test(l));
  assert.equal(rows.length, 50);
  assert.match(rows[49]!, /^ {2}doc-50 /);
  assert.match(text, /^ {2}… 10 more \(--json lists them all\)$/m);
  assert.equal(shown(dir, id, "summarize").items!.length, 60);
});

test("keel show of child runs: a workflow step, its items and iterations name the child run they started and how to see it; the child names its parent", () => {
  const dir = workspace(FILES);
  const id = run(dir, "triage-all.keel.yaml");
  const children = runs(dir).filter((r) => r.parentId === id);
  const childOf = (scope: string) => children.find((r) => r.parentScope === scope)!.id;

  const summary = keel(["show", id], dir).stdout;
  assert.match(
    summary,
    new RegExp(`^ {2}urgent +succeeded +\\d+ms {2}child run ${childOf("urgent")}$`, "m"),
  );
  assert.match(
    summary,
    new RegExp(
      `^ {2}per_ticket +succeeded +\\d+ms {2}3 items: 3 ✓ 0 ✗, child runs ${childOf("per_ticket[t-1]")}, ${childOf("per_ticket[t-2]")}, ${childOf("per_ticket[t-3]")}$`,
      "m",
    ),
  );
  assert.match(summary, /keel show <child run id>: a child run/);

  const urgent = shown(dir, id, "urgent");
  assert.deepEqual(urgent.childRuns, [childOf("urgent")]);
  assert.match(
    keel(["show", id, "urgent"], dir).stdout,
    new RegExp(`^child run ${childOf("urgent")}: keel show ${childOf("urgent")}$`, "m"),
  );
  const map = shown(dir, id, "per_ticket");
  assert.deepEqual(
    map.items!.map((r) => [r.key, r.childRun]),
    ["t-1", "t-2", "t-3"].map((k) => [k, childOf(`per_ticket[${k}]`)]),
  );
  const item = shown(dir, id, "per_ticket[t-2]");
  assert.deepEqual(item.childRuns, [childOf("per_ticket[t-2]")]);
  assert.deepEqual(item.output, { label: "billing" });
  assert.match(
    keel(["show", id, "per_ticket[t-2]"], dir).stdout,
    new RegExp(`child run ${childOf("per_ticket[t-2]")}: keel show ${childOf("per_ticket[t-2]")}`),
  );
  // The child run itself says where it came from.
  const child = keel(["show", childOf("per_ticket[t-2]")], dir).stdout;
  assert.match(
    child,
    new RegExp(
      `child run of ${id}, started by per_ticket\\[t-2\\]: keel show ${id} 'per_ticket\\[t-2\\]'`,
    ),
  );
});

test("keel show of a loop: the step lists its iterations with their child runs, refine#2 is one iteration", () => {
  const dir = workspace(FILES);
  const id = run(dir, "refine.keel.yaml");
  const children = runs(dir).filter((r) => r.parentId === id);
  assert.equal(children.length, 3);
  const childOf = (scope: string) => children.find((r) => r.parentScope === scope)!.id;
  assert.match(
    keel(["show", id], dir).stdout,
    /^ {2}refine +succeeded +\d+ms {2}3 iterations, child runs /m,
  );
  const step = shown(dir, id, "refine");
  assert.deepEqual(
    step.iterations!.map((r) => [r.unit, r.key, r.status, r.childRun]),
    [1, 2, 3].map((n) => [`refine#${n}`, String(n), "succeeded", childOf(`refine#${n}`)]),
  );
  assert.equal(step.items, null);
  assert.match(
    keel(["show", id, "refine"], dir).stdout,
    /iterations:\n {2}1 +succeeded +1 attempt/,
  );
  const second = shown(dir, id, "refine#2");
  assert.equal(second.scope, "#2");
  assert.deepEqual(second.output, { score: 60 });
  assert.deepEqual(second.childRuns, [childOf("refine#2")]);
  assert.deepEqual(
    second.attempts.map((a) => a.status),
    ["succeeded"],
  );
  const missing = keel(["show", id, "refine#9"], dir);
  assert.equal(missing.code, 2);
  assert.match(
    missing.stderr,
    /has no iteration 'refine#9': did you mean 'refine#\d'\? \(keel show \S+ refine lists its 3 iterations\)/,
  );
});

test("keel runs lists child runs under their parent's row (+N child runs), --json lists every run; latest is never a child run", () => {
  const dir = workspace(FILES);
  const digest = run(dir, "digest.keel.yaml");
  const triage = run(dir, "triage-all.keel.yaml");
  // A rerun has a parent too, but no parent unit: it is a run of its own, listed.
  const rerun = keel(["rerun", digest, "--from", "combine", "--yes", "--json"], dir);
  assert.equal(rerun.code, 0, rerun.stderr);
  const rerunId = (JSON.parse(rerun.stdout) as { runId: string }).runId;
  const refine = run(dir, "refine.keel.yaml");

  const all = runs(dir);
  assert.equal(all.length, 4 + 4 + 3, "--json lists child runs too");
  const text = keel(["runs"], dir);
  assert.equal(text.code, 0, text.stderr);
  const rows = text.stdout.trimEnd().split("\n");
  assert.deepEqual(
    rows.map((r) => r.split(" ")[0]),
    [refine, rerunId, triage, digest],
  );
  assert.match(rows[0]!, /refine {2}\+3 child runs$/);
  assert.match(rows[1]!, /weekly digest$/);
  assert.match(rows[2]!, /triage all {2}\+4 child runs$/);
  assert.match(rows[3]!, /weekly digest$/);
  // --limit counts the rows shown: the newest run's children do not take their places.
  const one = keel(["runs", "--limit", "2"], dir).stdout.trimEnd().split("\n");
  assert.deepEqual(
    one.map((r) => r.split(" ")[0]),
    [refine, rerunId],
  );
  // One workflow's runs, with the children they started (of another file).
  const ofFile = keel(["runs", "triage-all.keel.yaml"], dir).stdout.trimEnd().split("\n");
  assert.equal(ofFile.length, 1);
  assert.match(ofFile[0]!, new RegExp(`^${triage} .*triage all {2}\\+4 child runs$`));

  // The children of refine are newer than it: latest is still refine.
  const latest = JSON.parse(keel(["show", "latest", "--json"], dir).stdout) as {
    run: { id: string };
  };
  assert.equal(latest.run.id, refine);
  assert.match(keel(["show", "latest"], dir).stdout, new RegExp(`^refine {2}${refine}$`, "m"));
  assert.equal(shown(dir, "latest", "refine").iterations!.length, 3);
});

test("keel show of a map of loops: each item with how many iterations it ran, an item's iterations by number, one of them by step[key]#n", () => {
  const mapOfLoops = `keel: 1
name: refine each
steps:
  seeds:
    type: transform
    expr: '[{"id": "a", "n": 1}, {"id": "b", "n": 2}]'
  refine:
    type: workflow
    uses: ./draft.keel.yaml
    for_each: steps.seeds.output
    key: item.id
    with: { n: "\${{ item.n }}" }
    repeat:
      max: 5
      until: output.score >= 80
      with: { n: "\${{ previous.output.score / 30 + 1 }}" }
`;
  const dir = workspace({ "draft.keel.yaml": DRAFT, "each.keel.yaml": mapOfLoops });
  const id = run(dir, "each.keel.yaml");
  const step = shown(dir, id, "refine");
  assert.deepEqual(
    step.items!.map((r) => [r.key, r.status, r.iterations]),
    [
      ["a", "succeeded", 3],
      ["b", "succeeded", 2],
    ],
  );
  assert.equal(step.childRuns.length, 5);
  assert.match(keel(["show", id, "refine"], dir).stdout, /^ {2}b +succeeded .* 2 iterations$/m);
  const item = shown(dir, id, "refine[b]");
  assert.deepEqual(
    item.iterations!.map((r) => [r.unit, r.key]),
    [
      ["refine[b]#1", "1"],
      ["refine[b]#2", "2"],
    ],
  );
  const second = shown(dir, id, "refine[b]#2");
  assert.equal(second.scope, "[b]#2");
  assert.deepEqual(second.output, { score: 90 });
  const children = runs(dir).filter((r) => r.parentScope === "refine[b]#2");
  assert.deepEqual(second.childRuns, [children[0]!.id]);
});
