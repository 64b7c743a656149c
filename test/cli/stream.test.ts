// `keel run --stream`, the chunk lines of `--events`, `keel show` of a cut stream and
// `keel replay --stream`, through the built CLI, offline (scripted chunks; docs/cli.md).
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventsLine } from "@keel/core/protocol/cli";
import { spawnSync } from "node:child_process";
import { bin, keel, workspace } from "../helpers/cli";

const SECRET = "sk-live-4f9a 7c2e-Q81";
const env = { KEEL_SECRET_TOKEN: SECRET };

const FLOW = `keel: 1
name: streams
providers:
  fake:
    type: scripted
    responses:
      - match: greet
        chunks: ["Hel", { text: "lo wor", delay: 40ms }, { text: "ld", delay: 40ms }]
      - match: leak
        chunks: ["key: sk-li", "ve-4f9a 7c", { text: "2e-Q81 end", delay: 20ms }]
      - match: "/doc (a|b)/"
        chunks: ["first line of the summary\\nsecond ", { text: "line", delay: 60ms }]
steps:
  greet:
    type: llm
    stream: true
    prompt: greet
  leak:
    type: llm
    stream: true
    needs: [greet]
    prompt: "leak \${{ secrets.TOKEN }}"
outputs:
  said: steps.greet.output
  leaked: steps.leak.output
`;

const MAP = `keel: 1
name: map
providers:
  fake:
    type: scripted
    responses:
      - match: "/doc (a|b)/"
        chunks: ["first line\\nsecond ", { text: "line", delay: 80ms }]
steps:
  summarize:
    type: llm
    stream: true
    for_each: '["a", "b"]'
    key: item
    prompt: "doc \${{ item }}"
`;

test("keel run --stream prints a streamed step's text as it arrives, a secret split across chunks as its mark, then the summary", () => {
  const dir = workspace({ "flow.keel.yaml": FLOW });
  const r = keel(["run", "flow.keel.yaml", "--stream"], dir, env);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.startsWith("Hello world\nkey: «secret:TOKEN» end\n"), r.stdout);
  assert.ok(!r.stdout.includes("sk-li") && !r.stdout.includes("2e-Q81"), r.stdout);
  // The summary follows, as without --stream.
  assert.match(r.stdout, /succeeded/);
  // Without --stream nothing of the text is printed before the summary.
  const quiet = keel(["run", "flow.keel.yaml"], dir, env);
  assert.ok(!quiet.stdout.startsWith("Hello world"), quiet.stdout);
});

test("keel run --stream prefixes each line by its unit when a map's items stream at once", () => {
  const dir = workspace({ "map.keel.yaml": MAP });
  const r = keel(["run", "map.keel.yaml", "--stream"], dir);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  for (const item of ["a", "b"]) {
    assert.ok(lines.includes(`summarize[${item}] │ first line`), r.stdout);
    assert.ok(lines.includes(`summarize[${item}] │ second line`), r.stdout);
  }
  // Both items' first lines came before either's last piece (60 ms later): they ran at once.
  const firsts = lines.filter((l) => l.endsWith("│ first line")).map((l) => lines.indexOf(l));
  const seconds = lines.filter((l) => l.endsWith("│ second line")).map((l) => lines.indexOf(l));
  assert.ok(Math.max(...firsts) < Math.min(...seconds), r.stdout);
});

