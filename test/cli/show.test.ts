// `keel show <run> <step>`: what a step was sent and answered, every attempt and what it printed,
// for people and with --json; and `keel <command> --help` for every command keel lists.
import { test } from "node:test";
import assert from "node:assert/strict";
import { keel, workspace } from "../helpers/cli";

const SECRET = "tok-show-0123456789";

const FLOW = `keel: 1
name: shown
providers:
  flaky:
    type: scripted
    responses: [{ match: "", error: rate_limit }]
    retry: { max_attempts: 2, backoff: fixed, initial: 10ms }
    fallback: steady
  steady: { type: scripted, default: "from steady", model: steady-1 }
steps:
  note:
    type: shell
    command: [sh, -c, 'echo "to stdout"; echo "to stderr" >&2; echo done']
  fetch:
    type: tool
    uses: ./tool.js#fetch
    with: { n: 2 }
  ask:
    type: llm
    provider: flaky
    prompt: "Count \${{ steps.fetch.output.items }} with key \${{ secrets.KEY }} after \${{ steps.note.output.exit_code }}"
  broken:
    type: shell
    command: [sh, -c, 'echo "it broke" >&2; exit 3']
    on_error: continue
`;
const TOOL = `"use strict";
function fetch(args) { console.log("tool printed this"); return { items: args.n * 2 }; }
module.exports = { fetch };
`;

interface AttemptJson {
  attempt: number;
  status: string;
  origin: string;
  input: unknown;
  error: { kind: string; message: string } | null;
  provider: string | null;
  model: string | null;
  usage: { input: number; output: number } | null;
  logs: { stdout: string | null; stderr: string | null; printed: string | null };
}

function recorded(): string {
  const dir = workspace({ "flow.keel.yaml": FLOW, "tool.js": TOOL });
  const r = keel(["run", "flow.keel.yaml"], dir, { KEEL_SECRET_KEY: SECRET });
  assert.equal(r.code, 0, r.stderr);
  return dir;
}

test("keel show <run> <step> --json: the resolved input, output, every attempt with its provider, usage and logs", () => {
  const dir = recorded();
  const r = keel(["show", "latest", "ask", "--json"], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stdout.includes(SECRET), "the secret is never printed");
  const ask = JSON.parse(r.stdout) as {
    step: string;
    type: string;
    status: string;
    input: { messages: { content: string }[]; provider: string };
    output: unknown;
    attempts: AttemptJson[];
  };
  assert.equal(ask.step, "ask");
  assert.equal(ask.type, "llm");
  assert.equal(ask.status, "succeeded");
  assert.equal(ask.output, "from steady");
  assert.equal(ask.input.provider, "steady");
  assert.equal(ask.input.messages[0]!.content, "Count 4 with key «secret:KEY» after 0");
  assert.deepEqual(
    ask.attempts.map((a) => [a.attempt, a.status, a.error?.kind ?? null, a.provider, a.model]),
    [
      [1, "failed", "rate_limit", "flaky", null],
      [2, "failed", "rate_limit", "flaky", null],
      [3, "succeeded", null, "steady", "steady-1"],
    ],
  );
  assert.equal(typeof ask.attempts[2]!.usage?.input, "number");

  const note = JSON.parse(keel(["show", "latest", "note", "--json"], dir).stdout) as {
    input: { argv: string[] };
    attempts: AttemptJson[];
  };
  assert.equal(note.input.argv[0], "sh");
  assert.deepEqual(note.attempts[0]!.logs, {
    stdout: "to stdout\ndone\n",
    stderr: "to stderr\n",
    printed: null,
  });

  const fetch = JSON.parse(keel(["show", "latest", "fetch", "--json"], dir).stdout) as {
    input: { args: unknown };
    output: unknown;
    attempts: AttemptJson[];
  };
  assert.deepEqual(fetch.input.args, { n: 2 });
  assert.deepEqual(fetch.output, { items: 4 });
  assert.equal(fetch.attempts[0]!.logs.printed, "tool printed this\n");
});

