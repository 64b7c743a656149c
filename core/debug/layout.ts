// Where a workflow's steps are in its text and what each depends on: what the replay debugger
// needs of a file to place breakpoints and frames and to draw the upstream chain. Computed from the
// same model as every other feature (validate → outline, graph), once per text.
import { validate } from "../check/validate";
import { LineIndex } from "../model/line-index";
import { outline } from "../service/outline";

/** A step's place in the text; lines are zero-based. */
export interface StepPlace {
  readonly id: string;
  /** The line of the step's key (`summarize:`). */
  readonly keyLine: number;
  /** First and last line of the step's entry, key and value. */
  readonly firstLine: number;
  readonly lastLine: number;
}

export interface WorkflowLayout {
  readonly steps: ReadonlyMap<string, StepPlace>;
  /** Steps in file order. */
  readonly order: readonly StepPlace[];
  /** Direct dependencies of each step (`needs` and expression references). */
  readonly deps: ReadonlyMap<string, readonly string[]>;
  /** The step whose entry holds the zero-based line, if any. */
  stepAtLine(line: number): StepPlace | undefined;
}

export function layoutOf(text: string): WorkflowLayout {
  const { model } = validate(text);
  const index = new LineIndex(text);
  const section = outline(model).find((s) => s.kind === "section" && s.name === "steps");
  const order: StepPlace[] = [];
  for (const item of section?.children ?? []) {
    const first = index.position(item.span.start).line;
    const end = index.position(item.span.end);
    // A span that ends at the start of a line does not hold that line.
    const last = end.character === 0 && end.line > first ? end.line - 1 : end.line;
    order.push({
      id: item.name,
      keyLine: index.position(item.selection.start).line,
      firstLine: first,
      lastLine: Math.max(first, last),
    });
  }
  const steps = new Map(order.map((s) => [s.id, s]));
  return {
    steps,
    order,
    deps: model.graph.deps,
    stepAtLine(line) {
      // Entries are in file order and do not overlap: a binary search on the first line.
      let lo = 0;
      let hi = order.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const s = order[mid]!;
        if (line < s.firstLine) hi = mid - 1;
        else if (line > s.lastLine) lo = mid + 1;
        else return s;
      }
      return undefined;
    },
  };
}
