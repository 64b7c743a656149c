// A unit's attempts (docs/runner.md, "Retries and fallbacks"): each one resolved, made durable
// before its effect, executed within its limits, checked and recorded; after a failure the retry
// policy says whether a retry, a fallback provider or the unit's failure follows.
import type { Step } from "../model/schema";
import type { ExprScope } from "../expr/evaluate";
import { sleep } from "./async";
import { cacheKey, cachePolicy } from "./cache";
import { runChild } from "./child-run";
import type { AttemptScope } from "./effects";
import { AttemptOutput } from "./attempt-output";
import { withPartial } from "./stream";
import { asStepError, type StepError } from "./errors";
import { cancelledError } from "./limits";
import { snapshotOf } from "./outcomes";
import { checkOutput } from "./output-schema";
import { afterFailure, fallbackRetryPolicy, stepRetryPolicy, stepTimeout } from "./policy";
import type { RunCore } from "./run-core";
import {
  prepareStep,
  providerOf,
  replayRecomputes,
  type AgentTurn,
  type PreparedStep,
} from "./steps";
import { splitUnit } from "../record/records";

/** Attempts the unit until it succeeds or its retries and fallbacks are used up. */
export async function runAttempts(
  r: RunCore,
  unit: string,
  step: Step,
  scope: ExprScope,
  cancellable: boolean,
  /** An agent's model call: the conversation so far and the tools (agent.ts). */
  turn?: AgentTurn,
): Promise<void> {
  const wf = r.o.workflow;
  const own = step.type === "llm" || step.type === "embed" ? providerOf(step, wf) : undefined;
  let provider = own;
  let policy = stepRetryPolicy(step, wf, provider);
  let tries = 0;
  for (;;) {
    tries++;
    const failure = await attempt(
      r,
      unit,
      step,
      scope,
      cancellable,
      provider,
      provider !== own,
      turn,
    );
    if (!failure) return;
    const { err } = failure;
    const cancelled = cancellable && r.cancelled();
    const after = afterFailure(wf, provider, policy, tries, err, cancelled);
    r.outcomes.attemptFailed(unit, failure.attempt, err, after, failure.log);
    if (after.next === "retry") {
      if (!r.o.replay) await sleep(after.delayMs, cancellable ? r.internal.signal : undefined);
    } else if (after.next === "fallback") {
      provider = after.provider;
      policy = fallbackRetryPolicy(wf, provider);
      tries = 0;
    } else {
      r.outcomes.fail(unit, cancelled ? cancelledError() : err, failure.attempt);
      return;
    }
  }
}

/** One attempt: resolve, wait for durability before an effect, execute, check, record. */
async function attempt(
  r: RunCore,
  unit: string,
  step: Step,
  scope: ExprScope,
  cancellable: boolean,
  provider: string | undefined,
  isFallback: boolean,
  turn: AgentTurn | undefined,
): Promise<{ err: StepError; attempt: number; log?: string } | undefined> {
  const state = r.units.get(unit)!;
  const wf = r.o.workflow;
  const attempt = ++state.attempts;
  const startedAt = r.now();
  const timeout = stepTimeout(step, wf, provider);
  let prepared: PreparedStep;
  // A child run started by this attempt: a timeout or cancel ends the attempt at once, and the
  // child, cancelled by the same signal, is waited for, so its end is recorded before the failure.
  let child: Promise<unknown> | undefined;
  // The step's time limit bounds the evaluation of its templates too.
  const limit =
    timeout === undefined
      ? undefined
      : r.limits.limit(timeout, cancellable, "its templates were not evaluated");
  try {
    prepared = await prepareStep(
      step,
      limit ? { ...scope, signal: limit.signal } : scope,
      {
        workflow: wf,
        dir: r.dir,
        prompts: r.prompts,
        ...(turn ? { turn } : {}),
        children: {
          run: (call, signal) => {
            const started = runChild(r, unit, attempt, call, signal);
            child = started.catch(() => undefined);
            return started;
          },
        },
      },
      isFallback ? provider : undefined,
    );
  } catch (e) {
    return { err: asStepError(e, "expression"), attempt };
  } finally {
    limit?.release();
  }
  const replay = r.o.replay;
  // Replay: the effect is answered from the record, never executed (pure steps recompute).
  if (replay && !replayRecomputes(step))
    prepared = { ...prepared, effectful: false, execute: () => replay.answer(unit, attempt) };
  const inputHash = r.recorder.blob(prepared.input, prepared.chain);
  const cache = cachePolicy(step, wf);
  const key =
    cache.enabled && !replay
      ? cacheKey(step, inputHash, wf, prepared.provider, r.dir, r.context.secrets)
      : null;
  if (key && !r.o.noCache && (await r.outcomes.fromCache(unit, attempt, startedAt, inputHash, key)))
    return undefined;
  if (prepared.effectful) await r.recorder.durable();
  const at = attemptScope(r, unit, attempt);
  const unbound = prepared;
  const bound: PreparedStep = { ...unbound, execute: (e, s) => unbound.execute(e, s, at) };
  try {
    const output = await r.limits.execute(bound, timeout, provider, cancellable);
    verifyStore(r, unit, prepared);
    checkOutput(step.type, step.output?.schema, output.value);
    const snapshot = await snapshotOf(step, scope, output.value);
    r.outcomes.succeed(
      unit,
      attempt,
      startedAt,
      inputHash,
      output,
      prepared,
      snapshot,
      key,
      at.log(),
    );
    if (key) r.outcomes.cacheEntry(key, unit, output.value, cache.ttlMs);
    return undefined;
  } catch (e) {
    if (child) await child;
    // A store the effect destroyed stops the run here: nothing more can be recorded.
    verifyStore(r, unit, prepared);
    const err = withPartial(asStepError(e), at.received());
    const log = at.log();
    r.outcomes.failedAttempt(unit, attempt, startedAt, inputHash, err, prepared.provider, log);
    return { err, attempt, log };
  }
}

/** Throws when the effect `unit` just ran deleted, replaced or overwrote the store's file. */
function verifyStore(r: RunCore, unit: string, prepared: PreparedStep): void {
  if (prepared.effectful) r.o.store.verify?.(`step '${unit}'`);
}

/**
 * The attempt an effect works for: it keeps what a tool prints (attempt-output.ts) and records
 * the process groups a command starts (core/node/processes.ts).
 */
function attemptScope(
  r: RunCore,
  unit: string,
  attempt: number,
): AttemptScope & { log(): string | undefined; received(): string } {
  const { stepId, scope } = splitUnit(unit);
  const output = new AttemptOutput();
  let received = "";
  return {
    runId: r.runId,
    stepId,
    scope,
    attempt,
    output: (text) => output.add(text),
    processStarted: (p) => r.recorder.process({ runId: r.runId, stepId, attempt, ...p }),
    log: () => output.value(),
    chunk: (text) => {
      received += text;
    },
    received: () => received,
  };
}
