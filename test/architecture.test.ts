// The import rules of docs/dev/architecture.md, enforced: every import of every source file is
// read (static `import` and `export … from`, `import()`, `require()`), resolved (relative paths
// and the aliases of tsconfig.base.json), and checked against the rules below. A broken rule is
// listed as `file:line: <part> may not import <target>: <rule>`. No TypeScript compiler: the files
// are read and their imports found by a small scanner that skips comments and template text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { builtinModules } from "node:module";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, sep } from "node:path";
import { cycleThrough, findCycles } from "@keel/core/graph/graph";

const ROOT = join(import.meta.dirname, "..");
/** The folders whose files are checked: everything that is built or run, not the tests. */
const SOURCE_FOLDERS = ["core", "cli", "language-server", "extension", "webview", "bin", "scripts"];
const SOURCE_EXTENSIONS = [".ts", ".tsx", ".js", ".mjs", ".cjs"];

// ---------------------------------------------------------------------------------------------
// Reading imports

export interface Import {
  /** The specifier as written. */
  spec: string;
  /** 1-based line of the specifier. */
  line: number;
  kind: "static" | "dynamic" | "require";
  /** `import type …`, `export type … from`, or an import whose every name is `type X`: erased. */
  typeOnly: boolean;
}

/**
 * The source with comments and the text of template literals blanked (spaces, newlines kept, so
 * offsets and lines stay), and everything else as it was. Strings and regular expressions end
 * at a line's end at the latest, so a quote in JSX text cannot swallow more than its line.
 */
export function codeOnly(src: string): string {
  const out = src.split("");
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to && k < out.length; k++) if (out[k] !== "\n") out[k] = " ";
  };
  const endOfLine = (from: number): number => {
    const e = src.indexOf("\n", from);
    return e < 0 ? src.length : e;
  };
  /** The end (exclusive) of a string or regular expression opened at `i` by `close`. */
  const skipQuoted = (i: number, close: string): number => {
    let inClass = false;
    for (let k = i + 1; k < src.length; k++) {
      const c = src[k];
      if (c === "\n") return k;
      if (c === "\\") k++;
      else if (close === "/" && c === "[") inClass = true;
      else if (close === "/" && c === "]") inClass = false;
      else if (c === close && !inClass) return k + 1;
    }
    return src.length;
  };
  const regexAfterWord = new Set([
    "return",
    "typeof",
    "case",
    "do",
    "else",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
    "instanceof",
    "yield",
    "await",
  ]);
  let prev = ""; // the last significant character of code
  let word = ""; // the identifier that ends at `prev`, if any
  const templateDepths: number[] = []; // brace depths at which a template's `${` was opened
  let depth = 0;
  let inTemplate = false;
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (inTemplate) {
      if (c === "`") {
        inTemplate = false;
        prev = "`";
        word = "";
        i++;
      } else if (c === "$" && src[i + 1] === "{") {
        templateDepths.push(depth);
        inTemplate = false;
        prev = "{";
        word = "";
        i += 2;
      } else {
        const next = c === "\\" ? i + 2 : i + 1;
        blank(i, next);
        i = next;
      }
      continue;
    }
    if (c === "/" && src[i + 1] === "/") {
      const e = endOfLine(i);
      blank(i, e);
      i = e;
      continue;
    }
    if (c === "/" && src[i + 1] === "*") {
      const close = src.indexOf("*/", i + 2);
      const e = close < 0 ? src.length : close + 2;
      blank(i, e);
      i = e;
      continue;
    }
    if (c === '"' || c === "'") {
      i = skipQuoted(i, c);
      prev = c;
      word = "";
      continue;
    }
    if (c === "/" && (/^[(,=:[!&|?{};+\-*%<>~^]?$/.test(prev) || regexAfterWord.has(word))) {
      i = skipQuoted(i, "/");
      prev = "/";
      word = "";
      continue;
    }
    if (c === "`") {
      inTemplate = true;
      i++;
      continue;
    }
    if (c === "{") depth++;
    if (c === "}") {
      if (templateDepths.at(-1) === depth) {
        templateDepths.pop();
        inTemplate = true;
        i++;
        continue;
      }
      depth--;
    }
    if (!/\s/.test(c)) {
      word = /[\w$]/.test(c) ? (/[\w$]/.test(prev) ? word + c : c) : "";
      prev = c;
    }
    i++;
  }
  return out.join("");
}

