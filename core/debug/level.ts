// One recorded run as the replay debugger steps through it: its record, the step-through fold at
// its position, the moves over its log, its items' threads and its workflow file. A session
// has the run it was started on; a child run entered by Step Into is a level of its own above it.
import { RunFold } from "../record/fold";
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
  const moves = new Moves(fold, path);
  const threads = new Threads(fold);
  const level: Level = { rec, fold, moves, threads, file, path, events: rec.events };
  moves.setConditions((i, ids) => conditions.holding(level, i, ids));
  return level;
}
