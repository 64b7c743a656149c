// Agent steps in the replay debugger (docs/debugger.md, "Agents"; decisions in docs/dev/agents.md,
// "Debugger"). An agent's turn is the unit `research#3` and a tool call `research#3/search.1`
// (`research[k]#3/…` for an item of a map of agents): this module says which events are an agent's,
// names them for the Call Stack (`research · turn 3 · call search.1`), and keeps each agent's
// events (its own, its turns' and its calls') in log order for the moves. A scope with `/` is
// always a tool call; a `#n` scope alone is a turn only when its step is an agent in the workflow's
// recorded text (else it is a loop's iteration). Reads only the log and, for `args`, the turn's
// reply from the store.
import { nextIn, previousIn, type RunFold } from "../record/fold";
import { STEP_ENDING_EVENTS, splitUnit, unitKey, type EventRecord } from "../record/records";

/** Where an event of an agent's turn or tool call is. */
export interface AgentPlace {
  readonly stepId: string;
  /** The agent's unit: the step itself (`research`) or an item of a map (`research[k]`). */
  readonly agent: string;
  /** The turn, from 1. */
  readonly turn: number;
  /** The turn's unit key, `research#3`. */
  readonly turnKey: string;
  /** For a tool call's event: the call. */
  readonly call?: ToolCallPlace;
}

export interface ToolCallPlace {
  /** The tool as the call's scope names it (a name the model made up is made safe there). */
  readonly tool: string;
  /** The call's place among all the calls of its turn, from 0. */
  readonly index: number;
  /** `search.1`. */
  readonly name: string;
  /** The call's unit key, `research#3/search.1`. */
  readonly key: string;
}

/** `#3` or `#3/search.1`, after an item's `[k]` or nothing. */
const AGENT_SCOPE = /^(.*?)#(\d+)(?:\/([A-Za-z0-9_-]+)\.(\d+))?$/;

/** A turn's or tool call's place by its scope's syntax alone (the step may be a loop). */
function placeOfScope(stepId: string, scope: string): AgentPlace | undefined {
  const m = AGENT_SCOPE.exec(scope);
  if (!m) return undefined;
  const item = m[1]!;
  if (item !== "" && !(item.startsWith("[") && item.endsWith("]"))) return undefined;
  const agent = stepId + item;
  const turn = Number(m[2]);
  const turnKey = `${agent}#${turn}`;
  if (m[3] === undefined) return { stepId, agent, turn, turnKey };
  const index = Number(m[4]);
  const name = `${m[3]}.${index}`;
  return {
    stepId,
    agent,
    turn,
    turnKey,
    call: { tool: m[3], index, name, key: `${turnKey}/${name}` },
  };
}

/** `research · turn 3 · call search.1` (`research[k] · turn 3` for an item's agent). */
export function placeLabel(p: AgentPlace): string {
  return `${p.agent} · turn ${p.turn}${p.call ? ` · call ${p.call.name}` : ""}`;
}

/** A tool call as the model asked for it, in its turn's reply. */
interface SentCall {
  readonly name?: unknown;
  readonly arguments?: unknown;
}

/** The `index`th call a turn's reply (the assistant's message) asked for. */
export function sentCall(reply: unknown, index: number): SentCall | undefined {
  const calls = (reply as { tool_calls?: unknown } | null | undefined)?.tool_calls;
  const sent = Array.isArray(calls) ? (calls[index] as unknown) : undefined;
  return sent && typeof sent === "object" ? (sent as SentCall) : undefined;
}

