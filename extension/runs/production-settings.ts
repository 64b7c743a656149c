// The production-mode settings (issue #10): where a team's runs are (`keel.runs.postgresUrl`,
// read-only) and where the editor's runs export their spans (`keel.otel.endpoint`).
import * as vscode from "vscode";

/** The team's PostgreSQL store the Runs view shows read-only; undefined when not set. */
export function teamStoreUrl(): string | undefined {
  const url = vscode.workspace.getConfiguration("keel").get<string>("runs.postgresUrl")?.trim();
  return url ? url : undefined;
}

/** `--otel <endpoint> [--otel-content]` for `keel run`, from the settings; empty when unset. */
export function otelArgs(): string[] {
  const config = vscode.workspace.getConfiguration("keel");
  const endpoint = config.get<string>("otel.endpoint")?.trim();
  if (!endpoint) return [];
  return ["--otel", endpoint, ...(config.get<boolean>("otel.content") ? ["--otel-content"] : [])];
}
