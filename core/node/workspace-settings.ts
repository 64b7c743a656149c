// Workspace settings (`.keel/settings.json`), shared by the CLI and the language server:
// { "severity": { "KEEL207": "off", "undeclared-output-field": "error" } }.
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { CODES, type Code, type Severity } from "@keel/core/index";

export type SeverityOverrides = ReadonlyMap<Code, Severity | "off">;

/** The workspace root of a path: the nearest folder up holding `.keel/` or `.git`, else the start. */
export function workspaceRoot(start: string): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, ".keel")) || existsSync(join(dir, ".git"))) return dir;
    const up = dirname(dir);
    if (up === dir) return resolve(start);
    dir = up;
  }
}

const LEVELS = new Set(["error", "warning", "information", "hint", "off"]);

/** Reads the severity overrides; problems with the settings file are returned, not thrown. */
export function readSeverityOverrides(root: string): {
  overrides: SeverityOverrides;
  problems: string[];
} {
  const file = join(root, ".keel", "settings.json");
  const overrides = new Map<Code, Severity | "off">();
  const problems: string[] = [];
  if (!existsSync(file)) return { overrides, problems };
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    return { overrides, problems: [`${file}: not valid JSON (${(e as Error).message})`] };
  }
  const severity = (data as { severity?: unknown } | null)?.severity;
  if (severity === undefined) return { overrides, problems };
  if (typeof severity !== "object" || severity === null) {
    return { overrides, problems: [`${file}: "severity" must be an object of code → level`] };
  }
  return severityOverrides(severity as Record<string, unknown>, file);
}

/** Reads a `{ code or name: level }` map; `source` names where it came from in problems. */
export function severityOverrides(
  severity: Readonly<Record<string, unknown>>,
  source: string,
): { overrides: Map<Code, Severity | "off">; problems: string[] } {
  const overrides = new Map<Code, Severity | "off">();
  const problems: string[] = [];
  const byName = new Map<string, Code>(
    Object.entries(CODES).map(([code, info]): [string, Code] => [info.name, code as Code]),
  );
  for (const [key, level] of Object.entries(severity)) {
    const code = key in CODES ? (key as Code) : byName.get(key);
    if (!code) problems.push(`${source}: unknown diagnostic code '${key}'`);
    else if (typeof level !== "string" || !LEVELS.has(level)) {
      problems.push(`${source}: '${key}' must be one of error, warning, information, hint, off`);
    } else overrides.set(code, level as Severity | "off");
  }
  return { overrides, problems };
}

/**
 * Severity overrides for files in a folder, for callers that ask often (the language server on
 * every change, `keel validate` per file): the workspace root is found once per folder, and the
 * settings file is read again only when its modification time changes.
 */
export class SeverityCache {
  private readonly roots = new Map<string, string>();
  private readonly byRoot = new Map<
    string,
    { mtimeMs: number; value: ReturnType<typeof readSeverityOverrides> }
  >();

  forFolder(folder: string): ReturnType<typeof readSeverityOverrides> {
    let root = this.roots.get(folder);
    if (root === undefined) {
      root = workspaceRoot(folder);
      this.roots.set(folder, root);
    }
    let mtimeMs = -1;
    try {
      mtimeMs = statSync(join(root, ".keel", "settings.json")).mtimeMs;
    } catch {
      // no settings file: the defaults apply
    }
    const cached = this.byRoot.get(root);
    if (cached && cached.mtimeMs === mtimeMs) return cached.value;
    const value = readSeverityOverrides(root);
    this.byRoot.set(root, { mtimeMs, value });
    return value;
  }
}
