// `keel rerun` against the provider test server: it counts only the live steps.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { bin, workspace, type CliResult } from "../helpers/cli";
import { startProviderServer, type ProviderServer } from "../helpers/provider-server";

let server: ProviderServer;
before(async () => {
  server = await startProviderServer();
  server.setDefault((r) => ({ reply: `re: ${JSON.stringify(r.messages).slice(-60)}` }));
});
after(() => server.close());

const FLOW = `keel: 1
name: rerun
providers:
  oa: { type: openai, model: gpt-test, base_url: "\${{ env.OA_URL }}", api_key: "\${{ secrets.KEY }}" }
defaults: { cache: false }
steps:
  research: { type: llm, provider: oa, prompt: "Research tides." }
  draft: { type: llm, provider: oa, prompt: "Draft from: \${{ steps.research.output }}" }
  log: { type: shell, command: [sh, -c, 'echo x >> log.txt; echo done'], needs: [draft] }
  polish: { type: llm, provider: oa, prompt: "Polish: \${{ steps.draft.output }}", needs: [log] }
`;

/** The CLI in a child process, asynchronously: the provider server answers from this process. */
function run(args: string[], dir: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const env = { ...process.env, NO_COLOR: "", FORCE_COLOR: "" };
    Object.assign(env, { OA_URL: server.openaiBaseURL, KEEL_SECRET_KEY: "sk-test" });
    execFile(process.execPath, [bin, ...args], { cwd: dir, env }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

test("keel rerun --from reuses the steps upstream, runs the rest live, and --set replaces an output first", async () => {
  const dir = workspace({ "flow.keel.yaml": FLOW });
  assert.equal((await run(["run", "flow.keel.yaml"], dir)).code, 0);
  assert.equal(server.count(), 3);

  // Without --yes and without a terminal, the shell step that would run again is listed and nothing runs.
  const refused = await run(["rerun", "latest", "--from", "draft"], dir);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /will execute again: log \(shell\)/);
  assert.equal(server.count(), 3);

  // --plan says what would run, and runs nothing.
  const plan = await run(["rerun", "latest", "--from", "draft", "--plan"], dir);
  assert.equal(plan.code, 0, plan.stderr);
  assert.deepEqual(JSON.parse(plan.stdout), {
    from: "draft",
    reused: ["research"],
    live: ["draft", "log", "polish"],
    effectful: ["log"],
    changed: [],
  });
  assert.equal(server.count(), 3);

  const parent = (JSON.parse((await run(["runs", "--json"], dir)).stdout) as { id: string }[])[0]!
    .id;
  const r = await run(["rerun", parent, "--from", "draft", "--yes", "--json"], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(server.count(), 5, "research was reused; draft and polish ran");
  const result = JSON.parse(r.stdout) as { runId: string };
  const shown = JSON.parse((await run(["show", result.runId, "--json"], dir)).stdout) as {
    run: { mode: string; parentId: string };
    steps: { id: string; origin: string | null }[];
  };
  assert.equal(shown.run.mode, "rerun");
  assert.equal(shown.run.parentId, parent);
  assert.equal(shown.steps.find((s) => s.id === "research")?.origin, "reused");
  assert.equal(readFileSync(join(dir, "log.txt"), "utf8"), "x\nx\n");

  // --set: the replaced output is what the first live step sees.
  const set = await run(
    ["rerun", parent, "--from", "draft", "--yes", "--set", 'research="PATCHED"'],
    dir,
  );
  assert.equal(set.code, 0, set.stderr);
  assert.equal(server.count(), 7);
  const draftRequest = server.requests[5]!;
  assert.match(JSON.stringify(draftRequest.messages), /Draft from: PATCHED/);
});

test("keel rerun refuses when a step it would reuse changed, unless --force", async () => {
  const dir = workspace({ "flow.keel.yaml": FLOW });
  assert.equal((await run(["run", "flow.keel.yaml"], dir)).code, 0);
  const calls = server.count();
  writeFileSync(join(dir, "flow.keel.yaml"), FLOW.replace("Research tides.", "Research waves."));
  const refused = await run(["rerun", "latest", "--from", "polish", "--yes"], dir);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /step 'research' changed since run/);
  assert.equal(server.count(), calls);
  // Downstream of the change is fine: rerunning from research itself reuses nothing that changed.
  const fromChanged = await run(["rerun", "latest", "--from", "research", "--yes"], dir);
  assert.equal(fromChanged.code, 0, fromChanged.stderr);
  assert.equal(server.count(), calls + 3);
  const forced = await run(["rerun", "latest", "--from", "polish", "--yes", "--force"], dir);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(server.count(), calls + 4);
});

test("keel rerun --set runs again every step below the set step, also those not below --from", async () => {
  const dir = workspace({ "flow.keel.yaml": FLOW });
  assert.equal((await run(["run", "flow.keel.yaml"], dir)).code, 0);
  const calls = server.count();
  // draft and log are below research: their recorded outputs came from the research it replaces.
  const args = ["rerun", "latest", "--from", "polish", "--set", 'research="PATCHED"'];
  const plan = await run([...args, "--plan"], dir);
  assert.equal(plan.code, 0, plan.stderr);
  assert.deepEqual(JSON.parse(plan.stdout), {
    from: "polish",
    reused: ["research"],
    live: ["draft", "log", "polish"],
    effectful: ["log"],
    changed: [],
  });
  const r = await run([...args, "--yes", "--json"], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(server.count(), calls + 2, "draft and polish ran");
  assert.match(JSON.stringify(server.requests[calls]!.messages), /Draft from: PATCHED/);
  // polish read the new draft, whose reply quotes its prompt's end.
  assert.match(JSON.stringify(server.requests[calls + 1]!.messages), /Polish: re: .*PATCHED/);
  // A set step below another set step would be replaced and recomputed at once: refused.
  const both = await run(
    [
      "rerun",
      "latest",
      "--from",
      "polish",
      "--set",
      'research="A"',
      "--set",
      'draft="B"',
      "--plan",
    ],
    dir,
  );
  assert.equal(both.code, 2);
  assert.match(
    both.stderr,
    /--set draft: 'draft' runs again \(it is downstream of --set research\)/,
  );
});

test("keel rerun lists as hazards only the steps that may touch the world again", async () => {
  const flow = `keel: 1
name: hazards
inputs:
  deploy: { type: boolean, default: false }
steps:
  build: { type: transform, expr: '"v1"' }
  ship: { type: shell, command: [sh, -c, 'echo shipped >> ship.txt'], needs: build, if: inputs.deploy }
  announce: { type: shell, command: [echo, announced], needs: ship }
  probe: { type: shell, command: [echo, probed], needs: build, if: env.PROBE = "1" }
  pure_calc: { type: tool, uses: "./calc.mjs#double", with: { n: 2 }, pure: true }
  report: { type: transform, expr: 'steps.build.output & $string(steps.pure_calc.output)' }
`;
  const dir = workspace({
    "flow.keel.yaml": flow,
    "calc.mjs": "export function double({ n }) { return n * 2; }\n",
  });
  const first = await run(["run", "flow.keel.yaml"], dir);
  assert.equal(first.code, 0, first.stderr);
  const plan = await run(["rerun", "latest", "--from", "report", "--plan"], dir);
  assert.equal(plan.code, 0, plan.stderr);
  const parsed = JSON.parse(plan.stdout) as { live: string[]; effectful: string[] };
  // ship and announce were skipped on an input and stay skipped; probe's condition reads env,
  // which a rerun reads again, so it may run; a pure tool touches nothing.
  assert.deepEqual(parsed.live.sort(), ["announce", "probe", "report", "ship"]);
  assert.deepEqual(parsed.effectful, ["probe"]);
  const r = await run(["rerun", "latest", "--from", "report", "--yes", "--json"], dir);
  assert.equal(r.code, 0, r.stderr);
  const steps = (JSON.parse(r.stdout) as { steps: { id: string; status: string }[] }).steps;
  assert.deepEqual(
    steps.filter((s) => ["ship", "announce"].includes(s.id)).map((s) => s.status),
    ["skipped", "skipped"],
  );

  // The file on disk now ships on the same input: ship and announce may run, and are listed.
  writeFileSync(
    join(dir, "flow.keel.yaml"),
    flow.replace("if: inputs.deploy", "if: inputs.deploy = false"),
  );
  const edited = await run(["rerun", "latest", "--from", "report", "--plan"], dir);
  assert.equal(edited.code, 0, edited.stderr);
  assert.deepEqual((JSON.parse(edited.stdout) as { effectful: string[] }).effectful.sort(), [
    "announce",
    "probe",
    "ship",
  ]);
});
