// The extension's side of the CLI boundary (core/protocol/cli.ts), outside VS Code, over the
// tests' stand-in for `vscode` (vscode-stand-in.ts) and the built CLI (`npm run build`): an answer
// is checked with its schema, one the extension cannot read is an error naming the command and
// quoting the answer, shown with the command's title; a bad line of `keel run --events` is logged
// and skipped while the run goes on; a language server that does not start is shown. Where the
// CLI must misbehave, a small script stands in front of the real one (a CLI of another build).
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ReplayResult, RunList } from "@keel/core/protocol/cli";
import { keel, workspace } from "../helpers/cli";
import { installVscode, recordingLog } from "./vscode-stand-in";

const vscode = installVscode();

const SAMPLE = "support-triage.keel.yaml";
const REAL_CLI = resolve("dist/cli.js");
/** What the extension runs the CLI with: this checkout's dist/cli.js. */
const context = { asAbsolutePath: (p: string) => resolve(p) } as never;

/** An extension whose dist/cli.js writes `before` on stdout, then is the real CLI (or not). */
function cliWriting(before: string, thenReal = true) {
  const dir = mkdtempSync(join(tmpdir(), "keel-ext-cli-"));
  mkdirSync(join(dir, "dist"));
  writeFileSync(
    join(dir, "dist", "cli.js"),
    `process.stdout.write(${JSON.stringify(before)});\n${thenReal ? `require(${JSON.stringify(REAL_CLI)});\n` : ""}`,
  );
  return { asAbsolutePath: (p: string) => join(dir, p) };
}

/** A replay report of another build: its divergence has no path, and its line is text. */
const oddReplay = () =>
  JSON.stringify({
    runId: "01R",
    replayOf: runId,
    status: "succeeded",
    divergence: { step: "classify", scope: null, field: "output", line: "12", message: "differs" },
    effectsExecuted: 0,
    outputs: null,
  });
const ODD_REPLAY_SHOWN =
  /^Keel: Replay Run: `keel replay` answered what the extension cannot read \(.+ at divergence\.path\): "\{\\"runId\\":\\"01R\\"/;

let dir: string;
let flow: string;
let store: string;
let runId: string;
before(() => {
  dir = workspace({ [SAMPLE]: readFileSync(join("samples", SAMPLE), "utf8") });
  flow = join(dir, SAMPLE);
  store = join(dir, ".keel", "runs.sqlite");
  const r = keel(["run", SAMPLE, "--json"], dir);
  assert.equal(r.code, 0, r.stderr);
  runId = (JSON.parse(r.stdout) as { runId: string }).runId;
});

test("cliJson checks the CLI's answer with the schema given; another message is an error naming the command and quoting 200 characters of it", async () => {
  const { cliJson, CliAnswerError } = await import("../../extension/runs/cli");
  const args = ["runs", flow, "--json", "--store", store];
  const listed = await cliJson(context, args, dir, RunList);
  assert.ok(listed.ok);
  assert.deepEqual(
    listed.value.map((r) => r.id),
    [runId],
  );

  await assert.rejects(cliJson(context, args, dir, ReplayResult), (e: Error) => {
    assert.ok(e instanceof CliAnswerError);
    assert.match(
      e.message,
      /^`keel runs` answered what the extension cannot read \(.+\): "\[\\n {2}\{\\n {4}\\"id\\": /,
    );
    const quoted = JSON.parse(/: (".*");/.exec(e.message)![1]!) as string;
    assert.equal(quoted.length, 201, "200 characters and an ellipsis");
    assert.match(e.message, /a bug in Keel: please report it$/);
    return true;
  });

  const failed = await cliJson(
    context,
    ["replay", "01NOSUCHRUN", "--json", "--store", store],
    dir,
    ReplayResult,
  );
  assert.equal(failed.ok, false);
  assert.match(!failed.ok ? failed.said : "", /01NOSUCHRUN/, "the CLI's own message");
});

test("a command whose CLI answer is malformed shows Keel: <title>: <what the command answered>, and logs it", async () => {
  const { forwarded } = await import("../../extension/failures");
  const { runCommands } = await import("../../extension/runs/run-commands");
  const commands = runCommands(cliWriting(oddReplay(), false) as never, {} as never);
  const log = recordingLog();
  const replay = forwarded("Replay Run", commands["keel.run.replay"]! as never, log as never);
  vscode.shown.error.length = 0;
  vscode.answer = "Show Log";
  await replay({ run: { id: runId, workflowPath: flow } });
  vscode.answer = undefined;
  assert.equal(vscode.shown.error.length, 1);
  assert.match(vscode.shown.error[0]!, ODD_REPLAY_SHOWN);
  assert.match(log.lines.join("\n"), /^error: Replay Run: CliAnswerError: `keel replay` answered/m);
  await new Promise((r) => setImmediate(r));
  assert.equal(log.shown, 1, "Show Log opens the log");
});