const STATIC =
  /(?:^|[;}\n])[ \t]*(import|export)\s+(type\s+)?(?:([^;"'`]*?)\s*from\s*)?(["'])([^"'\n]+)\4/g;
const DYNAMIC = /(?<![\w$.])import\s*\(\s*(["'])([^"'\n]+)\1\s*\)/g;
const REQUIRE = /(?<![\w$.])require\s*\(\s*(["'])([^"'\n]+)\1\s*\)/g;

/** Every import of a source text, in the order they appear. */
export function importsOf(src: string): Import[] {
  const code = codeOnly(src);
  const lineStarts = [0];
  for (let k = 0; k < code.length; k++) if (code.charCodeAt(k) === 10) lineStarts.push(k + 1);
  const lineOf = (offset: number): number => {
    let line = 1;
    while (line < lineStarts.length && lineStarts[line]! <= offset) line++;
    return line;
  };
  const found: (Import & { offset: number })[] = [];
  for (const m of code.matchAll(STATIC)) {
    const [whole, keyword, typeKeyword, clause, , spec] = m;
    // `export const x = …` and the like have no `from`; a bare `export "x"` is not JavaScript.
    if (keyword === "export" && clause === undefined) continue;
    const names = clause?.match(/^\{([^}]*)\}$/s)?.[1];
    const everyNameIsType =
      names !== undefined &&
      names.trim() !== "" &&
      names
        .split(",")
        .map((n) => n.trim())
        .filter((n) => n !== "")
        .every((n) => n.startsWith("type "));
    const offset = m.index + whole.length - spec!.length - 1;
    found.push({
      spec: spec!,
      line: 0,
      kind: "static",
      typeOnly: typeKeyword !== undefined || everyNameIsType,
      offset,
    });
  }
  for (const [re, kind] of [
    [DYNAMIC, "dynamic"],
    [REQUIRE, "require"],
  ] as const) {
    for (const m of code.matchAll(re)) {
      const offset = m.index + m[0].indexOf(m[2]!);
      found.push({ spec: m[2]!, line: 0, kind, typeOnly: false, offset });
    }
  }
  return found
    .sort((a, b) => a.offset - b.offset)
    .map(({ offset, ...i }) => ({ ...i, line: lineOf(offset) }));
}

// ---------------------------------------------------------------------------------------------
// Resolving them

type Target =
  | { kind: "file"; path: string; alias?: string }
  | { kind: "package"; name: string; builtin: boolean }
  | { kind: "unresolved" };

export interface Edge extends Import {
  from: string;
  target: Target;
}

/** tsconfig.base.json's paths, read from the file so a new alias is not missed. */
function aliases(): [prefix: string, to: string, exact: boolean][] {
  const text = readFileSync(join(ROOT, "tsconfig.base.json"), "utf8");
  const paths = (JSON.parse(text) as { compilerOptions: { paths: Record<string, string[]> } })
    .compilerOptions.paths;
  return Object.entries(paths).map(([key, [to]]) => {
    const exact = !key.endsWith("/*");
    return [
      exact ? key : key.slice(0, -1),
      normalize(exact ? to! : to!.slice(0, -1)).replaceAll(sep, "/"),
      exact,
    ];
  });
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/** The source file a path without (or with a `.js`) extension names, relative to ROOT. */
function sourceFile(path: string): string | undefined {
  const stem = path.replace(/\.(c|m)?js$/, "");
  const candidates = [
    path,
    ...SOURCE_EXTENSIONS.map((e) => stem + e),
    ...SOURCE_EXTENSIONS.map((e) => join(stem, "index" + e)),
  ];
  const found = candidates.find((c) => isFile(join(ROOT, c)));
  return found && normalize(found).replaceAll(sep, "/");
}

const BUILTINS = new Set(builtinModules);

function packageName(spec: string): string {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

function resolveImport(from: string, spec: string, paths: ReturnType<typeof aliases>): Target {
  if (spec.startsWith(".")) {
    const path = sourceFile(join(dirname(from), spec));
    return path ? { kind: "file", path } : { kind: "unresolved" };
  }
  for (const [prefix, to, exact] of paths) {
    if (exact ? spec === prefix : spec.startsWith(prefix)) {
      const path = sourceFile(exact ? to : to + spec.slice(prefix.length));
      return path ? { kind: "file", path, alias: spec } : { kind: "unresolved" };
    }
  }
  const builtin = spec.startsWith("node:") || BUILTINS.has(packageName(spec));
  return { kind: "package", name: builtin ? spec : packageName(spec), builtin };
}

function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (SOURCE_EXTENSIONS.some((e) => entry.name.endsWith(e))) files.push(path);
    }
  };
  for (const folder of SOURCE_FOLDERS) walk(folder);
  return files.sort();
}

let treeEdges: Edge[] | undefined;

/** Every import of every source file, read once. */
function readEdges(): Edge[] {
  const paths = aliases();
  return (treeEdges ??= sourceFiles().flatMap((from) =>
    importsOf(readFileSync(join(ROOT, from), "utf8")).map((i) => ({
      ...i,
      from,
      target: resolveImport(from, i.spec, paths),
    })),
  ));
}

// ---------------------------------------------------------------------------------------------
// The rules (docs/dev/architecture.md, "Import rules")

/**
 * The core that runs in the browser too: the list `browserSafe` of eslint.config.mjs (read from
 * its text, so the linter and this test cannot disagree), `core/x/**` as the folder `core/x/`.
 */
function browserSafe(): string[] {
  const config = readFileSync(join(ROOT, "eslint.config.mjs"), "utf8");
  const list = /const browserSafe = \[([^\]]*)\]/.exec(config)?.[1];
  assert.ok(list !== undefined, "eslint.config.mjs has no `const browserSafe = [...]`");
  return [...list.matchAll(/"([^"]+)"/g)].map(([, glob]) => glob!.replace(/\*\*$/, ""));
}
const BROWSER_SAFE = browserSafe();
/** The files that load PostgreSQL, DBOS and OpenTelemetry, and the two entries that reach them. */
const PRODUCTION_FILES = [
  /^core\/store\/pg-[^/]*$/,
  /^core\/executor\/dbos-[^/]*$/,
  /^core\/otel\//,
];
const PRODUCTION_ENTRIES = ["core/production.ts", "core/workers.ts"];
const PRODUCTION_ALIASES = ["@keel/production", "@keel/workers"];

const under = (path: string, folders: string[]): boolean =>
  folders.some((f) => (f.endsWith("/") ? path.startsWith(f) : path === f));
const isProductionFile = (path: string): boolean => PRODUCTION_FILES.some((re) => re.test(path));
const fileTarget = (e: Edge): string | undefined =>
  e.target.kind === "file" ? e.target.path : undefined;
const packageTarget = (e: Edge): string | undefined =>
  e.target.kind === "package" ? e.target.name : undefined;
const matchesPackage = (name: string, patterns: string[]): boolean =>
  patterns.some((p) => (p.endsWith("*") ? name.startsWith(p.slice(0, -1)) : name === p));

const EDITOR_PACKAGES = [
  "vscode",
  "vscode-languageserver*",
  "vscode-languageclient*",
  "react",
  "react-dom",
  "@xyflow/*",
];
const NODE_ONLY_PACKAGES = ["better-sqlite3", "pg", "@dbos-inc/*", "@opentelemetry/*"];
const PROCESS_FOLDERS = ["cli/", "extension/", "language-server/", "webview/"];

interface Rule {
  /** The rule as the failure states it. */
  rule: string;
  /** The importers it binds, as printed: `core/runner/`, `the browser-safe core`… */
  part: string;
  /** The folders and files the rule names: each must exist, or the rule is out of date. */
  names: string[];
  applies(file: string): boolean;
  forbids(edge: Edge): boolean;
}

export const RULES: Rule[] = [
  {
    rule: "the model is below everything: it imports no source file outside core/model/",
    part: "core/model/",
    names: ["core/model/"],
    applies: (f) => f.startsWith("core/model/"),
    forbids: (e) => fileTarget(e) !== undefined && !fileTarget(e)!.startsWith("core/model/"),
  },
  {
    rule: "the record is below everything but the model: it imports only core/model/ and core/record/",
    part: "core/record/",
    names: ["core/record/", "core/model/"],
    applies: (f) => f.startsWith("core/record/"),
    forbids: (e) =>
      fileTarget(e) !== undefined && !under(fileTarget(e)!, ["core/model/", "core/record/"]),
  },
  {
    rule: "the store is below the runner: core/store/ imports only core/model/, core/record/ and core/store/",
    part: "core/store/",
    names: ["core/store/", "core/record/", "core/model/"],
    applies: (f) => f.startsWith("core/store/"),
    forbids: (e) =>
      fileTarget(e) !== undefined &&
      !under(fileTarget(e)!, ["core/model/", "core/record/", "core/store/"]),
  },
  {
    rule: "the core imports no CLI, editor, language server or webview code",
    part: "core/",
    names: ["core/", ...PROCESS_FOLDERS],
    applies: (f) => f.startsWith("core/"),
    forbids: (e) => fileTarget(e) !== undefined && !fileTarget(e)!.startsWith("core/"),
  },
  {
    rule: "the core knows nothing about editors or UI (no vscode, language server or client, React, React Flow)",
    part: "core/",
    names: ["core/"],
    applies: (f) => f.startsWith("core/"),
    forbids: (e) =>
      packageTarget(e) !== undefined && matchesPackage(packageTarget(e)!, EDITOR_PACKAGES),
  },
  {
    rule: "the runner never imports editor, server, CLI or webview code, nor vscode*, @vscode/*, react or @xyflow/*",
    part: "core/runner/",
    names: ["core/runner/", ...PROCESS_FOLDERS],
    applies: (f) => f.startsWith("core/runner/"),
    forbids: (e) =>
      (fileTarget(e) !== undefined && under(fileTarget(e)!, PROCESS_FOLDERS)) ||
      (packageTarget(e) !== undefined &&
        matchesPackage(packageTarget(e)!, ["vscode*", "@vscode/*", "react*", "@xyflow/*"])),
  },
  {
    rule: "the browser-safe core (eslint.config.mjs browserSafe) imports only the browser-safe core, no Node built-in and no Node-only package",
    part: "the browser-safe core",
    names: BROWSER_SAFE,
    applies: (f) => under(f, BROWSER_SAFE),
    forbids: (e) =>
      (fileTarget(e) !== undefined && !under(fileTarget(e)!, BROWSER_SAFE)) ||
      (e.target.kind === "package" &&
        (e.target.builtin || matchesPackage(e.target.name, NODE_ONLY_PACKAGES))),
  },
  {
    rule: "the webview runs in the browser: it imports only webview/ and the browser-safe core, no Node built-in and no Node-only package",
    part: "webview/",
    names: ["webview/", ...BROWSER_SAFE],
    applies: (f) => f.startsWith("webview/"),
    forbids: (e) =>
      (fileTarget(e) !== undefined && !under(fileTarget(e)!, ["webview/", ...BROWSER_SAFE])) ||
      (e.target.kind === "package" &&
        (e.target.builtin || matchesPackage(e.target.name, NODE_ONLY_PACKAGES))),
  },
  {
    rule: "the processes' own code is apart: cli/, extension/, language-server/ and webview/ share only the core (their messages are typed in core/protocol/)",
    part: "this file",
    names: PROCESS_FOLDERS,
    applies: (f) => under(f, PROCESS_FOLDERS),
    forbids: (e) =>
      fileTarget(e) !== undefined &&
      under(fileTarget(e)!, PROCESS_FOLDERS) &&
      fileTarget(e)!.split("/")[0] !== e.from.split("/")[0],
  },
  {
    rule: "pg, DBOS and OpenTelemetry are imported only by core/store/pg-*.ts, core/executor/dbos-*.ts and core/otel/",
    part: "this file",
    names: ["core/store/", "core/executor/", "core/otel/"],
    applies: (f) => !isProductionFile(f),
    forbids: (e) =>
      packageTarget(e) !== undefined &&
      matchesPackage(packageTarget(e)!, ["pg", "@dbos-inc/*", "@opentelemetry/*"]),
  },
  {
    rule: "the files that load pg, DBOS and OpenTelemetry are reached only through core/production.ts and core/workers.ts, imported as @keel/production and @keel/workers",
    part: "this file",
    names: PRODUCTION_ENTRIES,
    applies: (f) => !isProductionFile(f) && !PRODUCTION_ENTRIES.includes(f),
    forbids: (e) =>
      fileTarget(e) !== undefined &&
      (isProductionFile(fileTarget(e)!) ||
        (PRODUCTION_ENTRIES.includes(fileTarget(e)!) &&
          !(e.target.kind === "file" && PRODUCTION_ALIASES.includes(e.target.alias ?? "")))),
  },
  {
    rule: "@keel/production and @keel/workers are loaded on first use: outside the core by `await import()` (or `import type`), never from the core",
    part: "this file",
    names: PRODUCTION_ENTRIES,
    applies: () => true,
    forbids: (e) =>
      e.target.kind === "file" &&
      PRODUCTION_ALIASES.includes(e.target.alias ?? "") &&
      (e.from.startsWith("core/") || (e.kind !== "dynamic" && !e.typeOnly)),
  },
];

/**
 * What a process or part loads at run time, imports of imports included (`import type` is erased;
 * `@keel/production` and `@keel/workers` are bundles of their own, loaded only when asked for).
 */
interface LoadRule {
  rule: string;
  /** The files it starts from: a file, or every file of a folder. */
  from: string[];
  /** What none of them may load, however indirectly. */
  never: string[];
}

export const LOAD_RULES: LoadRule[] = [
  {
    rule: "the extension host and the language server never run a workflow (a run is a `keel` child process)",
    from: ["extension/main.ts", "language-server/main.ts"],
    never: ["core/runner/", "core/replay/", "core/executor/"],
  },
  {
    rule: "the debugger reads the record and executes nothing",
    from: ["core/debug/"],
    never: ["core/runner/", "core/replay/", "core/executor/"],
  },
];

/** For each load rule, every forbidden file reached, with the chain of imports that reaches it. */
export function forbiddenLoads(edges: Edge[], rules: LoadRule[] = LOAD_RULES): string[] {
  const runtime = new Map<string, Edge[]>();
  for (const e of edges) {
    if (e.typeOnly || e.target.kind !== "file") continue;
    if (PRODUCTION_ALIASES.includes(e.target.alias ?? "")) continue;
    if (!runtime.has(e.from)) runtime.set(e.from, []);
    runtime.get(e.from)!.push(e);
  }
  const files = [...new Set(edges.map((e) => e.from))];
  const found: string[] = [];
  for (const r of rules) {
    const starts = files.filter((f) => under(f, r.from));
    // Breadth first, so the chain printed is a shortest one.
    const via = new Map<string, Edge | undefined>(starts.map((f) => [f, undefined]));
    const queue = [...starts];
    while (queue.length > 0) {
      const file = queue.shift()!;
      const last = via.get(file);
      if (last && under(file, r.never)) {
        const chain: string[] = [file];
        let start = file;
        for (let e = via.get(file); e; e = via.get(e.from)) {
          chain.unshift(`${e.from}:${e.line}`);
          start = e.from;
        }
        found.push(
          `${last.from}:${last.line}: ${start} may not load ${file} (${chain.join(" → ")}): ${r.rule}`,
        );
        continue;
      }
      for (const e of runtime.get(file) ?? []) {
        const next = fileTarget(e)!;
        if (via.has(next)) continue;
        via.set(next, e);
        queue.push(next);
      }
    }
  }
  return found;
}

function describe(e: Edge): string {
  const t = e.target;
  if (t.kind === "package")
    return t.builtin ? `the Node built-in ${t.name}` : `the package ${t.name}`;
  if (t.kind === "file") return t.path === e.spec ? t.path : `${t.path} ("${e.spec}")`;
  return `"${e.spec}"`;
}

export function violations(edges: Edge[], rules: Rule[] = RULES): string[] {
  const found: string[] = [];
  for (const e of edges) {
    for (const r of rules) {
      if (!r.applies(e.from) || !r.forbids(e)) continue;
      const part = r.part === "this file" ? e.from : r.part;
      found.push(`${e.from}:${e.line}: ${part} may not import ${describe(e)}: ${r.rule}`);
    }
  }
  return found;
}

/** Each file's imported files, every file of `edges` a key. */
function importedFiles(edges: Edge[]): Map<string, string[]> {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (!next.has(e.from)) next.set(e.from, []);
    const path = fileTarget(e);
    if (path === undefined) continue;
    if (!next.has(path)) next.set(path, []);
    if (!next.get(e.from)!.includes(path)) next.get(e.from)!.push(path);
  }
  return next;
}

/** The sets of files that import each other in a circle (and the files that import themselves). */
export function cycles(edges: Edge[]): string[][] {
  const next = importedFiles(edges);
  return findCycles([...next.keys()].sort(), next).map((c) => c.sort());
}

/**
 * A set of files that import each other in a circle, as one shortest circle through its first
 * file (`a.ts:3 → b.ts:9 → a.ts`, each import with its line) and the whole set when it is larger.
 */
export function describeCycle(component: string[], edges: Edge[]): string {
  const path = cycleThrough(component[0]!, new Set(component), importedFiles(edges));
  const line = (from: string, to: string): number =>
    edges.find((e) => e.from === from && fileTarget(e) === to)!.line;
  const chain = path.map((file, k) =>
    k < path.length - 1 ? `${file}:${line(file, path[k + 1]!)}` : file,
  );
  const all =
    component.length > path.length - 1 ? ` (the cycle joins ${component.join(", ")})` : "";
  return `${chain[0]}: import cycle ${chain.join(" → ")}${all}`;
}

// ---------------------------------------------------------------------------------------------
// The tests

test("the scanner finds every kind of import and skips comments and template text", () => {
  const src = [
    'import { a, type B } from "./a";', // 1
    "import type { C } from './c';", // 2
    "import {", // 3
    "  type D,", // 4
    "  type E,", // 5
    '} from "../d";', // 6
    'import "./side-effect.css";', // 7
    'export { f } from "@keel/core/model/parse";', // 8
    'export * as g from "./g";', // 9
    '// import "./commented";', // 10
    '/* import "./block"; */', // 11
    'const h = await import("@keel/production");', // 12
    'const fs = require("node:fs");', // 13
    'const worker = `require("node:worker_threads") ${x + `import("./nested")`}`;', // 14
    `const re = /["']/; const url = "http://x"; import("./after-regex");`, // 15
    'export const from = "./not-an-import";', // 16
  ].join("\n");
  assert.deepEqual(
    importsOf(src).map((i) => [i.line, i.spec, i.kind, i.typeOnly]),
    [
      [1, "./a", "static", false],
      [2, "./c", "static", true],
      [6, "../d", "static", true],
      [7, "./side-effect.css", "static", false],
      [8, "@keel/core/model/parse", "static", false],
      [9, "./g", "static", false],
      [12, "@keel/production", "dynamic", false],
      [13, "node:fs", "require", false],
      [15, "./after-regex", "dynamic", false],
    ],
  );
});

test("a forbidden import is reported with its file, line, target and rule", () => {
  const edge = (from: string, spec: string, line: number): Edge => ({
    from,
    spec,
    line,
    kind: "static",
    typeOnly: false,
    target: resolveImport(from, spec, aliases()),
  });
  assert.deepEqual(
    violations([
      edge("core/runner/run.ts", "../../cli/main", 7),
      edge("webview/app.tsx", "node:fs", 3),
      edge("cli/store.ts", "@keel/production", 5),
    ]),
    [
      'core/runner/run.ts:7: core/ may not import cli/main.ts ("../../cli/main"): the core imports no CLI, editor, language server or webview code',
      'core/runner/run.ts:7: core/runner/ may not import cli/main.ts ("../../cli/main"): the runner never imports editor, server, CLI or webview code, nor vscode*, @vscode/*, react or @xyflow/*',
      "webview/app.tsx:3: webview/ may not import the Node built-in node:fs: the webview runs in the browser: it imports only webview/ and the browser-safe core, no Node built-in and no Node-only package",
      'cli/store.ts:5: cli/store.ts may not import core/production.ts ("@keel/production"): @keel/production and @keel/workers are loaded on first use: outside the core by `await import()` (or `import type`), never from the core',
    ],
  );
  const circle = [
    edge("webview/graph/to-flow.ts", "./step-views", 1),
    edge("webview/graph/step-views.ts", "./to-flow", 2),
  ];
  assert.deepEqual(cycles(circle), [["webview/graph/step-views.ts", "webview/graph/to-flow.ts"]]);
  assert.equal(
    describeCycle(cycles(circle)[0]!, circle),
    "webview/graph/step-views.ts:2: import cycle webview/graph/step-views.ts:2 → webview/graph/to-flow.ts:1 → webview/graph/step-views.ts",
  );
  assert.deepEqual(
    forbiddenLoads([
      edge("language-server/main.ts", "./server", 4),
      edge("language-server/server.ts", "@keel/core/node/secrets", 9),
      edge("core/node/secrets.ts", "../runner/redact", 7),
    ]),
    [
      "core/node/secrets.ts:7: language-server/main.ts may not load core/runner/redact.ts (language-server/main.ts:4 → language-server/server.ts:9 → core/node/secrets.ts:7 → core/runner/redact.ts): the extension host and the language server never run a workflow (a run is a `keel` child process)",
    ],
  );
});

test("every file and folder the rules name exists", () => {
  const named = [
    ...RULES.flatMap((r) => r.names),
    ...LOAD_RULES.flatMap((r) => [...r.from, ...r.never]),
  ];
  const missing = [...new Set(named)].filter((p) => !existsSync(join(ROOT, p)));
  assert.deepEqual(
    missing,
    [],
    "a rule names a path that moved: update the rule and docs/dev/architecture.md",
  );
});

test("every import follows the rules of docs/dev/architecture.md", () => {
  const edges = readEdges();
  assert.ok(edges.length > 500, `only ${edges.length} imports read: the scanner is broken`);
  const unresolved = edges
    .filter((e) => e.target.kind === "unresolved")
    .map((e) => `${e.from}:${e.line}: cannot resolve "${e.spec}"`);
  const problems = [...unresolved, ...violations(edges), ...forbiddenLoads(edges)];
  assert.equal(problems.length, 0, `\n${problems.join("\n")}`);
});

test("no import cycles between source files", () => {
  const edges = readEdges();
  const found = cycles(edges).map((c) => describeCycle(c, edges));
  assert.equal(found.length, 0, `\n${found.join("\n")}`);
});
