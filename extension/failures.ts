// What the user is shown when a command or the language server fails: an error message naming
// the command (or the server) and saying what went wrong, with "Show Log" opening the Keel output
// channel, where the error is logged too. Loaded with activation (extension/main.ts), so it
// imports nothing but `vscode`.
import * as vscode from "vscode";

/**
 * Shows `Keel: <what>: <the error's message>` (then `then`, what follows from it) and logs it;
 * "Show Log" opens the log.
 */
export function showFailure(
  what: string,
  error: unknown,
  log: vscode.LogOutputChannel,
  then = "",
): void {
  const message = error instanceof Error ? error.message : String(error);
  log.error(`${what}: ${error instanceof Error && error.stack ? error.stack : message}`);
  void vscode.window
    .showErrorMessage(`Keel: ${what}: ${message}${then && `. ${then}`}`, "Show Log")
    .then((pick) => pick && log.show());
}

/**
 * A contributed command's callback: runs the command, and a failure (its promise rejecting) is
 * shown with the command's title rather than lost. It resolves to undefined then, so that VS Code
 * does not show a second, vaguer message.
 */
export function forwarded(
  title: string,
  run: (...args: unknown[]) => unknown,
  log: vscode.LogOutputChannel,
): (...args: unknown[]) => Promise<unknown> {
  return async (...args) => {
    try {
      return await run(...args);
    } catch (e) {
      showFailure(title, e, log);
      return undefined;
    }
  };
}

/**
 * Starts the language server; when it does not start (its code fails to load, `client.start()`
 * rejects, the server's process exits before it answers) the user is told, not only the log:
 * validation, completion and hover are off until the window reloads.
 */
export async function startServer<C>(
  start: () => Promise<C>,
  log: vscode.LogOutputChannel,
): Promise<C | undefined> {
  try {
    return await start();
  } catch (e) {
    showFailure(
      "the language server did not start",
      e,
      log,
      "Validation, completion and hover are off; reload the window to try again.",
    );
    return undefined;
  }
}
