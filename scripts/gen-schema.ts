// Writes schema/keel.schema.json from the zod schema (npm run schema). The file is committed so
// that other YAML tools can use it; test/core/schema-file.test.ts fails when it is stale.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderJsonSchema } from "./json-schema";

const target = fileURLToPath(new URL("../schema/keel.schema.json", import.meta.url));
writeFileSync(target, renderJsonSchema());
console.log(`wrote ${target}`);
