// The evaluator's limits (docs/runner.md, "Limits on expressions"), on `evaluate` itself: a signal
// stops it with its own reason (even out of `$eval`, which wraps errors), a time limit of its own
// gives D1011's sibling D1012, arrays that double stop at D2015, and the limits leave room for
// ordinary work: a recursion 5,000 deep and a 100,000-item `$map` still answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { evaluate, ExpressionError } from "@keel/core/expr/evaluate";

const LOOP = "($f := function($x) { $f($x) }; $f(1))";

test("an abort stops an evaluation with the signal's reason, also inside $eval", async () => {
  for (const text of [LOOP, `$eval('${LOOP}')`]) {
    const controller = new AbortController();
    const reason = new Error("stop here");
    setTimeout(() => controller.abort(reason), 100);
    const started = Date.now();
    await assert.rejects(evaluate(text, { context: {}, signal: controller.signal }), (e) => {
      assert.equal(e, reason, text);
      return true;
    });
    assert.ok(Date.now() - started < 2_000, `${text}: stopped after ${Date.now() - started} ms`);
  }
});

test("a time limit of its own ends an evaluation with D1012", async () => {
  await assert.rejects(evaluate(LOOP, { context: {}, timeoutMs: 200 }), (e) => {
    assert.ok(e instanceof ExpressionError);
    assert.equal(e.code, "D1012");
    assert.match(e.message, /D1012: Evaluation timeout after 200 milliseconds/);
    return true;
  });
});

test("an array that doubles stops at the sequence limit (D2015), before memory runs out", async () => {
  const text =
    "($f := function($a, $n) { $n = 0 ? $count($a) : $f($append($a, $a), $n - 1) }; $f([1], 40))";
  await assert.rejects(evaluate(text, { context: {} }), /D2015/);
});

test("the limits leave room for ordinary work", async () => {
  const sum = "($f := function($n) { $n <= 1 ? 1 : $n + $f($n - 1) }; $f(5000))";
  assert.equal(await evaluate(sum, { context: {} }), (5000 * 5001) / 2);
  assert.equal(
    await evaluate("$count($map([1..100000], function($v) { $v * 2 }))", { context: {} }),
    100_000,
  );
});
