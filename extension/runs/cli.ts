// The CLI as the extension runs it: `dist/cli.js` in a child process, with the extension host's
// own runtime (Node in code-server, Electron as Node in desktop VS Code), so the store opens with
// whichever SQLite driver that runtime has. Nothing here knows a workflow: the CLI does.
import type * as vscode from "vscode";
import type { z } from "zod";
import { spawn, type ChildProcess } from "node:child_process";
import { dirname } from "node:path";
import { defaultStorePath } from "@keel/core/node/store-path";
import { EventsLine } from "@keel/core/protocol/cli";

export function spawnCli(
  context: vscode.ExtensionContext,
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): ChildProcess {
  return spawn(process.execPath, [context.asAbsolutePath("dist/cli.js"), ...args], {
    cwd,
    env: { ...process.env, ...env, ELECTRON_RUN_AS_NODE: "1", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a CLI command to its end and collects what it printed. */
export function runCli(
  context: vscode.ExtensionContext,
  args: readonly string[],
  cwd: string,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawnCli(context, args, cwd);
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", (e) => resolve({ code: null, stdout, stderr: stderr + e.message }));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** What a CLI command answered on stdout, checked; or why it did not answer. */
export type CliAnswer<T> =
  | { readonly ok: true; readonly value: T; readonly code: number | null }
  /** No answer: the CLI failed and `said` on stderr why (which run, store or file; the fix). */
  | { readonly ok: false; readonly said: string; readonly code: number | null };

/**
 * An answer of the CLI the extension cannot read: not JSON, or not the message core/protocol/cli.ts
 * defines for the command. The extension and its CLI are one build, so this is a bug to report.
 */
export class CliAnswerError extends Error {
  constructor(command: string, what: string, answer: string) {
    const quoted = JSON.stringify(answer.length > 200 ? `${answer.slice(0, 200)}…` : answer);
    super(
      `\`${command}\` answered ${what}: ${quoted}; the extension and its CLI are one build, so this is a bug in Keel: please report it`,
    );
    this.name = "CliAnswerError";
  }
}

/**
 * Runs a CLI command that answers JSON on stdout and checks the answer with its schema from
 * core/protocol/cli.ts: never a cast. Throws CliAnswerError when the answer is malformed.
 */
export async function cliJson<T>(
  context: vscode.ExtensionContext,
  args: readonly string[],
  cwd: string,
  schema: z.ZodType<T>,
): Promise<CliAnswer<T>> {
  return readAnswer(args, await runCli(context, args, cwd), schema);
}

function readAnswer<T>(args: readonly string[], r: CliResult, schema: z.ZodType<T>): CliAnswer<T> {
  const text = r.stdout.trim();
  if (!text)
    return { ok: false, said: r.stderr.trim() || `keel exited with code ${r.code}`, code: r.code };
  const command = `keel ${args[0] ?? ""}`.trim();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliAnswerError(command, "something that is not JSON", text);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new CliAnswerError(
      command,
      `what the extension cannot read (${problem(parsed.error.issues)})`,
      text,
    );
  }
  return { ok: true, value: parsed.data, code: r.code };
}

/**
 * One line of `keel run --events` checked with its schema, or what is wrong with it: the run
 * manager logs a bad line and skips it, and the run goes on.
 */
export function readEventsLine(line: string): EventsLine | string {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return "not a JSON line";
  }
  const parsed = EventsLine.safeParse(json);
  if (parsed.success) return parsed.data;
  return `not an event or a result (${problem(parsed.error.issues)})`;
}

type Issues = z.ZodError["issues"];

/** The first problem of an answer and where it is; in a union, of the branch that got furthest. */
function problem(issues: Issues): string {
  const first = (list: Issues): { message: string; path: readonly PropertyKey[] } => {
    const issue = list[0]!;
    if (issue.code !== "invalid_union" || issue.errors.length === 0) return issue;
    const [best] = issue.errors.map(first).sort((a, b) => b.path.length - a.path.length);
    return { message: best!.message, path: [...issue.path, ...best!.path] };
  };
  const { message, path } = first(issues);
  return path.length > 0 ? `${message} at ${path.map(String).join(".")}` : message;
}

/** The run store of a workflow: `.keel/runs.sqlite` in its workspace root. */
export function storeOf(workflow: vscode.Uri): string {
  return defaultStorePath(dirname(workflow.fsPath));
}
