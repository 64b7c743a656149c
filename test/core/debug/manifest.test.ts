// The replay debugger's contributions: debug type keel-replay for the keel language, breakpoints
// on keel files only, "Keel: Step Through Run…" in the palette and the Runs view, activation only
// when a keel-replay session resolves, and nothing that needs a trusted workspace.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const manifest = JSON.parse(readFileSync("package.json", "utf8"));
const contributes = manifest.contributes;

test("debug type keel-replay is contributed for the keel language with a launch configuration", () => {
  const debuggers = contributes.debuggers as { type: string }[];
  const keel = debuggers.find((d) => d.type === "keel-replay") as unknown as {
    languages: string[];
    configurationAttributes: { launch: { properties: Record<string, unknown> } };
    initialConfigurations: { runId: string }[];
  };
  assert.deepEqual(keel.languages, ["keel"]);
  assert.deepEqual(Object.keys(keel.configurationAttributes.launch.properties).sort(), [
    "runId",
    "seq",
    "store",
    "workflow",
  ]);
  assert.equal(keel.initialConfigurations[0]!.runId, "latest");
});

test("breakpoints are accepted in keel files only (not in every YAML file)", () => {
  assert.deepEqual(contributes.breakpoints, [{ language: "keel" }]);
});

test("Keel: Step Through Run… is in the palette and on a run in the Runs view", () => {
  const command = contributes.commands.find(
    (c: { command: string }) => c.command === "keel.run.debug",
  );
  assert.equal(`${command.category}: ${command.title}`, "Keel: Step Through Run…");
  const hidden = contributes.menus.commandPalette.find(
    (m: { command: string }) => m.command === "keel.run.debug",
  );
  assert.equal(hidden, undefined, "not hidden from the palette");
  const onRun = contributes.menus["view/item/context"].filter(
    (m: { command: string; when: string }) =>
      m.command === "keel.run.debug" && m.when === "view == keel.runs && viewItem == run",
  );
  assert.equal(onRun.length, 2, "inline and in the context menu");
});

test("activation stays lazy: debug activation events name keel-replay, nothing activates on startup", () => {
  const events = manifest.activationEvents as string[];
  assert.ok(events.includes("onDebugResolve:keel-replay"));
  assert.ok(!events.includes("*") && !events.includes("onStartupFinished"));
  assert.notEqual(manifest.capabilities.untrustedWorkspaces.supported, false);
});
