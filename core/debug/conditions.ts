// Breakpoint conditions and hit counts (docs/debugger.md, "Breakpoints"). A condition is JSONata
// over the event where its breakpoint would stop (`key`, `index`, `iteration`, `step`, `unit`,
// `event`, and in an agent `turn`, `tool`, `call`, `args`); a hit count counts, in log order, the
// places its step's breakpoints can stop where the condition held, once over the whole log, so
// every move sees the same counts.
import type { DebugProtocol } from "@vscode/debugprotocol";
import type { EventRecord } from "../record/records";
import { evaluate as evaluateExpression } from "../expr/evaluate";
import { parseExpression } from "../expr/parse";
import { argumentsOf, sentCall, type Agents } from "./agents";
import type { Moves } from "./moves";
import type { Threads, UnitFacts } from "./threads";
import { eventView } from "./views";

/** How long the Debug Console's evaluate (and a breakpoint's condition) may run an expression. */
export const EVALUATE_TIMEOUT_MS = 5_000;

/** The log a condition is evaluated over: one run's events, its units and its breakpoints' places. */
export interface ConditionSite {
  readonly events: readonly EventRecord[];
  readonly threads: Threads;
  readonly moves: Moves;
  readonly agents: Agents;
}

/** A breakpoint's condition and hit condition. */
interface Condition {
  readonly condition?: string;
  readonly hitCondition?: string;
  /** Per log: whether the condition held at an event index, once evaluated. */
  readonly held: WeakMap<ConditionSite, Map<number, boolean>>;
  /**
   * Per log and step, with a hit count: the count at each place its step's breakpoints can stop
   * (a breakpoint on a tool several agents have counts within each agent).
   */
  readonly hits: WeakMap<ConditionSite, Map<string, Map<number, number>>>;
  /** A breakpoint on an agent's tool: its hit count counts that tool's calls only. */
  readonly tool?: string;
}

type Conditional = Pick<DebugProtocol.SourceBreakpoint, "condition" | "hitCondition">;

export class Conditions {
  /** Conditions by breakpoint id (breakpoints without one are not here). */
  private readonly byId = new Map<number, Condition>();
  private readonly noted = new Set<string>();

  constructor(
    private readonly print: (text: string) => void,
    /** A value by its reference in the store (a tool call's `args` come from its turn's reply). */
    private readonly load: (ref: string) => Promise<unknown>,
  ) {}

  /**
   * Keeps a breakpoint's condition and hit count (checked with conditionError before); `tool` for
   * a function breakpoint on an agent's tool.
   */
  note(id: number, b: Conditional, tool?: string): void {
    const condition = b.condition?.trim() || undefined;
    const hitCondition = b.hitCondition?.trim() || undefined;
    if (condition || hitCondition)
      this.byId.set(id, {
        condition,
        hitCondition,
        held: new WeakMap(),
        hits: new WeakMap(),
        ...(tool === undefined ? {} : { tool }),
      });
  }

  /**
   * Which of the breakpoints `ids` (on the step of event i, which begins its step or one of its
   * items or iterations there) hold at event i: their condition is true there, and their hit
   * condition holds for the number of such events up to i where the condition was true.
   */
  async holding(site: ConditionSite, i: number, ids: readonly number[]): Promise<number[]> {
    const out: number[] = [];
    for (const id of ids) {
      const c = this.byId.get(id);
      if (!c) out.push(id);
      else if ((await this.held(site, c, i)) && (await this.hitHolds(site, c, i))) out.push(id);
    }
    return out;
  }

