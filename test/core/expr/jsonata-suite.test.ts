// jsonata's own test suite (jsonata-js/jsonata, test/test-suite) run through Keel's evaluators.
// The suite is not in the repository: KEEL_JSONATA_SUITE names its folder (the one holding
// `groups` and `datasets`); without it this test is skipped. docs/dev/expressions.md says how to
// get it and the figures of the last run.
//
// Every case goes to the fast evaluator (core/expr/fast.ts): wherever it answers, its answer must
// be jsonata's and the case's own. Every case also goes to the evaluator a run uses
// (core/expr/evaluate.ts: the fast path, else jsonata under Keel's limits), which must give
// the case's result or its error code, except that a runaway case (one the suite "timeboxes")
// must stop with D1011 (too deep) or D1012 (too long) instead of jsonata's test-only U1001.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import jsonata from "jsonata";
import { compileFast, FALLBACK } from "@keel/core/expr/fast";
import { parseExpression } from "@keel/core/expr/parse";
import { evaluate, EXPRESSION_LIMITS } from "@keel/core/expr/evaluate";

const SUITE = process.env.KEEL_JSONATA_SUITE;

interface Case {
  readonly group: string;
  readonly file: string;
  readonly expr: string;
  readonly data?: unknown;
  readonly dataset?: string | null;
  readonly bindings?: Record<string, unknown>;
  readonly result?: unknown;
  readonly undefinedResult?: boolean;
  readonly code?: string;
  readonly error?: { readonly code?: string };
  readonly timelimit?: number;
  readonly depth?: number;
}

function loadCases(root: string): { cases: Case[]; datasets: Map<string, unknown> } {
  const datasets = new Map<string, unknown>();
  for (const name of readdirSync(join(root, "datasets")))
    datasets.set(
      name.replace(/\.json$/, ""),
      JSON.parse(readFileSync(join(root, "datasets", name), "utf8")),
    );
  const cases: Case[] = [];
  const groups = join(root, "groups");
  for (const group of readdirSync(groups).sort()) {
    if (group.endsWith(".json")) continue;
    for (const file of readdirSync(join(groups, group)).sort()) {
      if (!file.endsWith(".json")) continue;
      const spec = JSON.parse(readFileSync(join(groups, group, file), "utf8")) as
        Record<string, unknown> | Record<string, unknown>[];
      for (const c of Array.isArray(spec) ? spec : [spec]) {
        const exprFile = c["expr-file"];
        const expr =
          typeof exprFile === "string"
            ? readFileSync(join(groups, group, exprFile), "utf8")
            : (c.expr as string);
        cases.push({ ...(c as object), group, file, expr } as Case);
      }
    }
  }
  return { cases, datasets };
}

/** jsonata's result sequences and objects as plain JSON-like values; functions stay functions. */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = plain(x);
    return out;
  }
  return v;
}

type Outcome = { value: unknown } | { code: string | undefined };

function expectedOf(c: Case): Outcome {
  if (c.undefinedResult) return { value: undefined };
  if ("result" in c) return { value: c.result };
  return { code: c.code ?? c.error?.code };
}

function same(a: Outcome, b: Outcome): boolean {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

async function outcome(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { value: plain(await run()) };
  } catch (e) {
    return { code: (e as { code?: string }).code };
  }
}

test("jsonata's own test suite through Keel's evaluators", { skip: skipReason() }, async (t) => {
  const { cases, datasets } = loadCases(SUITE!);
  let accepted = 0;
  let fellBack = 0;
  let timeboxed = 0;
  const depth = EXPRESSION_LIMITS.depth;
  const fastMismatches: string[] = [];
  const runMismatches: string[] = [];
  for (const c of cases) {
    const input =
      "data" in c
        ? c.data
        : c.dataset === null || c.dataset === undefined
          ? undefined
          : datasets.get(c.dataset);
    const where = `${c.group}/${c.file}: ${c.expr}`;
    const expected = expectedOf(c);
    const runaway = "timelimit" in c && "depth" in c;
    if (runaway) timeboxed++;

    const parsed = parseExpression(c.expr);
    const fast = parsed.ast ? compileFast(parsed.ast) : undefined;
    if (fast) {
      const got = fast(input as Record<string, unknown>);
      if (got === FALLBACK) fellBack++;
      else {
        accepted++;
        const mine: Outcome = { value: plain(got) };
        const theirs = await outcome(() => jsonata(c.expr).evaluate(input, c.bindings));
        if (!same(mine, theirs) || !same(mine, expected))
          fastMismatches.push(
            `${where}: fast ${brief(mine)}, jsonata ${brief(theirs)}, expected ${brief(expected)}`,
          );
      }
    }

    // A runaway case runs under its own limits (a case that ends may take longer on a busy
    // machine than the suite allows it: a minute).
    // U1001 is the suite's own code for "stopped by the limits" (its timebox).
    const stops = runaway && "code" in expected && expected.code === "U1001";
    if (stops) EXPRESSION_LIMITS.depth = c.depth!;
    const ran = await outcome(() =>
      evaluate(c.expr, {
        context: input as Record<string, unknown>,
        bindings: c.bindings,
        timeoutMs: stops ? c.timelimit : 60_000,
      }),
    ).finally(() => (EXPRESSION_LIMITS.depth = depth));
    const ok = stops
      ? "code" in ran && (ran.code === "D1011" || ran.code === "D1012")
      : same(ran, expected);
    if (!ok) runMismatches.push(`${where}: got ${brief(ran)}, expected ${brief(expected)}`);
  }
  t.diagnostic(
    `${cases.length} cases; the fast path accepted ${accepted} (and fell back on ${fellBack} it compiled); fast-path mismatches: ${fastMismatches.length}; Keel's evaluator disagreed with the suite on ${runMismatches.length} (${timeboxed} runaway cases must stop with D1011/D1012)`,
  );
  assert.deepEqual(fastMismatches, [], "the fast path must give jsonata's answer");
  assert.deepEqual(runMismatches, [], "Keel's evaluator must give the suite's answer");
  assert.ok(accepted > 0, "the fast path accepted no case: is the suite's folder right?");
});

function brief(o: Outcome): string {
  const text = JSON.stringify(o);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** Why the suite cannot run, or false when it can. */
function skipReason(): string | false {
  if (!SUITE)
    return "KEEL_JSONATA_SUITE is not set: see docs/dev/expressions.md to fetch jsonata's test suite";
  if (!existsSync(join(SUITE, "groups")))
    return `KEEL_JSONATA_SUITE=${SUITE} has no groups folder: point it at jsonata's test/test-suite`;
  return false;
}