test("keel run --events carries chunk lines the protocol's schema accepts, redacted, joining to each reply", () => {
  const dir = workspace({ "flow.keel.yaml": FLOW });
  const r = keel(["run", "flow.keel.yaml", "--events"], dir, env);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split("\n")
    .map((l) => {
      // Each line parses, and the parse keeps all of it: no field the schema lacks.
      const json = JSON.parse(l) as unknown;
      const parsed = EventsLine.parse(json);
      assert.deepEqual(parsed, json);
      return parsed;
    });
  const chunks = lines.flatMap((l) => ("chunk" in l ? [l.chunk] : []));
  const of = (step: string) =>
    chunks
      .filter((c) => c.stepId === step)
      .map((c) => c.text)
      .join("");
  assert.equal(of("greet"), "Hello world");
  assert.equal(of("leak"), "key: «secret:TOKEN» end");
  assert.ok(!r.stdout.includes("sk-li"), r.stdout);
  assert.ok(chunks.every((c) => c.attempt === 1 && c.scope === null && c.runId !== null));
  // A chunk comes before its step's success; the result is the last line.
  const greetDone = lines.findIndex(
    (l) => "event" in l && l.event.type === "step_succeeded" && l.event.stepId === "greet",
  );
  const firstGreet = lines.findIndex((l) => "chunk" in l && l.chunk.stepId === "greet");
  assert.ok(firstGreet >= 0 && firstGreet < greetDone);
  assert.ok("result" in lines.at(-1)!);
  // A line that is none of the three is refused at the boundary.
  assert.equal(EventsLine.safeParse({ chunk: { stepId: "x", text: 3 } }).success, false);
});

test("a stream cut in the middle fails the step naming it, and keel show prints its partial reply, redacted", () => {
  const flow = `keel: 1
name: cut
providers:
  fake:
    type: scripted
    responses:
      - match: draft
        chunks: ["the first half ", "and sk-live-4f9a"]
        error: server_error
steps:
  draft:
    type: llm
    stream: true
    prompt: "draft \${{ secrets.TOKEN }}"
`;
  const dir = workspace({ "cut.keel.yaml": flow });
  const r = keel(["run", "cut.keel.yaml", "--stream"], dir, env);
  assert.equal(r.code, 1);
  assert.match(r.stdout + r.stderr, /draft/);
  assert.match(r.stdout + r.stderr, /server_error.*the stream broke after 2 chunks/);
  // The live print holds back a possible secret's start and lets it go, redacted, at the end.
  assert.ok(!r.stdout.includes("sk-live-4f9a"), r.stdout);
  const show = keel(["show", "latest", "draft"], dir);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /partial reply:\n\s+the first half and «secret:TOKEN»/);
  assert.ok(!show.stdout.includes("sk-live"), show.stdout);
});

test("keel replay --stream re-emits the recorded chunks offline, at their pace, with 0 effects executed", () => {
  const dir = workspace({ "flow.keel.yaml": FLOW });
  assert.equal(keel(["run", "flow.keel.yaml"], dir, env).code, 0);
  const started = Date.now();
  const r = keel(["replay", "latest", "--stream"], dir, env);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.startsWith("Hello world\nkey: «secret:TOKEN» end\n"), r.stdout);
  assert.match(r.stdout, /no divergence .*0 effects executed/);
  // The recorded pauses (40 + 40 ms, then the second step) are kept.
  assert.ok(Date.now() - started >= 80);
  const shown = keel(["show", "latest", "greet"], dir);
  assert.match(shown.stdout, /streamed in 3 chunks, first after/);
});

test("on a terminal, keel run --stream keeps the progress from redrawing over the streamed text", (t) => {
  // A pseudo-terminal for the CLI's stdout and stderr, as a person's shell gives it.
  if (spawnSync("script", ["--version"]).status !== 0) return t.skip("no `script` command");
  const flow = `keel: 1
name: one
providers:
  fake:
    type: scripted
    responses:
      - match: hi
        chunks: ["Hel", { text: "lo ", delay: 150ms }, { text: "there", delay: 150ms }]
steps:
  greet: { type: llm, stream: true, prompt: hi }
`;
  const dir = workspace({ "one.keel.yaml": flow });
  const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} run one.keel.yaml --stream`;
  const r = spawnSync("script", ["-qc", command, "/dev/null"], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /Hello there\r?\n/);
  // No line moved up and erased (the live progress's redraw).
  assert.ok(!r.stdout.includes("\x1b[1A"), JSON.stringify(r.stdout));
});
