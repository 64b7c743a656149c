// Diagnostics as you type: each change (re)starts a per-document timer of `debounceMs`; when it
// fires, the document's current analysis is published with its version.
// Invariant: a result is published only for the version the document has at that moment, and
// never for a version older than one already published, so a stale result never replaces a
// fresh one.
import type { Connection } from "vscode-languageserver";
import { applySeverities } from "@keel/core/index";
import { basename } from "node:path";
import type { Diagnostic } from "@keel/core/index";
import { callerDiagnostics } from "@keel/core/service/prompt-files";
import { filePath, type PromptDocument, type Workspace } from "../workspace";
import type { Callers } from "../callers";
import type { Settings } from "../settings";
import { toLspDiagnostic } from "../convert";

export class DiagnosticsPublisher {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly published = new Map<string, number>();

  constructor(
    private readonly connection: Connection,
    private readonly workspace: Workspace,
    private readonly settings: Settings,
    /** The workspace's workflows, for the callers of a prompt file. */
    private readonly callers?: Callers,
  ) {}

  schedule(uri: string): void {
    clearTimeout(this.timers.get(uri));
    this.timers.set(
      uri,
      setTimeout(() => this.publish(uri), this.settings.debounceMs),
    );
  }

  /** Re-publishes every open workflow (settings changed). */
  scheduleAll(): void {
    for (const doc of this.workspace.documents.all()) {
      if (this.workspace.isWorkflow(doc.uri) || this.workspace.isPromptFile(doc.uri))
        this.schedule(doc.uri);
    }
  }

  /** Stops updates of a closed document and clears what was published for it. */
  close(uri: string): void {
    const known = this.published.delete(uri) || this.timers.has(uri);
    clearTimeout(this.timers.get(uri));
    this.timers.delete(uri);
    if (known) void this.connection.sendDiagnostics({ uri, diagnostics: [] });
  }

  /** The `with:` problems of the steps using a prompt file, shown in the file. */
  private callerProblems(prompt: PromptDocument): Diagnostic[] {
    const users = this.callers?.promptUsers(prompt.path) ?? [];
    return callerDiagnostics(
      prompt.check,
      users.flatMap((u) =>
        u.uses.map((use) => ({
          label: `step '${use.step}' of ${basename(filePath(u.uri) ?? u.uri)}`,
          inputs: use.inputs.keys(),
        })),
      ),
    );
  }

  private publish(uri: string): void {
    this.timers.delete(uri);
    const doc = this.workspace.documents.get(uri);
    const prompt = this.workspace.promptDocument(uri);
    if (doc && prompt) {
      // A prompt file's own diagnostics (core/check/prompt-file.ts), always of its current text.
      this.published.set(uri, doc.version);
      void this.connection.sendDiagnostics({
        uri,
        version: doc.version,
        diagnostics: applySeverities(
          [...prompt.check.diagnostics, ...this.callerProblems(prompt)],
          this.settings.overridesFor(uri),
        ).map((d) => toLspDiagnostic(d, prompt.index)),
      });
      return;
    }
    const analysis = this.workspace.analysis(uri);
    if (!doc || !analysis || this.workspace.versionOf(uri) !== doc.version) return;
    const last = this.published.get(uri);
    if (last !== undefined && last > doc.version) return;
    this.published.set(uri, doc.version);
    const overrides = this.settings.overridesFor(uri);
    void this.connection.sendDiagnostics({
      uri,
      version: doc.version,
      diagnostics: applySeverities(analysis.diagnostics, overrides).map((d) =>
        toLspDiagnostic(d, analysis.index),
      ),
    });
  }
}