test("a forwarded command that rejects shows its title and message, and one that resolves gives its result", async () => {
  const { forwarded } = await import("../../extension/failures");
  const log = recordingLog();
  vscode.shown.error.length = 0;
  const failing = forwarded(
    "Export as Golden Run…",
    async () => {
      throw new Error("the disk is full");
    },
    log as never,
  );
  assert.equal(await failing(), undefined);
  assert.deepEqual(vscode.shown.error, ["Keel: Export as Golden Run…: the disk is full"]);
  assert.match(log.lines[0]!, /^error: Export as Golden Run…: Error: the disk is full/);
  const working = forwarded("Refresh", async (n: unknown) => (n as number) + 1, log as never);
  assert.equal(await working(41), 42);
  assert.equal(vscode.shown.error.length, 1);
});

test("a language server that does not start is shown, with Show Log opening the log", async () => {
  const { startServer } = await import("../../extension/failures");
  const log = recordingLog();
  vscode.shown.error.length = 0;
  vscode.answer = "Show Log";
  // What client.start() rejects with when the server's process exits before it answers.
  const client = await startServer(
    () => Promise.reject(new Error("Pending response rejected since connection got disposed")),
    log as never,
  );
  vscode.answer = undefined;
  assert.equal(client, undefined);
  assert.deepEqual(vscode.shown.error, [
    "Keel: the language server did not start: Pending response rejected since connection got disposed. Validation, completion and hover are off; reload the window to try again.",
  ]);
  assert.match(log.lines[0]!, /^error: the language server did not start: Error: Pending/);
  await new Promise((r) => setImmediate(r));
  assert.equal(log.shown, 1);
  assert.equal(await startServer(async () => "client", log as never), "client");
});

test("a line of keel run --events that is not an event or the result is logged and skipped, and the run goes on", async () => {
  const { RunManager } = await import("../../extension/runs/run-manager");
  const log = recordingLog();
  const finished: (string | undefined)[] = [];
  vscode.shown.error.length = 0;
  const runs = new RunManager(
    cliWriting('not json\n{"event":{"runId":"01R","seq":"one"}}\n') as never,
    log as never,
    { environment: async () => ({}) } as never,
    (_uri, id) => finished.push(id),
  );
  await runs.run({ fsPath: flow, toString: () => `file://${flow}` } as never);
  const lines = log.lines.join("\n");
  assert.match(lines, /^warn: keel run --events: not a JSON line, skipped: not json$/m);
  assert.match(
    lines,
    /^warn: keel run --events: not an event or a result \(.+ at event\.seq\), skipped: \{"event"/m,
  );
  assert.equal(finished.length, 1);
  assert.match(finished[0] ?? "", /^01/, "the run's id, from its events");
  assert.notEqual(finished[0], runId);
  assert.match(lines, new RegExp(`^info: run ${finished[0]} succeeded$`, "m"));
  assert.deepEqual(vscode.shown.error, []);
});

test("activation registers every contributed command so that a failure shows its title, and shows a language server that did not start", async () => {
  const { activate } = await import("../../extension/main");
  vscode.shown.error.length = 0;
  const packageJSON = JSON.parse(readFileSync("package.json", "utf8")) as {
    contributes: { commands: { command: string }[] };
  };
  activate({
    ...cliWriting(oddReplay(), false),
    subscriptions: [],
    extension: { packageJSON },
    globalState: { get: (_key: string, fallback: unknown) => fallback },
  } as never);
  assert.deepEqual(
    [...vscode.registered.keys()],
    packageJSON.contributes.commands.map((c) => c.command),
  );
  await vscode.registered.get("keel.run.replay")!({ run: { id: runId, workflowPath: flow } });
  const shown = (start: string) => vscode.shown.error.find((m) => m.startsWith(start)) ?? "";
  assert.match(shown("Keel: Replay Run:"), ODD_REPLAY_SHOWN);
  assert.match(vscode.log!.lines.join("\n"), /^error: Replay Run: CliAnswerError/m);
  // The language client cannot load over the stand-in (it needs the whole of VS Code's API):
  // a server that does not start, as the user is shown it.
  const t0 = Date.now();
  while (vscode.shown.error.length < 2 && Date.now() - t0 < 10_000) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.match(
    shown("Keel: the language server"),
    /^Keel: the language server did not start: .+\. Validation, completion and hover are off; reload the window to try again\.$/,
  );
  assert.match(vscode.log!.lines.join("\n"), /^error: the language server did not start: /m);
});
