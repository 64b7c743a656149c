// A trajectory assertion in a golden test: the run that made the golden file checked the agent's
// tool calls live; `keel test` in a fresh workspace checks them again from the file, with no
// provider and no tool run, and fails when the workflow now expects other calls.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { keel, workspace } from "../helpers/cli";

const FLOW = `keel: 1
name: support
providers:
  model:
    type: scripted
    responses:
      - turn: 1
        tool_calls: [{ name: search, arguments: { query: refunds } }]
      - turn: 2
        tool_calls: [{ name: fetch_page, arguments: { url: page-refunds } }]
      - turn: 3
        reply: Refunds take 30 days.
steps:
  research:
    type: agent
    prompt: How long do refunds take?
    max_turns: 4
    tools:
      search:
        uses: ./tools.mjs#search
        parameters: { type: object, required: [query], properties: { query: { type: string } } }
      fetch_page:
        uses: ./tools.mjs#fetch_page
        parameters: { type: object, required: [url], properties: { url: { type: string } } }
  check:
    type: assert
    that: '$trajectory(steps.research, ["search", "fetch_page"], "subset")'
    message: "called \${{ $join(steps.research.turns.tool_calls.name, ', ') }}"
outputs:
  answer: steps.research.output
`;
const TOOLS = `import { appendFileSync } from "node:fs";
export async function search(args) { appendFileSync("calls.log", "search\\n"); return ["page-" + args.query]; }
export async function fetch_page(args) { appendFileSync("calls.log", "fetch\\n"); return "text of " + args.url; }
`;

test("keel test checks a golden file's trajectory assertion on its recorded tool calls, with no provider or tool", () => {
  const a = workspace({ "flow.keel.yaml": FLOW, "tools.mjs": TOOLS });
  const run = keel(["run", "flow.keel.yaml"], a);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.ok(existsSync(join(a, "calls.log")), "the live run called the tools");
  const exported = keel(["export", "latest"], a);
  assert.equal(exported.code, 0, exported.stderr);

  const b = workspace({ "flow.keel.yaml": FLOW, "tools.mjs": TOOLS });
  writeFileSync(join(b, "flow.keel-run.json"), exported.stdout);
  const passed = keel(["test"], b);
  assert.equal(passed.code, 0, passed.stdout + passed.stderr);
  assert.match(passed.stdout, /^1 passed, 0 failed$/m);
  assert.ok(!existsSync(join(b, "calls.log")), "no tool ran");

  // The workflow now forbids fetch_page: the recorded calls no longer pass, and keel test fails.
  writeFileSync(
    join(b, "flow.keel.yaml"),
    FLOW.replace('["search", "fetch_page"], "subset"', '["search"], "subset"'),
  );
  const failed = keel(["test"], b);
  assert.equal(failed.code, 1, failed.stdout + failed.stderr);
  assert.match(failed.stdout, /✖ flow\.keel-run\.json/);
  assert.match(failed.stdout, /step check \(that/);
  // What the new expectation makes of the recorded calls: the replay of the current file fails
  // at the assertion, with no live call.
  const golden = JSON.parse(exported.stdout) as { run: { id: string } };
  assert.equal(keel(["import", "flow.keel-run.json"], b).code, 0);
  const replay = keel(["replay", golden.run.id, "--current", "--json"], b);
  const report = JSON.parse(replay.stdout) as {
    status: string;
    effectsExecuted: number;
    divergence: { step: string };
  };
  assert.deepEqual(
    [report.status, report.effectsExecuted, report.divergence.step],
    ["failed", 0, "check"],
  );
  assert.ok(!existsSync(join(b, "calls.log")), "no tool ran");
});
