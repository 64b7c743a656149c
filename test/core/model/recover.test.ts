// A YAML syntax error in one value is one error at that value (model/recover.ts): the rest of the
// file is read around it, so nothing it swallowed is reported as missing or misplaced. Checked on
// every plain one-line value of every sample, broken in one of three ways new users break them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { isMap, isPair, isScalar, parseDocument, visit } from "yaml";
import { validate } from "@keel/core/check/validate";
import { nodeHost } from "@keel/core/node/host";
import { LineIndex } from "@keel/core/model/line-index";

const samples = readdirSync("samples").filter((f) => /\.keel\.ya?ml$/.test(f));

/** Where each plain, one-line value of a block mapping starts and ends. */
function plainValues(text: string): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  visit(parseDocument(text), {
    Pair(_k, pair, path) {
      const parent = path[path.length - 1];
      if (isMap(parent) && parent.flow) return;
      if (!isPair(pair) || !isScalar(pair.key) || !isScalar(pair.value)) return;
      const v = pair.value;
      if (v.type !== "PLAIN" || !v.range || typeof v.value !== "string") return;
      const [start, end] = v.range;
      if (text.slice(start, end).includes("\n")) return;
      out.push({ start, end });
    },
  });
  return out;
}

const BREAKS: [string, (value: string) => string][] = [
  ["a `: ` inside", (v) => `${v}: and more`],
  ["a leading `{`", (v) => `{${v}`],
  ["an unclosed quote", (v) => `"${v}`],
];

for (const name of samples) {
  test(`${name}: each value broken alone gives one YAML error on its line, and nothing else`, () => {
    const file = resolve(join("samples", name));
    const text = readFileSync(file, "utf8");
    const values = plainValues(text);
    assert.ok(values.length > 5, `${name} has plain values to break`);
    let checked = 0;
    for (const [i, { start, end }] of values.entries()) {
      {
        const [how, brk] = BREAKS[i % BREAKS.length]!;
        const broken = text.slice(0, start) + brk(text.slice(start, end)) + text.slice(end);
        const { diagnostics } = validate(broken, { file, host: nodeHost });
        const line = new LineIndex(broken).position(start).line;
        const shown = diagnostics.map(
          (d) => `${new LineIndex(broken).position(d.start).line + 1} ${d.code} ${d.message}`,
        );
        assert.equal(diagnostics.length, 1, `${how} at line ${line + 1}: ${shown.join("\n")}`);
        assert.equal(diagnostics[0]!.code, "KEEL001", shown[0]);
        assert.equal(new LineIndex(broken).position(diagnostics[0]!.start).line, line, shown[0]);
        checked++;
      }
    }
    assert.ok(checked > 5);
  });
}
