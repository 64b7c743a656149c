// One recorded run as the replay debugger steps through it: its record, the step-through fold at
// its position, the moves over its log, its items' threads and its workflow file. A session
// has the run it was started on; a child run entered by Step Into is a level of its own above it.
import { RunFold } from "../record/fold";
import { Agents } from "./agents";
import type { Conditions, ConditionSite } from "./conditions";
import { Moves } from "./moves";
import type { WorkflowFile } from "./places";
import type { DebugRecording } from "./recording";
import { Threads } from "./threads";

export interface Level extends ConditionSite {
  readonly rec: DebugRecording;
  readonly fold: RunFold;
  readonly moves: Moves;
  readonly threads: Threads;
  readonly file: WorkflowFile;
  /**
   * Where a child run is in its parent, put before its frames' names and stops' descriptions:
   * `per_doc[b] › ` (the unit that started it), `outer › inner › ` two deep; "" for the root run.
   */
  readonly path: string;
}

/** A run's level, its breakpoints' conditions read by `conditions`. */
export function levelOf(
  rec: DebugRecording,
  file: WorkflowFile,
  conditions: Conditions,
  path = "",
): Level {
  const fold = new RunFold(rec.events, rec.attempts);
  // Which steps are agents is read from the recorded text, parsed only when a scope asks.
  const agents = new Agents(fold, (id) => file.recorded().agents.has(id));
  const moves = new Moves(fold, path, agents);
  const threads = new Threads(fold, agents);
  const level: Level = { rec, fold, moves, threads, agents, file, path, events: rec.events };
  moves.setConditions((i, ids) => conditions.holding(level, i, ids));
  return level;
}
