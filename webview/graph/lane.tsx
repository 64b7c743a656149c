// A loop's iterations on its node: a lane of cells, #1 ✓ #2 ✗ #3 …, each coloured by its status
// like the map's strip, each a button that opens that iteration in the inspector (its input,
// output, error, attempts and child run). Only the last few fit on the node (the newest matter
// most while stepping through): a first "…" cell stands for the others and selects the step,
// whose inspector lists them all.
import { createContext, memo, useContext, type MouseEvent } from "react";
import { unitKey } from "@keel/core/record/records";
import type { StepView } from "./step-views";

type Status = NonNullable<StepView["iterations"]>[number];

/** The unit chosen in the inspector and a way to choose one from a node (app.tsx provides it). */
export interface UnitChoice {
  /** The chosen unit's key (`refine#2`), if any. */
  readonly chosen: string | null;
  /** Selects the step and opens its unit in the inspector; no unit: the step alone. */
  readonly open: (stepId: string, unit: string | null) => void;
}

export const UnitChoiceContext = createContext<UnitChoice>({ chosen: null, open: () => {} });

/**
 * The lane's width on a node and its cells' widths (panel.css `.keel-cell`, 10 px text: "#", the
 * number's digits, the mark), in CSS pixels, measured in Chromium (a ✓ or ✗ is the widest mark).
 */
const LANE_WIDTH = 134;
const GAP = 2;
const MORE_WIDTH = 16;
const cellWidth = (n: number) => 23 + 7 * String(n).length;

/** How many of the last iterations fit on the node, after a "…" cell when not all do. */
export function cellsThatFit(count: number): number {
  let width = -GAP;
  for (let k = 0; k < count; k++) {
    const more = k + 1 < count ? MORE_WIDTH + GAP : 0;
    const next = width + GAP + cellWidth(count - k);
    if (next + more > LANE_WIDTH) return k;
    width = next;
  }
  return count;
}

export const STATUS_MARK: Record<Status, string> = {
  succeeded: "✓",
  failed: "✗",
  running: "▸",
  pending: "·",
  skipped: "↷",
  cancelled: "⊘",
};

export const Lane = memo(function Lane(props: { stepId: string; iterations: readonly Status[] }) {
  const { stepId, iterations } = props;
  const { chosen, open } = useContext(UnitChoiceContext);
  const hidden = iterations.length - cellsThatFit(iterations.length);
  const shown = hidden > 0 ? iterations.slice(hidden) : iterations;
  // The click is the cell's: the node's own click would select the step a second time.
  const click = (unit: string | null) => (e: MouseEvent) => {
    e.stopPropagation();
    open(stepId, unit);
  };
  return (
    <span className="keel-lane nodrag nopan" role="group" aria-label={`Iterations of ${stepId}`}>
      {hidden > 0 ? (
        <button
          type="button"
          tabIndex={-1}
          className="keel-cell keel-cell-more"
          title={`#1–#${hidden}: the step's inspector lists every iteration`}
          aria-label={`iterations 1 to ${hidden} of ${stepId}: list them in the inspector`}
          onClick={click(null)}
        >
          …
        </button>
      ) : null}
      {shown.map((status, i) => {
        const n = hidden + i + 1;
        const key = unitKey(stepId, `#${n}`);
        return (
          <button
            key={n}
            type="button"
            tabIndex={-1}
            className={`keel-cell seg-${status}${chosen === key ? " chosen" : ""}`}
            data-unit={key}
            data-status={status}
            title={`${key}: ${status}`}
            aria-label={`iteration ${n} of ${stepId}: ${status}`}
            aria-pressed={chosen === key}
            onClick={click(key)}
          >
            #{n}
            <span className="keel-cell-mark">{STATUS_MARK[status]}</span>
          </button>
        );
      })}
    </span>
  );
});
