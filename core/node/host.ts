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

export interface DecodedFile {
  readonly text: string;
  /** Offset in `text` of the first byte that is not UTF-8, if any. */
  readonly invalidAt?: number;
}

/** Decodes UTF-8 without a BOM; invalid bytes become U+FFFD and the first one is reported. */
export function decodeWorkflow(bytes: Uint8Array): DecodedFile {
  const body =
    bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(body) };
  } catch {
    const text = new TextDecoder("utf-8").decode(body);
    return { text, invalidAt: Math.max(0, text.indexOf("\uFFFD")) };
  }
}

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
