// The server's settings: the client's (initializationOptions, didChangeConfiguration), checked
// with zod, on top of the workspace's `.keel/settings.json` severities.
import { dirname } from "node:path";
import type { Code, Severity } from "@keel/core/index";
import { DEFAULT_DEBOUNCE_MS, ServerSettings } from "@keel/core/protocol/lsp";
import { SeverityCache, severityOverrides } from "@keel/core/node/workspace-settings";
import { filePath } from "./workspace";

type Overrides = ReadonlyMap<Code, Severity | "off">;

export class Settings {
  debounceMs = DEFAULT_DEBOUNCE_MS;
  private client: Overrides = new Map();
  private readonly files = new SeverityCache();

  /** Applies settings from the client; returns problems to log (a bad message changes nothing). */
  update(raw: unknown): string[] {
    if (raw === undefined || raw === null) return [];
    const parsed = ServerSettings.safeParse(raw);
    if (!parsed.success) return [`ignored Keel settings: ${parsed.error.message}`];
    if (parsed.data.debounceMs !== undefined) this.debounceMs = parsed.data.debounceMs;
    if (!parsed.data.severity) return [];
    const { overrides, problems } = severityOverrides(parsed.data.severity, "keel.severity");
    this.client = overrides;
    return problems;
  }

  /** Severity overrides for a document: the workspace file's, then the client's on top. */
  overridesFor(uri: string): Overrides {
    const file = filePath(uri);
    const fromFile = file ? this.files.forFolder(dirname(file)).overrides : new Map();
    if (this.client.size === 0) return fromFile;
    return new Map([...fromFile, ...this.client]);
  }
}
