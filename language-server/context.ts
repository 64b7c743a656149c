// What every feature is handed: the connection, the open documents with their analyses, the
// settings, the diagnostics scheduler and the last-run source.
import type { Connection, ServerCapabilities } from "vscode-languageserver";
import type { Workspace } from "./workspace";
import type { Settings } from "./settings";
import type { LastRuns } from "./last-run";
import type { Callers } from "./callers";

export interface Context {
  readonly connection: Connection;
  readonly workspace: Workspace;
  readonly settings: Settings;
  readonly lastRuns: LastRuns;
  /** The workspace's workflows that call a child workflow file. */
  readonly callers: Callers;
  /** Schedules a (debounced) diagnostics update of a document. */
  readonly refreshDiagnostics: (uri: string) => void;
  /** Capabilities the client announced at initialize. */
  readonly client: { codeLensRefresh: boolean; watchedFilesRegistration: boolean };
}

/** One LSP feature: the capabilities it announces and the handlers it registers. */
export interface Feature {
  readonly capabilities?: ServerCapabilities;
  register(ctx: Context): void;
}
