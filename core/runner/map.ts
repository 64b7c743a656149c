// The pure parts of a `for_each` map (docs/format.md, "Maps, child workflows and loops"): its
// list checked, the items' keys, when failures stop it, and its output assembled. The scheduler
// (run.ts) runs the items; each is a unit of the record (docs/dev/scopes.md).
import type { Step } from "../model/schema";
import { itemScope, unitKey } from "../record/records";
import { StepError } from "./errors";
import type { ItemView, StepState } from "./types";

/** Items running at once when the step sets no `concurrency`. */
export const DEFAULT_ITEM_CONCURRENCY = 4;

/** One item of a map: its key, its position and its unit key (`summarize[doc-17]`). */
export interface Item {
  readonly key: string;
  readonly index: number;
  readonly value: unknown;
  readonly unit: string;
}

/** The list a `for_each` evaluated to; a step error when it is not one or is too long. */
export function itemList(stepId: string, step: Step, value: unknown): unknown[] {
  if (!Array.isArray(value)) {
    const what = value === undefined ? "nothing" : value === null ? "null" : typeof value;
    throw new StepError(
      "expression",
      `for_each of step '${stepId}' gave ${what}, not a list: write an expression whose value is an array (\`${String(step.for_each)}\`)`,
    );
  }
  if (step.max_items !== undefined && value.length > step.max_items) {
    throw new StepError(
      "config",
      `for_each of step '${stepId}' gave ${value.length} items, more than its max_items (${step.max_items}): no item ran; raise max_items or filter the list`,
    );
  }
  return value;
}

/** An item's key as the record writes it: a string as it is, anything else as its JSON text. */
export function keyText(value: unknown): string {
  return typeof value === "string" ? value : (JSON.stringify(value) ?? "null");
}

/**
 * The items of the list with their keys (the values of the step's `key` expression, else the
 * indexes). A key is redacted (`redact`) before anything sees it: it names the item's unit in the
 * record, the CLI and span names, so a key made from a secret holds its mark, never its value.
 * A duplicate key fails the step before any item runs, naming both positions.
 */
export function itemsOf(
  stepId: string,
  list: readonly unknown[],
  keys: readonly unknown[],
  redact: (key: string) => string,
): Item[] {
  const seen = new Map<string, number>();
  return list.map((value, index) => {
    const k = redact(keyText(keys[index]));
    const first = seen.get(k);
    if (first !== undefined) {
      throw new StepError(
        "expression",
        `step '${stepId}': items ${first} and ${index} have the same key '${k}': keys must be unique (change the step's \`key\`)`,
      );
    }
    seen.set(k, index);
    return { key: k, index, value, unit: unitKey(stepId, itemScope(k)) };
  });
}

/** The most items that may fail before the step does; Infinity when failures do not count. */
export function failureLimit(step: Step, count: number): number {
  const policy = step.on_item_error ?? "fail";
  if (policy === "fail") return 0;
  const max = step.max_failures;
  if (max === undefined) return Infinity;
  if (typeof max === "number") return max;
  return Math.floor((Number(max.slice(0, -1)) / 100) * count);
}

/** The step's output and `items` once every item ended, in list order. */
export function assemble(
  step: Step,
  items: readonly Item[],
  states: ReadonlyMap<string, StepState>,
): { output: unknown[]; views: ItemView[] } {
  const drop = step.on_item_error === "drop";
  const output: unknown[] = [];
  const views: ItemView[] = [];
  for (const item of items) {
    const s = states.get(item.unit)!;
    const ok = s.status === "succeeded";
    if (ok || !drop) output.push(ok ? s.output : null);
    views.push({
      key: item.key,
      index: item.index,
      status: s.status,
      output: ok ? s.output : null,
    });
  }
  return { output, views };
}

/** The error of a map step whose items failed: the count, and the first failure's unit and reason. */
export function itemsError(
  stepId: string,
  failed: readonly Item[],
  states: ReadonlyMap<string, StepState>,
  count: number,
): StepError {
  const first = failed[0]!;
  const reason = states.get(first.unit)!.error;
  const what = failed.length === 1 ? "1 item" : `${failed.length} items`;
  return new StepError(
    "item_failures",
    `${what} of ${count} failed; first ${stepId}[${first.key}] (item ${first.index + 1}): ${reason?.message ?? "failed"}`,
  );
}
