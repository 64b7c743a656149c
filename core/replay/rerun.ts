// Rerun from a step (docs/replay.md, "Rerun"): a new run of the workflow file on disk, linked to
// its parent, that reuses the parent's recorded output of every step not downstream of the chosen
// one or of a step whose output `--set` replaces, and runs that step, the descendants of both and
// any step without a recorded output live. It refuses when a step it would reuse, or anything that
// step depends on, changed since the parent run (the caller may force it).
import { analyzeBare, IMPURE_FUNCTIONS, STATUS_FUNCTIONS } from "../expr/analyze";
import { withAncestors, withDescendants } from "../graph/graph";
import type { Step } from "../model/schema";
import { evaluateBareSync, FALLBACK } from "../expr/evaluate";
import type { LoadedWorkflow } from "../runner/load";
import { loadWorkflowText } from "../runner/load";
import { stepChanged } from "../runner/step-run";
import type { ReusedStep } from "../runner/types";
import { foldToEnd } from "../record/fold";
import { splitUnit } from "../record/records";
import { closest } from "../model/suggest";
import type { RecordedRun } from "./record";

export type RerunPlan =
  | {
      readonly ok: true;
      readonly reuse: Map<string, ReusedStep>;
      /** Steps that will execute, in topological order. */
      readonly live: readonly string[];
      /**
       * The `http`, `shell` and (not pure) `tool` steps among them that may execute again and
       * touch the world: not those sure to be skipped again.
       */
      readonly effectful: readonly string[];
      /** The reused steps that changed since the parent (only when forced). */
      readonly changed: readonly string[];
    }
  | { readonly ok: false; readonly problem: string };

/**
 * Where a rerun starts: a step (`summarize`), one item or iteration of it (`summarize[doc-17]`:
 * its other items are reused), or every step that did not succeed (`--failed`: the succeeded
 * items of a map that failed are reused).
 */
export type RerunFrom = string | { readonly failed: true };

export function planRerun(
  record: RecordedRun,
  loaded: LoadedWorkflow,
  from: RerunFrom,
  set: ReadonlyMap<string, unknown>,
  force = false,
): RerunPlan {
  const graph = loaded.graph;
  const fold = foldToEnd(record.events, record.attempts);
  const start = startsOf(record, loaded, fold, from);
  if (typeof start === "string") return { ok: false, problem: start };
  const downstream = new Set<string>();
  for (const id of start.steps) for (const d of withDescendants(graph, id)) downstream.add(d);
  // One label for messages: the step (or unit) asked for, or the failed steps.
  const fromText = typeof from === "string" ? from : start.steps.join(", ");
  // `--set research#2/search.0=…`: a tool call of a turn the rerun reuses (`--from research#3`).
  const unitSets = [...set.keys()].filter((k) => splitUnit(k).scope !== null);
  for (const key of unitSets) {
    const problem = unitSetProblem(record, fold, key, start.turn);
    if (problem) return { ok: false, problem };
  }
  const stepSets = [...set.keys()].filter((k) => splitUnit(k).scope === null);
  for (const id of stepSets) {
    if (!graph.deps.has(id))
      return { ok: false, problem: `--set names no step of the workflow: '${id}'` };
    if (downstream.has(id))
      return {
        ok: false,
        problem: `--set ${id}: '${id}' runs again (it is downstream of '${fromText}'), so its output cannot be set`,
      };
  }
  // Every step below a set step runs again as well: its recorded output was computed from the
  // value that --set replaces, and keeping it would make a state no run could have.
  const runsAgain = new Set(downstream);
  const setBelow = new Map<string, string>();
  for (const id of stepSets)
    for (const d of withDescendants(graph, id)) {
      if (d === id) continue;
      runsAgain.add(d);
      setBelow.set(d, id);
    }
  for (const id of stepSets) {
    const above = setBelow.get(id);
    if (above !== undefined)
      return {
        ok: false,
        problem: `--set ${id}: '${id}' runs again (it is downstream of --set ${above}), so its output cannot be set; set only '${above}', or only '${id}'`,
      };
  }
  const reuse = new Map<string, ReusedStep>();
  for (const id of graph.order) {
    if (runsAgain.has(id)) continue;
    const output = fold.step(id)?.output;
    if (output != null)
      reuse.set(id, { output: record.value(output) ?? null, sourceRunId: record.run.id });
  }
  // An agent rerun from turn n keeps its turns before n and their tool calls (docs/replay.md).
  if (start.turn) {
    for (const u of fold.units(start.turn.stepId)) {
      const turn = /^#(\d+)(?:\/|$)/.exec(u.scope ?? "");
      if (!turn || Number(turn[1]) >= start.turn.n) continue;
      if (u.status === "succeeded" && u.output !== null)
        reuse.set(u.id, { output: record.value(u.output) ?? null, sourceRunId: record.run.id });
    }
  }
  for (const [id, value] of set) reuse.set(id, { output: value, sourceRunId: record.run.id });
  // A map that runs again because of its own items (not because what it reads changed) keeps its
  // succeeded items, by key; the item asked for runs again.
  const itemsKept: string[] = [];
  for (const id of start.keepItems) {
    if ([...start.steps, ...set.keys()].some((s) => s !== id && withDescendants(graph, s).has(id)))
      continue;
    itemsKept.push(id);
    for (const u of fold.units(id)) {
      if (u.id === start.unit || u.status !== "succeeded" || u.output === null) continue;
      if (!u.scope?.startsWith("[") || u.scope.includes("#")) continue;
      reuse.set(u.id, { output: record.value(u.output) ?? null, sourceRunId: record.run.id });
    }
  }
  const changed = changedReused(record, loaded, [
    ...[...reuse.keys()].filter((k) => graph.deps.has(k)),
    ...itemsKept,
  ]);
  if (changed.length > 0 && !force) {
    return {
      ok: false,
      problem: `step '${changed[0]}' changed since run ${record.run.id}, and '${fromText}' would reuse its recorded output or depend on it: rerun from an earlier step, or pass --force`,
    };
  }
  const live = graph.order.filter((id) => !reuse.has(id));
  const skipped = staysSkipped(record, loaded, runsAgain, reuse);
  const effectful = live.filter(
    (id) => !skipped.has(id) && touchesTheWorld(loaded.workflow.steps[id] as Step | undefined),
  );
  return { ok: true, reuse, live, effectful, changed };
}

