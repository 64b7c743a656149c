// $trajectory(agent, expected, mode): the four modes over an agent step's view, its turns, and
// the cases at their edges (no calls, repeats, failed and refused calls), evaluated by the
// expression evaluator as a step's expressions are.
import { test } from "node:test";
import assert from "node:assert/strict";
import { evaluate, evaluateBareSync, ExpressionError, FALLBACK } from "@keel/core/expr/evaluate";
import { calledTools, matchTrajectory, TRAJECTORY_MODES } from "@keel/core/expr/trajectory";

type Call = { name: string; status?: string };
const turn = (n: number, ...calls: (string | Call)[]) => ({
  turn: n,
  tool_calls: calls.map((c) =>
    typeof c === "string" ? { name: c, args: {}, status: "succeeded", output: "r" } : c,
  ),
  usage: { input_tokens: 10, output_tokens: 5 },
});
/** An agent step as expressions see it. */
const agent = (...turns: ReturnType<typeof turn>[]) => ({
  output: "the answer",
  status: "succeeded",
  stop_reason: "answered",
  turns,
});

/** `$trajectory(steps.research, expected, mode)` evaluated by the evaluator. */
async function check(view: unknown, expected: string, mode?: string): Promise<unknown> {
  const text = `$trajectory(steps.research, ${expected}${mode ? `, "${mode}"` : ""})`;
  return evaluate(text, { context: { steps: { research: view } } });
}

async function failure(text: string, context: Record<string, unknown>): Promise<string> {
  const e = await evaluate(text, { context }).then(
    () => assert.fail(`${text} did not fail`),
    (err: unknown) => err,
  );
  assert.ok(e instanceof ExpressionError, String(e));
  return e.message;
}

// search, then fetch_page twice, in three turns; the fourth turn answers.
const research = agent(
  turn(1, "search"),
  turn(2, "fetch_page", "fetch_page"),
  turn(3, "search"),
  turn(4),
);

test("the trajectory is the names of the tool calls in call order over all turns", () => {
  assert.deepEqual(calledTools(research), ["search", "fetch_page", "fetch_page", "search"]);
  assert.deepEqual(calledTools(research.turns), ["search", "fetch_page", "fetch_page", "search"]);
});

test("strict (the default): the same names in the same order, every call listed", async () => {
  const all = '["search", "fetch_page", "fetch_page", "search"]';
  assert.equal(await check(research, all), true);
  assert.equal(await check(research, all, "strict"), true);
  assert.equal(await check(research, '["search", "fetch_page", "search", "fetch_page"]'), false);
  // A repeat left out, or one too many, fails.
  assert.equal(await check(research, '["search", "fetch_page", "search"]'), false);
  assert.equal(await check(research, `$append(${all}, "search")`), false);
});

test("unordered: the same names as many times each, in any order", async () => {
  const shuffled = '["fetch_page", "search", "search", "fetch_page"]';
  assert.equal(await check(research, shuffled, "unordered"), true);
  assert.equal(await check(research, '["fetch_page", "search", "fetch_page"]', "unordered"), false);
  assert.equal(
    await check(research, '["fetch_page", "search", "search", "search"]', "unordered"),
    false,
  );
});

test("subset: no tool outside the list was called; repeats of a listed tool are allowed", async () => {
  assert.equal(await check(research, '["search", "fetch_page"]', "subset"), true);
  assert.equal(await check(research, '["fetch_page", "search", "refund"]', "subset"), true);
  assert.equal(await check(research, '["search"]', "subset"), false);
  assert.equal(await check(research, "[]", "subset"), false);
});

test("superset: every listed tool was called at least once; others may be too", async () => {
  assert.equal(await check(research, '["search"]', "superset"), true);
  assert.equal(await check(research, '["fetch_page", "search"]', "superset"), true);
  assert.equal(await check(research, '["search", "search", "search"]', "superset"), true);
  assert.equal(await check(research, '["search", "refund"]', "superset"), false);
  assert.equal(await check(research, "[]", "superset"), true);
});

test("an agent that called no tool: strict and unordered match only [], subset always, superset only []", async () => {
  const answered = agent(turn(1));
  const none = agent();
  for (const view of [answered, none]) {
    assert.equal(await check(view, "[]"), true);
    assert.equal(await check(view, "[]", "unordered"), true);
    assert.equal(await check(view, '["search"]'), false);
    assert.equal(await check(view, '["search"]', "subset"), true);
    assert.equal(await check(view, "[]", "superset"), true);
    assert.equal(await check(view, '["search"]', "superset"), false);
  }
});

