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
