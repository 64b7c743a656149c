// The default stays embedded (issue #10): without `--store postgres://…`, `--on` or `--otel`,
// the CLI loads neither production mode's bundles (dist/production.js, dist/workers.js) nor the
// packages in them (pg, DBOS, the OpenTelemetry SDK); with one of them, it loads what it needs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bin, workspace } from "../helpers/cli";

const hook = join(process.cwd(), "test/fixtures/record-loads.cjs");

/** Runs `keel args…` and returns which production-mode files it loaded. */
function loads(args: string[], cwd: string): string[] {
  const out = join(mkdtempSync(join(tmpdir(), "keel-loads-")), "loads.json");
  const r = spawnSync(process.execPath, ["--require", hook, bin, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, KEEL_LOADS_OUT: out, OTEL_EXPORTER_OTLP_TIMEOUT: "500" },
  });
  assert.ok(r.status === 0 || r.status === 1, `keel ${args.join(" ")}: ${r.stderr}`);
  return (JSON.parse(readFileSync(out, "utf8")) as string[]).map((f) =>
    f.replace(/^.*?(dist|node_modules)[\\/]/, "$1/"),
  );
}

test("keel run, runs, show, replay and export on the default store load nothing of production mode", () => {
  const dir = workspace({
    "flow.keel.yaml": `keel: 1
name: plain
providers:
  m: { type: scripted, default: "hi" }
steps:
  a: { type: llm, provider: m, prompt: "Say hi" }
`,
  });
  for (const args of [
    ["run", "flow.keel.yaml", "--json"],
    ["runs"],
    ["show", "latest"],
    ["replay", "latest"],
    ["export", "latest"],
  ]) {
    assert.deepEqual(loads(args, dir), [], `keel ${args.join(" ")}`);
  }
  // An OpenTelemetry export loads production mode's bundle, and only it.
  const otel = loads(["export", "latest", "--otel", "http://127.0.0.1:9"], dir);
  assert.deepEqual(otel, ["dist/production.js"]);
});