test("keel show <run> <step>: the same for people, a failed step with its error and stderr", () => {
  const dir = recorded();
  const ask = keel(["show", "latest", "ask"], dir);
  assert.equal(ask.code, 0, ask.stderr);
  assert.ok(!ask.stdout.includes(SECRET));
  assert.match(ask.stdout, /^ask {2}llm {2}succeeded/);
  assert.match(ask.stdout, /input:\n[\s\S]*"content": "Count 4 with key «secret:KEY» after 0"/);
  assert.match(ask.stdout, /output:\n {2}"from steady"/);
  assert.match(ask.stdout, /attempt 1 {2}failed {2}live/);
  assert.match(ask.stdout, /provider flaky\n {2}rate_limit: /);
  assert.match(
    ask.stdout,
    /attempt 3 {2}succeeded {2}live .*\n {2}provider steady, model steady-1, \d+ tokens in, \d+ out/,
  );
  // The failed attempts went to another provider: their input is shown under them.
  assert.match(ask.stdout, /attempt 1[^\n]*\n[\s\S]*? {2}input:\n[\s\S]*"provider": "flaky"/);

  const note = keel(["show", "latest", "note"], dir).stdout;
  assert.match(note, / {2}stdout:\n {4}to stdout\n {4}done\n {2}stderr:\n {4}to stderr\n/);
  assert.match(
    keel(["show", "latest", "fetch"], dir).stdout,
    / {2}printed:\n {4}tool printed this\n/,
  );

  const broken = keel(["show", "latest", "broken"], dir);
  assert.equal(broken.code, 0, broken.stderr);
  assert.match(broken.stdout, /^broken {2}shell {2}failed/);
  assert.match(broken.stdout, /exit_code: `sh -c .*` exited with 3: it broke/);

  // A step reused by a rerun was sent nothing in it: the run it came from says what it was sent.
  const parent = (
    JSON.parse(keel(["show", "latest", "--json"], dir).stdout) as { run: { id: string } }
  ).run.id;
  const rerun = keel(["rerun", "latest", "--from", "ask", "--yes"], dir, {
    KEEL_SECRET_KEY: SECRET,
  });
  assert.equal(rerun.code, 0, rerun.stderr);
  const reused = keel(["show", "latest", "note"], dir).stdout;
  assert.match(reused, /^note {2}shell {2}succeeded {2}reused/);
  assert.match(
    reused,
    new RegExp(`input: not sent in this run \\(reused: keel show ${parent} note\\)`),
  );
  assert.match(
    reused,
    new RegExp(`attempt 1 {2}succeeded {2}reused[^\\n]*\\n {2}from run ${parent}`),
  );

  // Without a step: the run's summary, which says how to see a step.
  const summary = keel(["show", "latest"], dir);
  assert.match(summary.stdout, /^ {2}ask {2,}succeeded/m);
  assert.match(summary.stdout, /keel show \S+ <step>: a step's input, output, attempts and logs/);
});

test("keel show <run> <step> names a step the run does not have, with the steps it has, exit 2", () => {
  const dir = recorded();
  const r = keel(["show", "latest", "fetc"], dir);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /run \S+ has no step 'fetc': did you mean 'fetch'\? \(its steps: note, fetch, ask, broken\)/,
  );
  const many = keel(["show", "latest", "ask", "extra"], dir);
  assert.equal(many.code, 2);
  assert.match(many.stderr, /name one run, and at most one of its steps/);
});

test("every command keel --help lists answers --help (and keel help <command>) with its usage, exit 0", () => {
  const dir = workspace({});
  const help = keel(["--help"], dir);
  assert.equal(help.code, 0);
  const commands = [...help.stdout.matchAll(/^ {2}keel ([a-z]+)/gm)].map((m) => m[1]!);
  assert.ok(commands.length >= 15, commands.join(" "));
  for (const command of commands) {
    for (const args of [
      [command, "--help"],
      [command, "-h"],
      ["help", command],
    ]) {
      const r = keel(args, dir);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^usage: keel ${command}[ \\n]`), args.join(" "));
      assert.match(r.stdout, /\n\n\S.*\.\nEvery option is described in docs\/cli\.md/);
      assert.equal(r.stderr, "");
    }
  }
  // --help wins over anything else on the line: nothing runs.
  const r = keel(["run", "missing.keel.yaml", "--help"], dir);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^usage: keel run <file>/);
});
