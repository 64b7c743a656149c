// The step views of a recorded run follow the fold move by move (webview/stepper/fold-views.ts):
// at every position, whatever the path taken to it, they are the views built from scratch (an
// agent's turns and tool calls too).
import { test } from "node:test";
import assert from "node:assert/strict";
import type { GraphMessage, RecordingMessage } from "@keel/core/protocol/webview";
import { StepViews, type StepView } from "../../webview/graph/step-views";
import { follow, viewOfStep, type Followed } from "../../webview/stepper/fold-views";
import { foldOf } from "../../webview/stepper/recording";
import { graph, recordingOf } from "./panel";
import { agentGraph, agentRun } from "./agent-run";

const recording = recordingOf() as unknown as RecordingMessage;
const ids = graph.steps.map((s) => s.id);

/** Every step's view at the fold's position, built from scratch. */
function fromScratch(g: GraphMessage, at: number): Map<string, StepView> {
  const fold = foldOf(recording, ids);
  fold.seek(at);
  const current = fold.current?.stepId ?? null;
  return new Map(g.steps.map((s) => [s.id, viewOfStep(fold.step(s.id), s.id === current)]));
}

function shown(views: StepViews): Map<string, StepView> {
  return new Map(ids.map((id) => [id, views.get(id)]));
}

test("moves of one event, back and forth, leave every view as a fresh fold's", () => {
  const fold = foldOf(recording, ids);
  const views = new StepViews();
  let last: Followed | undefined;
  const path = [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 7, 6, 5, 4, 3, 2, 1, 0, -1, 0, 1];
  for (const at of path) {
    fold.seek(at);
    last = follow(views, graph, fold, last);
    assert.deepEqual(shown(views), fromScratch(graph, at), `at ${at}`);
  }
});

test("jumps (Home, End, the scrubber, the next failure) leave every view as a fresh fold's", () => {
  const fold = foldOf(recording, ids);
  const views = new StepViews();
  let last: Followed | undefined;
  for (const at of [8, -1, 4, 7, 2, 8, 3, -1, 5]) {
    fold.seek(at);
    last = follow(views, graph, fold, last);
    assert.deepEqual(shown(views), fromScratch(graph, at), `at ${at}`);
  }
});

test("a move tells only the nodes of the steps it changed, and the current step before and after", () => {
  const fold = foldOf(recording, ids);
  const views = new StepViews();
  const told: string[] = [];
  for (const id of ids) views.subscribe(id, () => told.push(id));
  fold.seek(3);
  let last = follow(views, graph, fold, undefined);
  told.length = 0;
  fold.seek(4); // attempt_failed of classify: classify stays current, its attempts change
  last = follow(views, graph, fold, last);
  assert.deepEqual(told, ["classify"]);
  told.length = 0;
  fold.seek(6); // classify succeeds, draft starts and becomes current
  follow(views, graph, fold, last);
  assert.deepEqual(told.sort(), ["classify", "draft"]);
});

test("an agent's view has its turns and calls at every position, moved to or built fresh, and no iterations", async () => {
  const run = await agentRun();
  const g = agentGraph();
  const rec = run.recording as unknown as RecordingMessage;
  const stepIds = g.steps.map((s) => s.id);
  const fresh = (at: number) => {
    const f = foldOf(rec, stepIds);
    f.seek(at);
    const current = f.current?.stepId ?? null;
    return new Map(
      g.steps.map((s) => [s.id, viewOfStep(f.step(s.id), s.id === current, f, s.type === "agent")]),
    );
  };
  const fold = foldOf(rec, stepIds);
  const views = new StepViews();
  let last: Followed | undefined;
  const end = rec.events.length - 1;
  for (const at of [-1, 3, 4, 5, 6, 7, 8, 7, 6, end, 2, end - 1, end]) {
    fold.seek(at);
    last = follow(views, g, fold, last);
    assert.deepEqual(new Map(stepIds.map((id) => [id, views.get(id)])), fresh(at), `at ${at}`);
    assert.equal(views.get("research").iterations, undefined);
  }
  assert.equal(views.get("research").agent?.turns.length, 4);
});
