// The Node side of validation: reading workflow files (with their encoding checked) and tool
// modules, and finding files in folders.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { ValidationHost } from "@keel/core/index";

export const nodeHost: ValidationHost = {
  resolve: (from, relative) => resolve(dirname(from), relative),
  readFile: (path) => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
  },
};

const WORKFLOW = /\.keel\.ya?ml$/;
const SKIP_DIRS = new Set(["node_modules", ".git", ".keel", "dist"]);

/** Workflow files named by the arguments: files as given, folders searched recursively. */
export function findWorkflowFiles(paths: readonly string[]): {
  files: string[];
  missing: string[];
} {
  const files: string[] = [];
  const missing: string[] = [];
  for (const p of paths) {
    let stat;
    try {
      stat = statSync(p);
    } catch {
      missing.push(p);
      continue;
    }
    if (stat.isDirectory()) walk(p, files);
    else files.push(p);
  }
  return { files, missing };
}

function walk(dir: string, out: string[]): void {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  );
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) walk(full, out);
    } else if (WORKFLOW.test(e.name)) out.push(full);
  }
}
