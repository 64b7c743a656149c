// What the replay debugger's Variables, Watch and Debug Console read at a stop (docs/debugger.md,
// "Variables, Watch and the Debug Console"): an item's or iteration's scope, and the state a
// JSONata expression sees (`inputs`, `run`, `steps`, and on an item's frame its `key`, `index`,
// `item`, `iteration` and `unit`). Values are read from the store only when needed.
import type { Level } from "./level";
import type { FrameAt } from "./stack";
import type { ValueCache } from "./variables";
import { runView, stepView } from "./views";

/**
 * An item's or iteration's scope: `key`, `index` and `item` (its value in the map's list), or
 * `iteration`; and `unit`, its own state (as a step's: status, input, output, attempts, …).
 */
export async function unitView(
  l: Level,
  values: ValueCache,
  unit: string,
): Promise<Record<string, unknown>> {
  const f = l.threads.facts(unit);
  const ref = f.index === undefined ? null : l.threads.listOf(f.stepId);
  const list = ref === null ? undefined : await values.load(ref);
  return {
    ...(f.key === undefined ? {} : { key: f.key }),
    ...(f.index === undefined ? {} : { index: f.index }),
    ...(Array.isArray(list) ? { item: list[f.index!] as unknown } : {}),
    ...(f.iteration === undefined ? {} : { iteration: f.iteration }),
    unit: stepView(l.fold, unit),
  };
}

/**
 * What an expression sees at the current position of `l`: `inputs`, `run` and `steps`, and on an
 * item's or iteration's frame (or event) its `key`, `index`, `item`, `iteration` and `unit`. Steps
 * the expression names (and the selected frame's) come whole, values read; the others with their
 * status, origin and error only, so that a large run costs no store reads it does not need.
 */
export async function expressionScope(
  l: Level,
  values: ValueCache,
  frame: FrameAt | undefined,
  expression: string,
): Promise<Record<string, unknown>> {
  const e = l.fold.current;
  const framed = frame ? frame.step : e?.stepId;
  const unit = frame ? frame.unit : e?.stepId && e.scope !== null ? e.stepId + e.scope : null;
  const steps: Record<string, unknown> = {};
  for (const s of l.fold.steps()) {
    if (s.id === framed || expression.includes(s.id)) {
      steps[s.id] = await values.resolve(stepView(l.fold, s.id));
    } else {
      steps[s.id] = {
        status: s.status,
        ...(s.origin ? { origin: s.origin } : {}),
        error: s.error,
      };
    }
  }
  return {
    // An item's or iteration's frame: `key`, `index`, `item` or `iteration`, and `unit`.
    ...(unit ? ((await values.resolve(await unitView(l, values, unit))) as object) : {}),
    inputs: await values.load(l.rec.run.inputsHash),
    run: runView(l.fold, l.rec.run, l.rec.findings),
    steps,
  };
}
