// The timeline (Gantt) of a recorded run: a row per step, a bar per attempt coloured by its
// outcome, a mark where a step was skipped, and the step-through's position as a cursor. A click
// on a bar selects the step and moves the step-through to its first event (an item's or
// iteration's bar: that unit's first event). Rows are memoised: a
// step-through move redraws the cursor only (the rows are not even compared).
import { memo } from "react";
import type { Bar, Row, Timeline as TimelineData } from "./bars";

function ms(t: number): string {
  if (t < 1000) return `${Math.round(t)} ms`;
  return `${(t / 1000).toFixed(t < 10_000 ? 1 : 0)} s`;
}

const pct = (t: number, span: number) => `${((t / span) * 100).toFixed(3)}%`;

function barLabel(step: string, b: Bar): string {
  const how = b.origin === "live" ? b.status : `${b.status}, ${b.origin}`;
  return `${step}${b.scope ?? ""} attempt ${b.attempt}: ${how}, ${ms(b.end - b.start)}, from ${ms(b.start)}`;
}

interface RowProps {
  readonly row: Row;
  readonly span: number;
  readonly selected: boolean;
  readonly pick: (step: string, unit?: string) => void;
}

const TimelineRow = memo(function TimelineRow({ row, span, selected, pick }: RowProps) {
  return (
    <div className={`keel-trow${selected ? " selected" : ""}`} data-row={row.step}>
      <span className="keel-tlabel" title={row.step}>
        {row.step}
      </span>
      <span className="keel-track">
        {row.bars.map((b) => (
          <button
            key={`${b.scope ?? ""}:${b.attempt}`}
            type="button"
            tabIndex={-1}
            className={`keel-bar bar-${b.status} origin-${b.origin}`}
            style={{ left: pct(b.start, span), width: pct(b.end - b.start, span) }}
            title={barLabel(row.step, b)}
            aria-label={barLabel(row.step, b)}
            data-attempt={b.attempt}
            data-unit={b.scope === null ? undefined : row.step + b.scope}
            onClick={() => pick(row.step, b.scope === null ? undefined : row.step + b.scope)}
          />
        ))}
        {row.skippedAt !== null ? (
          <button
            type="button"
            tabIndex={-1}
            className="keel-bar bar-skipped"
            style={{ left: pct(row.skippedAt, span) }}
            title={`${row.step} skipped at ${ms(row.skippedAt)}`}
            aria-label={`${row.step} skipped at ${ms(row.skippedAt)}`}
            onClick={() => pick(row.step)}
          />
        ) : null}
      </span>
    </div>
  );
});

/** Every row; memoised apart from the cursor, so a move does not even compare the rows. */
const TimelineRows = memo(function TimelineRows(p: Omit<TimelineProps, "cursor">) {
  return p.data.rows.map((r) => (
    <TimelineRow
      key={r.step}
      row={r}
      span={p.data.span}
      selected={r.step === p.selected}
      pick={p.pick}
    />
  ));
});

const TICKS = [0, 0.25, 0.5, 0.75, 1];

export interface TimelineProps {
  readonly data: TimelineData;
  /** The step-through's position in ms from the run's start; null before the first event. */
  readonly cursor: number | null;
  readonly selected: string | null;
  /** A bar was clicked: its step, and its item or iteration's unit key if it was one's. */
  readonly pick: (step: string, unit?: string) => void;
}

export function Timeline({ data, cursor, selected, pick }: TimelineProps) {
  return (
    <section className="keel-timeline" aria-label="Timeline of attempts">
      <div className="keel-axis" aria-hidden="true">
        <span className="keel-tlabel" />
        <span className="keel-track">
          {TICKS.map((f) => (
            <span key={f} className="keel-tick" style={{ left: `${f * 100}%` }}>
              {ms(f * data.span)}
            </span>
          ))}
        </span>
      </div>
      <div className="keel-trows">
        <div className="keel-trowset">
          <TimelineRows data={data} selected={selected} pick={pick} />
        </div>
        {cursor !== null ? (
          <div
            className="keel-cursor"
            style={{
              left: `calc(var(--keel-tlabel) + (100% - var(--keel-tlabel) - var(--keel-tpad)) * ${cursor / data.span})`,
            }}
            aria-label={`Step-through position: ${ms(cursor)} into the run`}
            role="img"
          />
        ) : null}
      </div>
    </section>
  );
}
