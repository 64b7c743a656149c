// The record as the runner's effects during a replay: a unit's n-th attempt (a step's, an item's,
// an iteration's: docs/dev/scopes.md) is answered with the recorded n-th attempt of that unit. What has no record is noted and fails the attempt, so
// nothing is ever executed in its place.
import { StepError, type ErrorKind } from "../runner/errors";
import type { ReplayAnswers } from "../runner/types";
import type { StepOutput } from "../runner/steps";
import { unitKey, type AttemptRecord } from "../record/records";
import type { RecordedRun } from "./record";

export class RecordedAnswers implements ReplayAnswers {
  private readonly byStep = new Map<string, AttemptRecord[]>();
  /** Steps that asked for an attempt the record does not have. */
  readonly missing = new Map<string, number>();

  constructor(
    private readonly record: RecordedRun,
    /** Replays the child runs of workflow steps (replay.ts). */
    readonly children?: ReplayAnswers["children"],
  ) {
    for (const a of record.attempts) {
      if (a.origin === "reused") continue;
      const unit = unitKey(a.stepId, a.scope);
      const list = this.byStep.get(unit);
      if (list) list.push(a);
      else this.byStep.set(unit, [a]);
    }
    for (const list of this.byStep.values()) list.sort((x, y) => x.attempt - y.attempt);
  }

  /** The recorded attempts of a step, in order (a resumed run may skip numbers). */
  attemptsOf(stepId: string): readonly AttemptRecord[] {
    return this.byStep.get(stepId) ?? [];
  }

  async answer(stepId: string, attempt: number): Promise<StepOutput> {
    const a = this.attemptsOf(stepId)[attempt - 1];
    if (!a) {
      if (!this.missing.has(stepId)) this.missing.set(stepId, attempt);
      throw new StepError(
        "config",
        `replay: the record has no attempt ${attempt} of step '${stepId}', so it is not run`,
      );
    }
    if (a.status === "failed")
      throw new StepError((a.errorKind ?? "tool_error") as ErrorKind, a.errorMessage ?? "");
    return this.outputOf(a);
  }

  success(stepId: string, attempt: number): StepOutput | undefined {
    const a = this.attemptsOf(stepId)[attempt - 1];
    return a?.status === "succeeded" ? this.outputOf(a) : undefined;
  }

  /** A recorded success as the runner's step output. */
  private outputOf(a: AttemptRecord): StepOutput {
    const value = a.outputHash === null ? null : this.record.value(a.outputHash);
    const meta = a.meta;
    // A model call's metadata goes back into the replayed record as it was.
    const reply =
      meta && "model" in meta
        ? {
            text: "",
            servedModel: (meta.model as string | null) ?? null,
            responseId: (meta.responseId as string | null) ?? null,
            fingerprint: (meta.fingerprint as string | null) ?? null,
            usage: (meta.usage as { input: number; output: number } | null) ?? null,
          }
        : undefined;
    return reply ? { value, reply } : { value };
  }
}