/**
 * The steps a rerun starts from, the maps whose succeeded items it may keep, and the one unit it
 * must run again; a problem (text) when `from` names nothing of the workflow or the run.
 */
function startsOf(
  record: RecordedRun,
  loaded: LoadedWorkflow,
  fold: ReturnType<typeof foldToEnd>,
  from: RerunFrom,
): { steps: string[]; keepItems: string[]; unit?: string; turn?: AgentTurnStart } | string {
  const graph = loaded.graph;
  if (typeof from !== "string") {
    const bad = (s: { status: string } | undefined) =>
      s !== undefined && (s.status === "failed" || s.status === "cancelled");
    // A map that succeeded with failed items (`on_item_error: continue`) runs them again too.
    const steps = graph.order.filter((id) => bad(fold.step(id)) || fold.units(id).some(bad));
    if (steps.length === 0)
      return `run ${record.run.id} has no failed or cancelled step: there is nothing to rerun`;
    return { steps, keepItems: steps };
  }
  const { stepId, scope } = splitUnit(from);
  if (!graph.deps.has(stepId)) {
    const match = closest(stepId, graph.ids);
    return `no step '${stepId}' in the workflow${match ? `: did you mean '${match}'?` : ""}`;
  }
  if (scope === null) return { steps: [stepId], keepItems: [] };
  if (scope.startsWith("#")) return turnStart(record, loaded, fold, stepId, scope);
  const known = fold
    .units(stepId)
    .filter((u) => u.scope?.startsWith("[") && !u.scope.includes("#"));
  if (!known.some((u) => u.id === from)) {
    const keys = known.map((u) => u.scope!.slice(1, -1));
    const match = closest(scope.slice(1, -1), keys);
    return `run ${record.run.id} has no item ${scope} of step '${stepId}'${match ? `: did you mean ${stepId}[${match}]?` : keys.length ? ` (its items: ${keys.slice(0, 5).join(", ")}${keys.length > 5 ? ", …" : ""})` : ": it has no items"}`;
  }
  return { steps: [stepId], keepItems: [stepId], unit: from };
}

/** A rerun from an agent's turn: the turns before `n` are reused. */
interface AgentTurnStart {
  readonly stepId: string;
  readonly n: number;
}

