// A document's analysis across versions: completion reads the newest model already built, so an
// edit inside one step never makes it wait for a full validation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { analyze, reanalyze } from "@keel/core/service/analysis";

const FLOW = `keel: 1
name: demo
steps:
  a:
    type: transform
    expr: 1
  b:
    type: transform
    expr: steps.a.output + 1
`;

test("after an incremental edit completion gets the earlier model until this version's is built", () => {
  const first = analyze(FLOW);
  assert.equal(first.semanticModel, first.model);
  const edited = FLOW.replace("steps.a.output + 1", "steps.a.output + 2");
  const second = reanalyze(first, edited);
  assert.equal(second.how, "incremental");
  assert.equal(second.semanticModel, first.model, "no full validation for completion");
  const built = second.model;
  assert.notEqual(built, first.model);
  assert.equal(second.semanticModel, built, "once built, the version's own model");
  // A further edit inherits the newest model.
  const third = reanalyze(second, edited.replace("+ 2", "+ 3"));
  assert.equal(third.how, "incremental");
  assert.equal(third.semanticModel, built);
});
