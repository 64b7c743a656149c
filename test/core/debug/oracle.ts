// What the debugger must show at a stop, from the step-through fold directly (the oracle), and a
// check that compares it with what the session answers over the protocol.
import assert from "node:assert/strict";
import type { DebugClient } from "@vscode/debugadapter-testsupport";
import { RunFold } from "@keel/core/record/fold";
import type { RunStore } from "@keel/core/store/run-store";
import { inlineValue } from "@keel/core/record/refs";
import { frames, named, scopes, variables } from "./harness";

/** The fold of a recorded run, as the session builds it. */
export async function foldOf(store: RunStore, runId: string): Promise<RunFold> {
  return new RunFold(await store.events(runId), await store.attempts(runId));
}

async function valueOf(store: RunStore, ref: string): Promise<unknown> {
  const text = inlineValue(ref) ?? (await store.blob(ref));
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}

/**
 * At event k: the top frame names the event's step, the Run scope's event, status and steps by
 * status are the fold's, and the Step scope's status, error and output are the fold's.
 */
export async function assertStopMatchesFold(
  dc: DebugClient,
  fold: RunFold,
  store: RunStore,
  k: number,
  deep = true,
): Promise<void> {
  fold.seek(k);
  const e = fold.events[k]!;
  const [top] = await frames(dc);
  assert.ok(top, "a top frame");
  assert.ok(
    top.name.startsWith(e.stepId ?? "run"),
    `top frame '${top.name}' names ${e.stepId ?? "the run"} at event ${e.seq}`,
  );
  if (!deep) return;
  const s = await scopes(dc, top.id);
  const run = await named(dc, s.get("Run")!.variablesReference);
  const event = await named(dc, run.get("event")!.variablesReference);
  assert.equal(event.get("seq")!.value, String(e.seq));
  assert.equal(run.get("status")!.value, JSON.stringify(fold.run.status));
  const expected = new Map<string, string[]>();
  for (const step of fold.steps())
    expected.set(step.status, [...(expected.get(step.status) ?? []), step.id]);
  const groups = await variables(dc, run.get("stepsByStatus")!.variablesReference);
  const shown = new Map<string, string[]>();
  for (const g of groups) {
    const ids = await variables(dc, g.variablesReference);
    shown.set(
      g.name,
      ids.map((v) => JSON.parse(v.value) as string),
    );
  }
  assert.deepEqual(
    new Map([...shown].map(([k2, v]) => [k2, [...v].sort()])),
    new Map([...expected].map(([k2, v]) => [k2, [...v].sort()])),
    `steps by status at event ${e.seq}`,
  );
  if (e.stepId === null) return;
  const at = fold.step(e.stepId)!;
  const step = await named(dc, s.get("Step")!.variablesReference);
  assert.equal(step.get("status")!.value, JSON.stringify(at.status));
  if (at.error) {
    const error = await named(dc, step.get("error")!.variablesReference);
    assert.equal(error.get("kind")!.value, JSON.stringify(at.error.kind));
  } else assert.equal(step.get("error")!.value, "null");
  const output = at.output === null ? null : await valueOf(store, at.output);
  const copied = await dc.evaluateRequest({
    expression: step.get("output")!.evaluateName!,
    frameId: top.id,
    context: "clipboard",
  });
  const expectedText =
    output === null
      ? "null"
      : typeof output === "string"
        ? output
        : JSON.stringify(output, null, 2);
  assert.equal(copied.body.result, expectedText, `output of ${e.stepId} at event ${e.seq}`);
}
