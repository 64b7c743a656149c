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
import {
  exportUsage,
  importUsage,
  runExport,
  runImport,
  runTest,
  testUsage,
} from "./commands/golden";
import { StoreFileError } from "@keel/core/store/sqlite-store";
import { UsageError } from "./output";

declare const KEEL_VERSION: string;
/** Where bugs are reported: package.json's `bugs` (esbuild.mjs defines it). */
declare const KEEL_BUGS: string;

const HELP = `keel — validate, run and replay AI workflows (*.keel.yaml)

usage:
  ${validateUsage}
  ${runUsage}
  ${resumeUsage}
  ${replayUsage}
  ${rerunUsage}
  ${diffUsage}
  ${exportUsage}
  ${importUsage}
  ${testUsage}
  ${runsUsage}
  ${showUsage}
  ${dapUsage}
  ${workerUsage}
  ${pullUsage}
  ${cancelUsage}

options:
  --help       show this help
  --version    print the version`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
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
      process.stderr.write(`keel: ${e.message}\n`);
      return 2;
    }
    const where = typeof KEEL_BUGS === "string" ? KEEL_BUGS : "Keel's issue tracker";
    process.stderr.write(
      `keel: internal error: ${(e as Error).stack ?? String(e)}\n` +
        `This is a bug in Keel: please report it at ${where}, with the command you ran and this output.\n`,
    );
    return 1;
  }
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
