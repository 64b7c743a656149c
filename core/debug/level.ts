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
}

/** A run's level, its breakpoints' conditions read by `conditions`. */
export function levelOf(rec: DebugRecording, file: WorkflowFile, conditions: Conditions): Level {
  const fold = new RunFold(rec.events, rec.attempts);
  const moves = new Moves(fold);
  const level: Level = { rec, fold, moves, threads: new Threads(fold), file, events: rec.events };
  moves.setConditions((i, ids) => conditions.holding(level, i, ids));
  return level;
}
