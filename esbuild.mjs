// One esbuild context per bundle. `node esbuild.mjs` builds once; `--watch` rebuilds on change and
// prints problems in the form of the `$esbuild-watch` problem matcher. Target names build only their
// bundles (`node esbuild.mjs cli webview`; see `targets` below); without any, every bundle is built.
import * as esbuild from "esbuild";
import { readFileSync } from "node:fs";

const watch = process.argv.includes("--watch");
const production = process.argv.includes("--production");
const chosen = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const { version, bugs } = JSON.parse(
  readFileSync(new URL("./package.json", import.meta.url), "utf8"),
);

const node = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  sourcemap: true,
  minify: production,
  external: ["vscode", "better-sqlite3"],
  define: { KEEL_VERSION: JSON.stringify(version), KEEL_BUGS: JSON.stringify(bugs.url) },
  logLevel: "warning",
};

/** The graph panel's bundles: the webview and its layout worker. */
const browser = {
  bundle: true,
  platform: "browser",
  format: "iife",
  target: "chrome120",
  sourcemap: true,
  minify: production,
  outdir: "dist",
  tsconfig: "webview/tsconfig.json",
  logLevel: "warning",
};

/** Reports each build in the format VS Code's esbuild problem matcher expects. */
const problemMatcher = {
  name: "problem-matcher",
  setup(build) {
    build.onStart(() => {
      if (watch) console.log("[watch] build started");
    });
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      if (watch) console.log("[watch] build finished");
    });
  },
};

/**
 * Production mode is two bundles of its own: `pg` and OpenTelemetry (core/production.ts) and the
 * DBOS workers (core/workers.ts). The others import them as `@keel/production` and
 * `@keel/workers` and load dist/production.js or dist/workers.js on first use, so they do not grow.
 */
const productionBundle = {
  name: "production",
  setup(build) {
    build.onResolve({ filter: /^@keel\/(production|workers)$/ }, (args) => ({
      path: `./${args.path.slice("@keel/".length)}.js`,
      external: true,
    }));
  },
};

const bundles = [
  {
    ...node,
    entryPoints: { extension: "extension/main.ts" },
    outdir: "dist",
    plugins: [productionBundle],
  },
  { ...node, entryPoints: { server: "language-server/main.ts" }, outdir: "dist" },
  { ...node, entryPoints: { cli: "cli/main.ts" }, outdir: "dist", plugins: [productionBundle] },
  {
    ...node,
    entryPoints: { production: "core/production.ts" },
    outdir: "dist",
    // pg's optional native binding is not used.
    external: [...node.external, "pg-native"],
  },
  {
    ...node,
    entryPoints: { workers: "core/workers.ts" },
    outdir: "dist",
    // DBOS is loaded from node_modules (a worker runs from an installed Keel): its optional
    // telemetry and enterprise packages are required lazily and cannot be bundled.
    external: [...node.external, "pg-native", "@dbos-inc/dbos-sdk"],
  },
  { ...browser, entryPoints: { webview: "webview/main.tsx" } },
  // The graph panel's layout worker (webview/layout/use-layout.ts loads it beside webview.js).
  { ...browser, entryPoints: { "layout-worker": "webview/layout/worker.ts" } },
];

/**
 * What each target needs, by bundle (the keys of `entryPoints`): the extension and the CLI load
 * production mode's two bundles on first use, the webview starts its layout worker beside it.
 */
const targets = {
  extension: ["extension", "production", "workers"],
  server: ["server"],
  cli: ["cli", "production", "workers"],
  webview: ["webview", "layout-worker"],
};
const unknown = chosen.filter((t) => !Object.hasOwn(targets, t));
if (unknown.length > 0) {
  console.error(
    `esbuild.mjs: no target ${unknown.map((t) => `'${t}'`).join(", ")}; the targets are ${Object.keys(targets).join(", ")}`,
  );
  process.exit(2);
}
const wanted = new Set(chosen.flatMap((t) => targets[t]));
const selected =
  chosen.length === 0
    ? bundles
    : bundles.filter((b) => Object.keys(b.entryPoints).some((name) => wanted.has(name)));

const contexts = await Promise.all(
  selected.map((options) =>
    esbuild.context({ ...options, plugins: [...(options.plugins ?? []), problemMatcher] }),
  ),
);
if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  const results = await Promise.allSettled(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
  if (results.some((r) => r.status === "rejected")) process.exit(1);
}
