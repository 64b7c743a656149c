#!/usr/bin/env node
// The `keel` command: the CLI bundle built by `npm run build`.
"use strict";
const { existsSync } = require("node:fs");
const { join } = require("node:path");
const bundle = join(__dirname, "..", "dist", "cli.js");
if (!existsSync(bundle)) {
  process.stderr.write("keel: dist/cli.js is missing: run `npm run build` first\n");
  process.exit(2);
}
require(bundle);