/** The arguments of a call as the model sent them: their JSON value, else the raw text. */
export function argumentsOf(sent: SentCall | undefined): unknown {
  const raw = sent?.arguments;
  if (typeof raw !== "string") return raw ?? null;
  if (raw.trim() === "") return {};
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

export class Agents {
  /** Each agent unit's events and its turns' and calls' (log indices, in order). */
  private byAgent: Map<string, number[]> | undefined;
  /** Per agent step: the tools its calls' scopes name. */
  private called: Map<string, Set<string>> | undefined;

  private readonly events: readonly EventRecord[];

  constructor(
    private readonly fold: RunFold,
    /** Whether a step is an agent in the run's recorded workflow text. */
    readonly isAgent: (stepId: string) => boolean,
  ) {
    this.events = fold.events;
  }

  /** The turn or tool call an event's unit is; undefined for any other unit. */
  placeOf(stepId: string | null, scope: string | null): AgentPlace | undefined {
    if (stepId === null || scope === null || !scope.includes("#")) return undefined;
    const p = placeOfScope(stepId, scope);
    // A scope with `/` is a tool call's only; `#n` alone is a turn only on an agent.
    return p && (p.call || this.isAgent(stepId)) ? p : undefined;
  }

  /** The turn or tool call a unit key is. */
  placeOfUnit(key: string): AgentPlace | undefined {
    const { stepId, scope } = splitUnit(key);
    return this.placeOf(stepId, scope);
  }

  /** The agent unit of an event: the turn's or call's agent, or the agent step or item itself. */
  agentOf(e: EventRecord): string | undefined {
    if (e.stepId === null) return undefined;
    const p = this.placeOf(e.stepId, e.scope);
    if (p) return p.agent;
    if (e.scope !== null && !e.scope.startsWith("[")) return undefined;
    return this.isAgent(e.stepId) ? unitKey(e.stepId, e.scope) : undefined;
  }

  /** A unit's name in the Call Stack: `research · turn 3 · call search.1`, else its key. */
  label(key: string): string {
    const p = this.placeOfUnit(key);
    return p ? placeLabel(p) : key;
  }

  private index(): Map<string, number[]> {
    if (this.byAgent) return this.byAgent;
    const byAgent = new Map<string, number[]>();
    const called = new Map<string, Set<string>>();
    this.events.forEach((e, i) => {
      const agent = this.agentOf(e);
      if (agent === undefined) return;
      const list = byAgent.get(agent);
      if (list) list.push(i);
      else byAgent.set(agent, [i]);
      const tool = this.placeOf(e.stepId, e.scope)?.call?.tool;
      if (tool !== undefined) {
        const set = called.get(e.stepId!) ?? new Set<string>();
        set.add(tool);
        called.set(e.stepId!, set);
      }
    });
    this.called = called;
    return (this.byAgent = byAgent);
  }

  /** The tools an agent step's recorded calls name. */
  toolsCalled(stepId: string): ReadonlySet<string> {
    this.index();
    return this.called!.get(stepId) ?? new Set();
  }

  /** The agent's next event after index `from` (its own, a turn's or a call's); -1 when none. */
  next(agent: string, from: number): number {
    return nextIn(this.index().get(agent) ?? [], from);
  }

  /** The agent's last event before index `from`; -1 when none. */
  previous(agent: string, from: number): number {
    return previousIn(this.index().get(agent) ?? [], from);
  }

  /**
   * Step Into within an agent, from event k of it: on the agent's own event, its next (turn 1
   * after its start); on a turn's or call's, that unit's next, and once it has ended the agent's
   * next (the turn's first call, the next call, the next turn, the agent's end). Undefined when
   * event k is not an agent's; -1 when the agent has nothing after it.
   */
  into(k: number): number | undefined {
    const e = this.events[k];
    if (!e) return undefined;
    const agent = this.agentOf(e);
    if (agent === undefined) return undefined;
    const p = this.placeOf(e.stepId, e.scope);
    if (p) {
      const own = this.fold.nextEventOf(p.call?.key ?? p.turnKey, k);
      if (own >= 0) return own;
    }
    // A step-level agent's own event: the step's first unit event (turn 1), as for a map.
    return p || agent !== e.stepId ? this.next(agent, k) : undefined;
  }

  /**
   * Step Out within an agent, from event k: from a tool call, the agent's first event after its
   * turn's calls (the next turn's start, else the agent's end); from a turn, the agent's end.
   * Undefined when event k is no turn's or call's (the moves' own rules apply), -1 when the
   * recording holds no such event.
   */
  out(k: number): number | undefined {
    const e = this.events[k];
    const p = e && this.placeOf(e.stepId, e.scope);
    if (!p) return undefined;
    for (let i = this.next(p.agent, k); i >= 0; i = this.next(p.agent, i)) {
      const x = this.events[i]!;
      const q = this.placeOf(x.stepId, x.scope);
      if (p.call ? q?.turn !== p.turn : !q && STEP_ENDING_EVENTS.has(x.type)) return i;
    }
    return -1;
  }

  /**
   * The reference of a turn's reply (the assistant's message): the output its last succeeding
   * event in the whole log recorded, whatever the position (a turn ends before its calls begin);
   * null when it never succeeded.
   */
  replyRef(turnKey: string): string | null {
    for (let i = this.fold.previousEventOf(turnKey, this.events.length); i >= 0;) {
      const d = this.events[i]!.data;
      if (typeof d?.output === "string") return d.output;
      i = this.fold.previousEventOf(turnKey, i);
    }
    return null;
  }
}
