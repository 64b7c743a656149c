// Which Python runs a workflow's Python tools (docs/format.md, "Python tools"): chosen explicitly,
// never installed. `defaults.python.interpreter` (relative to the workflow's folder), else the
// KEEL_PYTHON variable, else a `.venv` beside the workflow or in a folder above it up to the
// workspace (the first folder holding `.git`), else `python3` on PATH.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { StepError } from "../errors";
import { sha256 } from "../recorder";

export interface PythonSettings {
  readonly interpreter?: string;
  readonly lockfile?: string;
}

export interface Interpreter {
  /** Absolute path of the executable. */
  readonly path: string;
  /** Where the choice came from, as a user would write it. */
  readonly from: string;
}

/** Whether a tool's `uses` names a Python module (`./tools/x.py#fn`). */
export function isPythonTool(uses: string): boolean {
  return uses.split("#")[0]!.endsWith(".py");
}

/**
 * What a Python tool's cache key holds beside its module: the chosen interpreter's version and
 * the lockfile's hash. No interpreter: a key no run can have made (the call then fails).
 */
export function pythonEnvironment(
  settings: PythonSettings | undefined,
  dir: string,
): { python: string; lockfile: string | null } {
  let python: string;
  try {
    python = interpreterVersion(chooseInterpreter(settings, dir, "").path);
  } catch {
    python = "(no interpreter)";
  }
  return { python, lockfile: lockfileHash(settings, dir) };
}

const VENV_PYTHON =
  process.platform === "win32"
    ? join(".venv", "Scripts", "python.exe")
    : join(".venv", "bin", "python");

/** The interpreter for a workflow in `dir`; a StepError (config) naming `step` when there is none. */
export function chooseInterpreter(
  settings: PythonSettings | undefined,
  dir: string,
  step: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Interpreter {
  const fix =
    "set `defaults.python.interpreter` in the workflow or the KEEL_PYTHON variable to a Python 3 executable, or install python3 (Keel installs nothing)";
  const named = (value: string, from: string, base: string): Interpreter => {
    const path =
      value.includes("/") || value.includes("\\") ? resolve(base, value) : onPath(value, env);
    if (path && isFile(path)) return { path, from };
    throw new StepError(
      "config",
      `step '${step}': the Python interpreter '${value}' (${from}) ${path ? `does not exist at ${path}` : "is not on PATH"}: ${fix}`,
    );
  };
  if (settings?.interpreter) return named(settings.interpreter, "defaults.python.interpreter", dir);
  const fromEnv = env.KEEL_PYTHON;
  if (fromEnv) return named(fromEnv, "KEEL_PYTHON", process.cwd());
  for (let folder = dir; ; folder = dirname(folder)) {
    const venv = join(folder, VENV_PYTHON);
    if (isFile(venv)) return { path: venv, from: `.venv in ${folder}` };
    if (existsSync(join(folder, ".git")) || dirname(folder) === folder) break;
  }
  const python3 = onPath(process.platform === "win32" ? "python" : "python3", env);
  if (python3) return { path: python3, from: "python3 on PATH" };
  throw new StepError(
    "config",
    `step '${step}': no Python interpreter: \`defaults.python.interpreter\` and KEEL_PYTHON are not set, no .venv was found beside the workflow or above it, and python3 is not on PATH: ${fix}`,
  );
}

/** The sha256 of `defaults.python.lockfile` (relative to `dir`); null when none is declared. */
export function lockfileHash(settings: PythonSettings | undefined, dir: string): string | null {
  if (!settings?.lockfile) return null;
  try {
    return sha256(readFileSync(resolve(dir, settings.lockfile), "utf8"));
  } catch {
    return sha256("(missing)");
  }
}

const versions = new Map<string, { stamp: string; version: string }>();

/**
 * The version of the interpreter at `path` (`3.12.1`), asked of it once per process and file
 * state: the cache key of a Python tool holds it before any worker has started.
 */
export function interpreterVersion(path: string): string {
  const stat = statSync(path);
  const stamp = `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
  const known = versions.get(path);
  if (known?.stamp === stamp) return known.version;
  const r = spawnSync(path, ["-c", "import sys; print(sys.version.split()[0])"], {
    encoding: "utf8",
    timeout: 10_000,
  });
  const version = r.status === 0 ? r.stdout.trim() : "(unknown)";
  versions.set(path, { stamp, version });
  return version;
}

function onPath(
  name: string,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  for (const folder of (env.PATH ?? "").split(delimiter)) {
    if (!folder || !isAbsolute(folder)) continue;
    const candidate = join(folder, name);
    if (isFile(candidate)) return candidate;
  }
  return undefined;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
