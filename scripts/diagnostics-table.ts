// The diagnostics reference, rendered from core/model/codes.ts.
import { CODES } from "@keel/core/model/codes";

export function renderDiagnosticsTable(): string {
  const rows = Object.entries(CODES).map(
    ([code, info]) =>
      `| ${code} | \`${info.name}\` | ${info.severity} | ${info.summary.replace(/\|/g, "\\|")} |`,
  );
  return [
    "# Diagnostics",
    "",
    "<!-- Generated from core/model/codes.ts by `npm run docs`; do not edit by hand. -->",
    "",
    "Every diagnostic Keel reports has a stable code. Codes are never reused. The severity is the",
    "default; `.keel/settings.json` in the workspace changes it per code (by code or by name), or",
    "turns a code off, for the CLI and the editor alike:",
    "",
    "```json",
    '{ "severity": { "KEEL207": "off", "literal-secret": "warning" } }',
    "```",
    "",
    "| code | name | severity | meaning |",
    "|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}
