// Writes docs/diagnostics.md from the codes table (npm run docs); a test fails when it is stale.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderDiagnosticsTable } from "./diagnostics-table";

const target = fileURLToPath(new URL("../docs/diagnostics.md", import.meta.url));
writeFileSync(target, renderDiagnosticsTable());
console.log(`wrote ${target}`);
