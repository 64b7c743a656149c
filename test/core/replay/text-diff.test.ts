// The readable diff a divergence is shown with.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lineDiff } from "@keel/core/replay/text-diff";

test("a changed line shows as removed then added, between unchanged context", () => {
  assert.equal(lineDiff("a\nb\nc", "a\nB\nc"), ["  a", "- b", "+ B", "  c"].join("\n"));
});

test("long unchanged stretches fold to an ellipsis", () => {
  const a = Array.from({ length: 20 }, (_, i) => `line ${i}`);
  const b = [...a];
  b[10] = "changed";
  const lines = lineDiff(a.join("\n"), b.join("\n")).split("\n");
  assert.deepEqual(lines, [
    "  …",
    "  line 8",
    "  line 9",
    "- line 10",
    "+ changed",
    "  line 11",
    "  line 12",
    "  …",
  ]);
});

test("values that are not strings are compared as pretty JSON", () => {
  assert.equal(lineDiff({ t: 1 }, { t: 2 }), ["  {", '-   "t": 1', '+   "t": 2', "  }"].join("\n"));
});