test("a failed call, one refused for its arguments and one to an unknown tool all count", async () => {
  const view = agent(
    turn(1, { name: "search", status: "invalid_arguments" }, { name: "refund", status: "failed" }),
    turn(2, "search"),
  );
  assert.deepEqual(calledTools(view), ["search", "refund", "search"]);
  assert.equal(await check(view, '["search", "refund", "search"]'), true);
  // The model asked for a tool it was not given: subset catches it.
  assert.equal(await check(view, '["search"]', "subset"), false);
  assert.equal(await check(view, '["refund"]', "superset"), true);
});

test("the bare turns list, one turn, and a single name for the expected list are read too", async () => {
  const context = { steps: { research } };
  const at = (text: string) => evaluate(text, { context });
  assert.equal(await at('$trajectory(steps.research.turns, ["search"], "subset")'), false);
  assert.equal(
    await at('$trajectory(steps.research.turns[turn = 2], ["fetch_page"], "subset")'),
    true,
  );
  assert.equal(await at('$trajectory(steps.research, "search", "superset")'), true);
  // Over JSON: a stand-in's output that is a list of turns.
  assert.equal(
    await at(
      `$trajectory(${JSON.stringify(research.turns)}, ["search", "fetch_page"], "unordered")`,
    ),
    false,
  );
});

test("the modes agree with their definitions on every small trajectory", () => {
  const names = ["a", "b"];
  const lists: string[][] = [[]];
  for (let len = 1; len <= 3; len++)
    for (const prev of lists.filter((l) => l.length === len - 1))
      for (const n of names) lists.push([...prev, n]);
  const count = (l: string[], n: string) => l.filter((x) => x === n).length;
  for (const called of lists)
    for (const expected of lists) {
      const want = {
        strict: called.join() === expected.join(),
        unordered: names.every((n) => count(called, n) === count(expected, n)),
        subset: called.every((n) => expected.includes(n)),
        superset: expected.every((n) => called.includes(n)),
      };
      for (const mode of TRAJECTORY_MODES)
        assert.equal(
          matchTrajectory(called, expected, mode),
          want[mode],
          `${mode} ${JSON.stringify(called)} ${JSON.stringify(expected)}`,
        );
    }
});

test("a wrong mode or arguments fail the expression with a message naming $trajectory and the fix", async () => {
  const context = { steps: { research, fetch: { output: { a: 1 }, status: "succeeded" } } };
  const usage = '`$trajectory(steps.<id>, ["search", "fetch_page"], "subset")`';
  assert.match(
    await failure('$trajectory(steps.research, ["search"], "subsett")', context),
    new RegExp(
      `failed: \\$trajectory's mode must be "strict", "unordered", "subset" or "superset", not "subsett": write ${escape(usage)}$`,
    ),
  );
  // A mode that is nothing (a missing input) is not taken for the default.
  assert.match(
    await failure('$trajectory(steps.research, ["search"], inputs.mode)', context),
    /\$trajectory's mode must be .* not nothing/,
  );
  assert.match(
    await failure("$trajectory(steps.research)", context),
    /\$trajectory takes 2 or 3 arguments \(the agent step, the expected tool names, the mode\), not 1/,
  );
  assert.match(
    await failure('$trajectory(steps.fetch, ["search"])', context),
    /\$trajectory's first argument is a step without `turns` \(its status is 'succeeded'\): only an agent step \(`type: agent`\) has turns/,
  );
  assert.match(
    await failure('$trajectory(steps.fetch.output, ["search"])', context),
    /\$trajectory's first argument is an object with a: pass an agent step \(`steps.<id>`\) or its `turns`/,
  );
  assert.match(
    await failure('$trajectory(steps.missing, ["search"])', context),
    /\$trajectory's first argument is nothing: pass an agent step/,
  );
  assert.match(
    await failure('$trajectory([1, 2], ["search"])', context),
    /a list whose item 0 is the number 1, not a turn/,
  );
  assert.match(
    await failure('$trajectory([{"turn": 1, "tool_calls": [{"args": {}}]}], ["search"])', context),
    /\$trajectory: tool call 0 of turn 1 has no name/,
  );
  assert.match(
    await failure("$trajectory(steps.research, [1])", context),
    /second argument must be the expected tool names, a list of texts such as \["search", "fetch_page"\], not a list holding the number 1/,
  );
});

test("$trajectory is left to jsonata by the synchronous evaluator, which answers FALLBACK", () => {
  const scope = { context: { steps: { research } } };
  assert.equal(
    evaluateBareSync('$trajectory(steps.research, ["search"], "superset")', scope),
    FALLBACK,
  );
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