  private async held(site: ConditionSite, c: Condition, i: number): Promise<boolean> {
    if (!c.condition) return true;
    let known = c.held.get(site);
    if (!known) c.held.set(site, (known = new Map()));
    const was = known.get(i);
    if (was !== undefined) return was;
    const e = site.events[i]!;
    const facts: Partial<UnitFacts> =
      e.stepId === null ? {} : site.threads.facts(e.scope === null ? e.stepId : e.stepId + e.scope);
    let value: unknown;
    try {
      value = await evaluateExpression(c.condition, {
        context: {
          step: e.stepId,
          unit: facts.unit ?? null,
          key: facts.key,
          index: facts.index,
          iteration: facts.iteration,
          turn: facts.turn,
          tool: facts.tool,
          call: facts.call,
          // A tool call's arguments are read from its turn's reply only when the condition names them.
          args: c.condition.includes("args") ? await this.argsAt(site, e) : undefined,
          event: eventView(e),
        },
        timeoutMs: EVALUATE_TIMEOUT_MS,
      });
    } catch (err) {
      this.noteOnce(
        `Breakpoint condition \`${c.condition}\` cannot be evaluated (${(err as Error).message}): the breakpoint does not stop there; fix the condition in the Breakpoints view.\n`,
      );
      value = false;
    }
    const holds = value !== undefined && value !== null && value !== false;
    known.set(i, holds);
    return holds;
  }

  /** The arguments the model sent for the tool call of event e; undefined for any other event. */
  private async argsAt(site: ConditionSite, e: EventRecord): Promise<unknown> {
    const call = site.agents.placeOf(e.stepId, e.scope);
    if (!call?.call) return undefined;
    const ref = site.agents.replyRef(call.turnKey);
    const reply = ref === null ? undefined : await this.load(ref);
    return argumentsOf(sentCall(reply, call.call.index));
  }

  private noteOnce(text: string): void {
    if (this.noted.has(text)) return;
    this.noted.add(text);
    this.print(text);
  }

  /** A hit condition over the count of events up to i where the breakpoint's condition held. */
  private async hitHolds(site: ConditionSite, c: Condition, i: number): Promise<boolean> {
    if (!c.hitCondition) return true;
    let bySteps = c.hits.get(site);
    if (!bySteps) c.hits.set(site, (bySteps = new Map()));
    const stepId = site.events[i]!.stepId!;
    let hits = bySteps.get(stepId);
    if (!hits) {
      // Counted over the whole log once, so that every move sees the same counts.
      hits = new Map<number, number>();
      let n = 0;
      for (const j of site.moves.beginnings(stepId, c.tool)) {
        if (await this.held(site, c, j)) n++;
        hits.set(j, n);
      }
      bySteps.set(stepId, hits);
    }
    // A hit count that is not one was refused when set (conditionError).
    return hitConditionHolds(c.hitCondition, hits.get(i) ?? 0) === true;
  }
}

/** Why a breakpoint's condition or hit count cannot be used; undefined when both can. */
export function conditionError(b: Conditional): string | undefined {
  const condition = b.condition?.trim();
  const error = condition ? parseExpression(condition).error : undefined;
  if (error) return `the condition \`${condition}\` is not JSONata: ${error.message}`;
  const hits = b.hitCondition?.trim();
  if (hits && hitConditionHolds(hits, 0) === undefined)
    return `the hit count \`${hits}\` is not a count: write 3, >= 3, > 3, < 3, <= 3 or % 3`;
  return undefined;
}

/**
 * A hit condition as VS Code's breakpoint widget takes it: `3` (the third hit only), `= 3`,
 * `== 3`, `>= 3`, `> 3`, `< 3`, `<= 3`, `% 3` (every third). Undefined when it is none of those.
 */
export function hitConditionHolds(text: string, hits: number): boolean | undefined {
  const m = /^(>=|<=|==|=|>|<|%)?\s*(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[2]);
  switch (m[1]) {
    case ">":
      return hits > n;
    case "<":
      return hits < n;
    case "<=":
      return hits <= n;
    case "=":
    case "==":
      return hits === n;
    case "%":
      return n > 0 && hits % n === 0;
    case ">=":
      return hits >= n;
    default:
      return hits === n;
  }
}
