// Diff mode's parts: the bar over the graph (the runs, how many steps differ, a legend, the way
// out) and the inspector's account of one step in both runs.
import type { DiffMessage } from "@keel/core/protocol/webview";
import { duration } from "../graph/to-flow";
import { delta, differences, type StepDiff } from "./marks";

const short = (id: string) => id.slice(-8);

export function DiffBar(props: {
  readonly diff: DiffMessage;
  readonly focus: (step: string) => void;
  readonly leave: () => void;
}) {
  const { diff } = props;
  const changed = diff.steps.filter((s) => s.differs).length;
  return (
    <div className="keel-diffbar" role="toolbar" aria-label="Diff of two runs">
      <span className="keel-diff-runs">
        run {short(diff.a)} ↔ run {short(diff.b)}
      </span>
      <span className="keel-diff-summary" aria-live="polite">
        {changed === 0
          ? "no step differs"
          : `${changed} step${changed === 1 ? "" : "s"} differ${changed === 1 ? "s" : ""}`}
      </span>
      {diff.firstDivergence !== null ? (
        <button type="button" onClick={() => props.focus(diff.firstDivergence!)}>
          first divergence: {diff.firstDivergence}
        </button>
      ) : null}
      <span className="keel-legend" aria-label="Legend">
        <span className="keel-swatch diff-changed">≠ changed</span>
        <span className="keel-swatch diff-same">= same</span>
        <span className="keel-swatch diff-added">+ only in {short(diff.b)}</span>
        <span className="keel-swatch diff-removed">− only in {short(diff.a)}</span>
      </span>
      <button type="button" onClick={props.leave} title="Leave diff mode (Escape)">
        Leave diff
      </button>
    </div>
  );
}

function money(c: number): string {
  return `${c < 0 ? "−" : "+"}$${Math.abs(c).toFixed(6)}`;
}

/** One step in both runs, for the inspector in diff mode. */
export function DiffStep(props: {
  readonly row: StepDiff | undefined;
  readonly id: string;
  readonly runs: readonly [string, string];
}) {
  const { row, id, runs } = props;
  if (!row) return <p className="keel-hint">{id} ran in neither run.</p>;
  const latency = delta(row.latencyMs);
  const cost = delta(row.costUsd);
  const lines = differences(row);
  return (
    <div className="keel-diffstep">
      <p>{row.differs ? "Differs between the runs:" : "The same in both runs."}</p>
      {lines.length > 0 ? (
        <ul>
          {lines.map((l) => (
            <li key={l}>{l}</li>
          ))}
        </ul>
      ) : null}
      <table>
        <thead>
          <tr>
            <th />
            <th scope="col">run {short(runs[0])}</th>
            <th scope="col">run {short(runs[1])}</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">status</th>
            <td>{row.status[0]}</td>
            <td>{row.status[1]}</td>
          </tr>
          <tr>
            <th scope="row">latency</th>
            <td>{row.latencyMs[0] === null ? "—" : duration(row.latencyMs[0])}</td>
            <td>
              {row.latencyMs[1] === null ? "—" : duration(row.latencyMs[1])}
              {latency !== null
                ? ` (${latency >= 0 ? "+" : "−"}${duration(Math.abs(latency))})`
                : ""}
            </td>
          </tr>
          <tr>
            <th scope="row">cost</th>
            <td>{row.costUsd[0] === null ? "—" : `$${row.costUsd[0].toFixed(6)}`}</td>
            <td>
              {row.costUsd[1] === null ? "—" : `$${row.costUsd[1].toFixed(6)}`}
              {cost !== null && cost !== 0 ? ` (${money(cost)})` : ""}
            </td>
          </tr>
          <tr>
            <th scope="row">model</th>
            <td>{row.model[0] ?? "—"}</td>
            <td>{row.model[1] ?? "—"}</td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}
