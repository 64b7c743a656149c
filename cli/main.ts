// `keel`: argv → command → exit code. 0 success, 1 a failure the command reports (an error
// diagnostic, ...), 2 bad usage, 130 cancelled.
import { runValidate, usage as validateUsage } from "./commands/validate";
import { runRun, usage as runUsage } from "./commands/run";
import { runRuns, usage as runsUsage } from "./commands/runs";
import { runShow, usage as showUsage } from "./commands/show";
import { runResume, usage as resumeUsage } from "./commands/resume";
import { runReplay, usage as replayUsage } from "./commands/replay";
import { runDiff, usage as diffUsage } from "./commands/diff";
import { runRerun, usage as rerunUsage } from "./commands/rerun";
import { runDap, usage as dapUsage } from "./commands/dap";
import { runWorker, usage as workerUsage } from "./commands/worker";
import { runPull, usage as pullUsage } from "./commands/pull";
import { runCancel, usage as cancelUsage } from "./commands/cancel";
import { exportUsage, runExport } from "./commands/export";
import { importUsage, runImport } from "./commands/import";
import { runTest, testUsage } from "./commands/test";
import { StoreFileError } from "@keel/core/store/sqlite-store";
import { UsageError } from "./output";
import { MIN_SECRET_LENGTH, SECRET_PREFIX } from "@keel/core/check/secrets";
import { Redactor } from "@keel/core/runner/redact";

declare const KEEL_VERSION: string;
/** Where bugs are reported: package.json's `bugs` (esbuild.mjs defines it). */
declare const KEEL_BUGS: string;

/** Every command: its usage line and what it does, for `keel --help` and `keel <command> --help`. */
const COMMANDS: Record<string, { readonly usage: string; readonly does: string }> = {
  validate: {
    usage: validateUsage,
    does: "Checks workflow files; prints their errors and warnings.",
  },
  run: { usage: runUsage, does: "Runs a workflow and records the run in the store." },
  resume: {
    usage: resumeUsage,
    does: "Continues a run whose process died, under the same run id.",
  },
  replay: {
    usage: replayUsage,
    does: "Evaluates a recorded run again, every effect answered from the record; prints the first divergence.",
  },
  rerun: {
    usage: rerunUsage,
    does: "Runs the workflow again from a step, reusing the recorded outputs of every step not downstream of it.",
  },
  diff: { usage: diffUsage, does: "Compares two runs step by step." },
  export: {
    usage: exportUsage,
    does: "Prints a run as a golden file (*.keel-run.json), or sends it to OpenTelemetry.",
  },
  import: { usage: importUsage, does: "Puts a golden file's run into the store." },
  test: {
    usage: testUsage,
    does: "Replays every golden file under a folder against its workflow; exit 1 on a divergence.",
  },
  runs: {
    usage: runsUsage,
    does: "Lists the recorded runs, newest first, each with how many child runs it started.",
  },
  show: {
    usage: showUsage,
    does: "Shows a run's summary, or one step, item (step[key]) or iteration (step#n) of it: its resolved input, output, attempts, logs, items and child runs.",
  },
  dap: {
    usage: dapUsage,
    does: "Serves the replay debugger over the Debug Adapter Protocol on stdin and stdout.",
  },
  worker: { usage: workerUsage, does: "Executes the runs submitted to a team's PostgreSQL store." },
  pull: {
    usage: pullUsage,
    does: "Copies a run from a PostgreSQL store into a local SQLite store.",
  },
  cancel: { usage: cancelUsage, does: "Cancels a run that a team's workers execute." },
};

const HELP = `keel — validate, run and replay AI workflows (*.keel.yaml)

usage:
${Object.values(COMMANDS)
  .map((c) => `  ${c.usage}`)
  .join("\n")}

options:
  --help       show this help (keel <command> --help: that command's)
  --version    print the version`;

/** `keel <command> --help`: the command's usage, what it does, where the rest is documented. */
function commandHelp(command: string): string {
  const c = COMMANDS[command]!;
  return `usage: ${c.usage}\n\n${c.does}\nEvery option is described in docs/cli.md (\`keel ${command}\`).\n`;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    // `keel help <command>` and `--help` (or -h) anywhere after a command answer alike.
    const asked = command === "help" ? rest[0] : command;
    if (asked !== undefined && Object.hasOwn(COMMANDS, asked)) {
      if (command === "help" || rest.includes("--help") || rest.includes("-h")) {
        process.stdout.write(commandHelp(asked));
        return 0;
      }
    }
    switch (command) {
      case undefined:
      case "--help":
      case "-h":
      case "help":
        process.stdout.write(HELP + "\n");
        return command === undefined ? 2 : 0;
      case "--version":
        process.stdout.write(`${typeof KEEL_VERSION === "string" ? KEEL_VERSION : "dev"}\n`);
        return 0;
      case "validate":
        return runValidate(rest);
      case "run":
        return await runRun(rest);
      case "resume":
        return await runResume(rest);
      case "replay":
        return await runReplay(rest);
      case "rerun":
        return await runRerun(rest);
      case "export":
        return await runExport(rest);
      case "import":
        return await runImport(rest);
      case "test":
        return await runTest(rest);
      case "diff":
        return await runDiff(rest);
      case "runs":
        return await runRuns(rest);
      case "show":
        return await runShow(rest);
      case "dap":
        return await runDap(rest);
      case "worker":
        return await runWorker(rest);
      case "pull":
        return await runPull(rest);
      case "cancel":
        return await runCancel(rest);
      default:
        throw new UsageError(`unknown command '${command}'\n\n${HELP}`);
    }
  } catch (e) {
    // Expected failures say what is wrong and how to fix it, without a stack trace.
    if (e instanceof UsageError || e instanceof StoreFileError) {
      process.stderr.write(`keel: ${masked(e.message)}\n`);
      return 2;
    }
    const where = typeof KEEL_BUGS === "string" ? KEEL_BUGS : "Keel's issue tracker";
    process.stderr.write(
      `keel: internal error: ${masked((e as Error).stack ?? String(e))}\n` +
        `This is a bug in Keel: please report it at ${where}, with the command you ran and this output.\n`,
    );
    return 1;
  }
}

/**
 * An error printed outside any run is masked too: every KEEL_SECRET_* of the environment long
 * enough to be masked (docs/runner.md, "Masking"), in each encoding Keel produces.
 */
function masked(text: string): string {
  const secrets: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith(SECRET_PREFIX) && value && value.length >= MIN_SECRET_LENGTH)
      secrets[key.slice(SECRET_PREFIX.length)] = value;
  }
  return new Redactor(secrets).text(text);
}

// A reader that stops early (`keel runs | head -1`) closes the pipe: what is left to print is
// dropped and the command ends as it would have, with its exit code and no error (docs/cli.md).
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
  });
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
