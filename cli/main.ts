// `keel`: argv → command → exit code. 0 success, 1 a failure the command reports (an error
// diagnostic, ...), 2 bad usage, 130 cancelled.
import { runValidate, usage as validateUsage } from "./commands/validate";
import { UsageError } from "./output";

declare const KEEL_VERSION: string;

const HELP = `keel — validate, run and replay AI workflows (*.keel.yaml)

usage:
  ${validateUsage}

options:
  --help       show this help
  --version    print the version`;

export function main(argv: readonly string[]): number {
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
      default:
        throw new UsageError(`unknown command '${command}'\n\n${HELP}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`keel: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`keel: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