/** The turns of an agent step in a record: its units `#n`. */
function turnsOf(fold: ReturnType<typeof foldToEnd>, stepId: string): number {
  return fold.units(stepId).filter((u) => /^#\d+$/.test(u.scope ?? "")).length;
}

/** `--from research#3`: the agent's turn 3 and after run live, the turns before it are reused. */
function turnStart(
  record: RecordedRun,
  loaded: LoadedWorkflow,
  fold: ReturnType<typeof foldToEnd>,
  stepId: string,
  scope: string,
): { steps: string[]; keepItems: string[]; turn: AgentTurnStart } | string {
  const step = loaded.workflow.steps[stepId] as Step;
  const n = /^#([1-9][0-9]*)$/.exec(scope);
  if (step.type !== "agent" || !n)
    return `--from ${stepId}${scope}: a rerun starts at a step, an item of a map (step[key]) or a turn of an agent (step#n)`;
  const turns = turnsOf(fold, stepId);
  if (Number(n[1]) > turns)
    return `run ${record.run.id} has no turn ${n[1]} of step '${stepId}' (it ran ${turns} turn${turns === 1 ? "" : "s"})`;
  return { steps: [stepId], keepItems: [], turn: { stepId, n: Number(n[1]) } };
}

/** Why `--set <unit>=…` cannot be: it names no tool call of a reused turn of the rerun's agent. */
function unitSetProblem(
  record: RecordedRun,
  fold: ReturnType<typeof foldToEnd>,
  key: string,
  turn: AgentTurnStart | undefined,
): string | undefined {
  const { stepId, scope } = splitUnit(key);
  const call = /^#(\d+)\/[A-Za-z0-9_-]+\.\d+$/.exec(scope ?? "");
  if (!call)
    return `--set ${key}: only a step's output or an agent's tool call (step#turn/tool.index) can be set`;
  if (!fold.units(stepId).some((u) => u.id === key))
    return `--set ${key}: run ${record.run.id} has no such tool call of step '${stepId}'`;
  if (!turn || turn.stepId !== stepId || Number(call[1]) >= turn.n)
    return `--set ${key}: only a tool call of a turn the rerun reuses can be set: rerun with --from ${stepId}#${Number(call[1]) + 1}`;
  return undefined;
}

/**
 * Whether a step reaches outside when it runs: `http`, `shell`, `tool` unless declared pure, a
 * workflow step, whose child may do anything its file does, and an agent, whose tools may.
 */
function touchesTheWorld(step: Step | undefined): boolean {
  if (!step) return false;
  if (step.type === "tool") return step.pure !== true;
  // An agent's tools may be any of these.
  return (
    step.type === "http" ||
    step.type === "shell" ||
    step.type === "workflow" ||
    step.type === "agent"
  );
}

/**
 * Steps the rerun decides again that are sure to be skipped again: skipped in the parent, not
 * below `--from` or a set step, every dependency reused or itself sure to be skipped again, and
 * either none of them ran (the step's branch is not taken: docs/runner.md, "Joins") or its `if`,
 * reading only `inputs` and `steps` (no env, run, status or impure function), is not true on
 * the reused values. They are no hazard.
 */
function staysSkipped(
  record: RecordedRun,
  loaded: LoadedWorkflow,
  runsAgain: ReadonlySet<string>,
  reuse: ReadonlyMap<string, ReusedStep>,
): Set<string> {
  const fold = foldToEnd(record.events, record.attempts);
  const out = new Set<string>();
  for (const id of loaded.graph.order) {
    if (runsAgain.has(id) || reuse.has(id) || fold.step(id)?.status !== "skipped") continue;
    const deps = loaded.graph.deps.get(id)!;
    if (!deps.every((d) => reuse.has(d) || out.has(d))) continue;
    if (deps.length > 0 && deps.every((d) => out.has(d))) {
      out.add(id);
      continue;
    }
    const condition = (loaded.workflow.steps[id] as Step).if;
    if (condition === undefined || !decidedByInputsAndSteps(condition)) continue;
    const steps = Object.fromEntries(
      deps.map((d) => [
        d,
        out.has(d)
          ? { output: null, status: "skipped" }
          : { output: reuse.get(d)!.output, status: "succeeded" },
      ]),
    );
    const value = evaluateBareSync(condition, { context: { inputs: record.inputs, steps } });
    if (value !== FALLBACK && value !== true) out.add(id);
  }
  return out;
}

/** A condition whose value depends only on `inputs` and the steps' outputs and statuses. */
function decidedByInputsAndSteps(condition: unknown): boolean {
  if (typeof condition === "boolean") return true;
  const info = analyzeBare(condition);
  if (!info || info.wholeContext.length > 0) return false;
  return (
    info.refs.every((r) => r.segments[0]?.name === "inputs" || r.segments[0]?.name === "steps") &&
    info.calls.every((c) => !IMPURE_FUNCTIONS.has(c.name) && !STATUS_FUNCTIONS.has(c.name))
  );
}

/** Reused steps, and the steps they depend on, whose definitions differ from the parent's source. */
function changedReused(
  record: RecordedRun,
  loaded: LoadedWorkflow,
  reused: Iterable<string>,
): string[] {
  if (record.source === loaded.source) return [];
  const before = loadWorkflowText(loaded.path, record.source);
  const all = new Set<string>();
  for (const id of reused) for (const a of withAncestors(loaded.graph, id)) all.add(a);
  const ids = loaded.graph.order.filter((id) => all.has(id));
  if (!before.ok) return ids.slice(0, 1);
  return ids.filter((id) => stepChanged(before.loaded.workflow, loaded.workflow, id));
}
