// Severity settings are read once per change of the settings file, not on every question.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SeverityCache } from "@keel/core/node/workspace-settings";

test("the severity cache answers from memory until the settings file changes", () => {
  const root = mkdtempSync(join(tmpdir(), "keel-settings-"));
  mkdirSync(join(root, ".keel"));
  mkdirSync(join(root, "flows"));
  const file = join(root, ".keel", "settings.json");
  writeFileSync(file, JSON.stringify({ severity: { KEEL201: "warning" } }));
  const cache = new SeverityCache();
  const first = cache.forFolder(join(root, "flows"));
  assert.equal(first.overrides.get("KEEL201"), "warning");
  assert.equal(cache.forFolder(join(root, "flows")), first);
  writeFileSync(file, JSON.stringify({ severity: { KEEL201: "off" } }));
  utimesSync(file, new Date(), new Date(Date.now() + 5000));
  assert.equal(cache.forFolder(join(root, "flows")).overrides.get("KEEL201"), "off");
});
