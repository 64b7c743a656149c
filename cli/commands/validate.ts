// `keel validate [--json] <files or folders>`: diagnostics for workflow files.
// Exit code 1 when any error is reported, 2 on bad usage.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { applySeverities, validateBytes } from "@keel/core/index";
import { findWorkflowFiles, nodeHost } from "@keel/core/node/host";
import { SeverityCache } from "@keel/core/node/workspace-settings";
import { styleFor, UsageError, type Style } from "../output";
import { formatDiagnostic, locate, type LocatedDiagnostic } from "../diagnostics";

export const usage = "keel validate [--json] <files or folders>...";

export function runValidate(args: readonly string[]): number {
  let json = false;
  const paths: string[] = [];
  for (const a of args) {
    if (a === "--json") json = true;
    else if (a.startsWith("-")) throw new UsageError(`unknown option '${a}'\nusage: ${usage}`);
    else paths.push(a);
  }
  if (paths.length === 0) throw new UsageError(`name at least one file or folder\nusage: ${usage}`);
  const { files, missing } = findWorkflowFiles(paths);
  if (missing.length > 0) throw new UsageError(`no such file or folder: ${missing.join(", ")}`);

  const results: LocatedDiagnostic[] = [];
  const settingsProblems = new Set<string>();
  for (const file of files) {
    for (const d of validateFile(file, settingsProblems)) results.push(d);
  }
  for (const p of settingsProblems) process.stderr.write(`keel: ${p}\n`);
  if (json) process.stdout.write(JSON.stringify(results, null, 2) + "\n");
  else printHuman(files, results, styleFor(process.stdout));
  return results.some((d) => d.severity === "error") ? 1 : 0;
}

const settings = new SeverityCache();

function validateFile(file: string, settingsProblems: Set<string>): LocatedDiagnostic[] {
  const absolute = resolve(file);
  const { overrides, problems } = settings.forFolder(resolve(absolute, ".."));
  for (const p of problems) settingsProblems.add(p);
  const { text, diagnostics } = validateBytes(readFileSync(absolute), {
    file: absolute,
    host: nodeHost,
  });
  return locate(absolute, text, applySeverities(diagnostics, overrides));
}

function printHuman(
  files: readonly string[],
  results: readonly LocatedDiagnostic[],
  s: Style,
): void {
  let last = "";
  for (const d of results) {
    if (d.file !== last) {
      if (last) process.stdout.write("\n");
      process.stdout.write(s.bold(d.file) + "\n");
      last = d.file;
    }
    process.stdout.write(formatDiagnostic(d, s) + "\n");
  }
  const errors = results.filter((d) => d.severity === "error").length;
  const others = results.length - errors;
  const withProblems = new Set(results.map((d) => d.file)).size;
  if (results.length > 0) process.stdout.write("\n");
  const summary =
    results.length === 0
      ? s.green(`${files.length} workflow file${files.length === 1 ? "" : "s"} valid`)
      : `${plural(errors, "error")}, ${plural(others, "warning")} in ${withProblems} of ${files.length} file${files.length === 1 ? "" : "s"}`;
  process.stdout.write(summary + "\n");
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
