// A map step's items (or a loop's iterations) in the inspector, as they were at the step-through's
// position: key, status, attempts, latency and cost, one row each. Virtualised: only the rows in
// view (and a few either side) are in the DOM, so a map of 10,000 items makes a few dozen rows.
// Choosing a row shows that item's attempts, resolved input and output below the list.
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import type { RunFold, StepAt } from "@keel/core/record/fold";
import { unitCost } from "@keel/core/record/agent-lanes";
import { durationOf } from "../stepper/recording";

/** A row's height in pixels (panel.css `.keel-unit-row`): rows are placed by index. */
export const ROW_HEIGHT = 22;
/** The list shows at most this many rows at once, and scrolls. */
const VISIBLE = 10;
/** Rows drawn beyond the view on each side, so a quick scroll does not show a gap. */
const OVERSCAN = 4;

/** The item's key or the iteration's number as the list shows it: `doc-17`, `#2`. */
export const unitName = (u: StepAt) => (u.scope?.startsWith("[") ? u.scope.slice(1, -1) : u.scope);

/** Scrolls the list so that row `i` is in view. */
function keepInView(box: HTMLElement, i: number): void {
  if (i * ROW_HEIGHT < box.scrollTop) box.scrollTop = i * ROW_HEIGHT;
  else if ((i + 1) * ROW_HEIGHT > box.scrollTop + box.clientHeight)
    box.scrollTop = (i + 1) * ROW_HEIGHT - box.clientHeight;
}

export interface UnitListProps {
  readonly step: StepAt;
  /** The units' keys known at the position (RunFold.unitKeys); only the rows shown are read. */
  readonly keys: readonly string[];
  readonly fold: RunFold;
  /** The chosen unit's key, if any. */
  readonly chosen: string | null;
  readonly choose: (key: string) => void;
  /** An agent step's units: its turns, each followed by its tool calls. */
  readonly agent?: boolean;
}

export function UnitList(props: UnitListProps) {
  const { step, keys, fold, chosen, choose } = props;
  const [top, setTop] = useState(0);
  const iterations = keys.length > 0 && fold.unit(keys[0]!)?.scope?.startsWith("#") === true;
  const noun = props.agent ? "Turns and tool calls" : iterations ? "Iterations" : "Items";
  const height = Math.min(keys.length, VISIBLE) * ROW_HEIGHT;
  const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(keys.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
  // Rows by key, made once per list of keys (the fold keeps it while the known units stay).
  const rowOf = useMemo(() => new Map(keys.map((k, i) => [k, i])), [keys]);
  const index = chosen === null ? -1 : (rowOf.get(chosen) ?? -1);
  // A unit chosen elsewhere (a loop's cell on its node) is scrolled into view.
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (box.current && index >= 0) keepInView(box.current, index);
  }, [index]);
  // ↑ ↓ move the choice; the list scrolls to keep it in view.
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const to =
      e.key === "ArrowDown"
        ? index + 1
        : e.key === "ArrowUp"
          ? index - 1
          : e.key === "Home"
            ? 0
            : e.key === "End"
              ? keys.length - 1
              : null;
    if (to === null || keys.length === 0) return;
    e.preventDefault();
    e.stopPropagation();
    const i = Math.max(0, Math.min(keys.length - 1, to));
    choose(keys[i]!);
    keepInView(e.currentTarget, i);
  };
  const rows = [];
  for (let i = first; i < last; i++) {
    const u = fold.unit(keys[i]!)!;
    const ms = durationOf(u);
    const cost = unitCost(fold, u);
    rows.push(
      <div
        key={u.id}
        role="option"
        id={`keel-unit-${i}`}
        aria-selected={u.id === chosen}
        aria-posinset={i + 1}
        aria-setsize={keys.length}
        className={`keel-unit-row status-${u.status}${u.id === chosen ? " chosen" : ""}`}
        aria-label={[
          unitName(u),
          u.status,
          u.attempts > 0 ? `${u.attempts} attempt${u.attempts === 1 ? "" : "s"}` : "",
          ms !== undefined ? `${ms} ms` : "",
          cost !== undefined ? `$${cost.toFixed(4)}` : "",
        ]
          .filter(Boolean)
          .join(", ")}
        data-unit={u.id}
        style={{ top: i * ROW_HEIGHT }}
        onClick={() => choose(u.id)}
      >
        <span className="keel-unit-key" title={unitName(u) ?? ""}>
          {unitName(u)}
        </span>
        <span className="keel-unit-status">{u.status}</span>
        <span>{u.attempts > 0 ? u.attempts : ""}</span>
        <span>{ms !== undefined ? `${ms} ms` : ""}</span>
        <span>{cost !== undefined ? `$${cost.toFixed(4)}` : ""}</span>
      </div>,
    );
  }
  return (
    <section className="keel-units" aria-label={`${noun} of ${step.id}`}>
      <h3>
        {noun} ({keys.length}
        {step.items !== null && step.items > keys.length ? ` of ${step.items}` : ""})
      </h3>
      <div className="keel-unit-row keel-unit-head" aria-hidden="true">
        <span>{props.agent ? "turn / call" : iterations ? "iteration" : "key"}</span>
        <span>status</span>
        <span title="attempts">tries</span>
        <span>latency</span>
        <span>cost</span>
      </div>
      <div
        className="keel-unit-list"
        role="listbox"
        ref={box}
        tabIndex={0}
        aria-label={`${noun} of ${step.id}: ↑ ↓ to choose`}
        aria-activedescendant={index >= first && index < last ? `keel-unit-${index}` : undefined}
        style={{ height }}
        onScroll={(e) => setTop(e.currentTarget.scrollTop)}
        onKeyDown={onKey}
      >
        <div style={{ height: keys.length * ROW_HEIGHT, position: "relative" }}>{rows}</div>
      </div>
    </section>
  );
}
