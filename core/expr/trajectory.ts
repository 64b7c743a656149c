// `$trajectory(agent, expected, mode)`: whether the tools an agent step called match a list of
// tool names (docs/format.md, "Trajectory assertions"; the choices are in docs/dev/agents.md).
// The trajectory is the names of the tool calls in the order they were made, over all turns;
// every call counts, a failed one, one refused for its arguments, one to an unknown tool too.

export const TRAJECTORY_MODES = ["strict", "unordered", "subset", "superset"] as const;
export type TrajectoryMode = (typeof TRAJECTORY_MODES)[number];

/** How the function is called, shown in its errors. */
export const TRAJECTORY_USAGE = '`$trajectory(steps.<id>, ["search", "fetch_page"], "subset")`';

/** What the modes mean, in one line each (completion and errors). */
export const TRAJECTORY_MODE_DOCS: Readonly<Record<TrajectoryMode, string>> = {
  strict: "the same tools in the same order, each call listed",
  unordered: "the same tools as many times each, in any order",
  subset: "no tool outside the list was called (each as often as it liked)",
  superset: "every listed tool was called at least once (others may be too)",
};

/** The modes as a user reads them: `"strict", "unordered", "subset" or "superset"`. */
export const TRAJECTORY_MODE_LIST = TRAJECTORY_MODES.map((m) => `"${m}"`)
  .join(", ")
  .replace(/, ([^,]*)$/, " or $1");

export function isTrajectoryMode(value: unknown): value is TrajectoryMode {
  return typeof value === "string" && (TRAJECTORY_MODES as readonly string[]).includes(value);
}

/** A call of `$trajectory` with arguments it cannot use: the expression fails with this. */
export class TrajectoryError extends Error {
  override readonly name = "TrajectoryError";
}

/**
 * The function expressions call as `$trajectory`: true when the tools `agent` called match
 * `expected` by `mode` (default `strict`). Throws a TrajectoryError naming the fix for
 * arguments it cannot read.
 */
export function trajectory(...args: unknown[]): boolean {
  if (args.length < 2 || args.length > 3) {
    throw new TrajectoryError(
      `$trajectory takes 2 or 3 arguments (the agent step, the expected tool names, the mode), not ${args.length}: write ${TRAJECTORY_USAGE}`,
    );
  }
  const [agent, expected] = args;
  // A third argument that is nothing (a missing input) is an error, not the default.
  const mode = args.length === 3 ? args[2] : "strict";
  if (!isTrajectoryMode(mode)) {
    throw new TrajectoryError(
      `$trajectory's mode must be ${TRAJECTORY_MODE_LIST}, not ${describe(mode)}: write ${TRAJECTORY_USAGE}`,
    );
  }
  return matchTrajectory(calledTools(agent), expectedNames(expected), mode);
}

/** Whether `called` (in call order) matches `expected` by `mode`. */
export function matchTrajectory(
  called: readonly string[],
  expected: readonly string[],
  mode: TrajectoryMode,
): boolean {
  switch (mode) {
    case "strict":
      return called.length === expected.length && called.every((n, i) => n === expected[i]);
    case "unordered": {
      if (called.length !== expected.length) return false;
      const counts = new Map<string, number>();
      for (const n of called) counts.set(n, (counts.get(n) ?? 0) + 1);
      for (const n of expected) {
        const left = counts.get(n) ?? 0;
        if (left === 0) return false;
        counts.set(n, left - 1);
      }
      return true;
    }
    case "subset": {
      const allowed = new Set(expected);
      return called.every((n) => allowed.has(n));
    }
    case "superset": {
      const made = new Set(called);
      return expected.every((n) => made.has(n));
    }
  }
}

/**
 * The names of the tools called, in order over all turns, from an agent step as expressions see
 * it (`{ output, status, turns, stop_reason }`), its `turns` list, or one turn.
 */
export function calledTools(agent: unknown): string[] {
  if (agent === undefined) {
    throw new TrajectoryError(
      `$trajectory's first argument is nothing: pass an agent step (\`steps.<id>\`, which the step must depend on) or its \`turns\`, as in ${TRAJECTORY_USAGE}`,
    );
  }
  if (Array.isArray(agent)) return namesOfTurns(agent);
  if (isRecord(agent)) {
    if ("turns" in agent) {
      if (!Array.isArray(agent.turns)) {
        throw new TrajectoryError(
          `$trajectory's first argument has \`turns\` that is ${describe(agent.turns)}, not a list of turns: pass an agent step (\`steps.<id>\`) or its \`turns\``,
        );
      }
      return namesOfTurns(agent.turns);
    }
    // One turn: jsonata gives a filter's single match as the item itself.
    if (isTurn(agent)) return namesOfTurns([agent]);
    if (typeof agent.status === "string") {
      throw new TrajectoryError(
        `$trajectory's first argument is a step without \`turns\` (its status is '${agent.status}'): only an agent step (\`type: agent\`) has turns; pass one, as in ${TRAJECTORY_USAGE}`,
      );
    }
  }
  throw new TrajectoryError(
    `$trajectory's first argument is ${describe(agent)}: pass an agent step (\`steps.<id>\`) or its \`turns\` (a list of { turn, tool_calls }), as in ${TRAJECTORY_USAGE}`,
  );
}

function namesOfTurns(turns: readonly unknown[]): string[] {
  const names: string[] = [];
  turns.forEach((turn, t) => {
    if (!isRecord(turn) || !isTurn(turn)) {
      throw new TrajectoryError(
        `$trajectory's first argument is a list whose item ${t} is ${describe(turn)}, not a turn ({ turn, tool_calls }): pass an agent step (\`steps.<id>\`) or its \`turns\``,
      );
    }
    const which = typeof turn.turn === "number" ? `turn ${turn.turn}` : `the turn at ${t}`;
    const calls = turn.tool_calls ?? [];
    if (!Array.isArray(calls)) {
      throw new TrajectoryError(
        `$trajectory: ${which} has \`tool_calls\` that is ${describe(calls)}, not a list of tool calls`,
      );
    }
    calls.forEach((call, i) => {
      const name = isRecord(call) ? call.name : undefined;
      if (typeof name !== "string") {
        throw new TrajectoryError(
          `$trajectory: tool call ${i} of ${which} has no name (it is ${describe(call)}); a tool call is { name, args, status, output }`,
        );
      }
      names.push(name);
    });
  });
  return names;
}

/** A turn: `{ turn, tool_calls, usage }`; the turn that answers may have no tool calls. */
function isTurn(v: unknown): boolean {
  return isRecord(v) && ("tool_calls" in v || typeof v.turn === "number");
}

/** The expected names: a list of texts (one text alone is read as a list of one). */
function expectedNames(expected: unknown): string[] {
  if (typeof expected === "string") return [expected];
  if (Array.isArray(expected) && expected.every((n) => typeof n === "string")) return expected;
  const bad = Array.isArray(expected)
    ? `a list holding ${describe(expected.find((n) => typeof n !== "string"))}`
    : describe(expected);
  throw new TrajectoryError(
    `$trajectory's second argument must be the expected tool names, a list of texts such as ["search", "fetch_page"], not ${bad}: write ${TRAJECTORY_USAGE}`,
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** A value as an error names it: `nothing`, `the number 3`, `an object with output, status`. */
function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === "number" || typeof v === "boolean") return `the ${typeof v} ${String(v)}`;
  if (typeof v === "function") return "a function";
  if (Array.isArray(v)) return `a list of ${v.length} item${v.length === 1 ? "" : "s"}`;
  const keys = Object.keys(v);
  return keys.length === 0
    ? "an empty object"
    : `an object with ${keys.slice(0, 5).join(", ")}${keys.length > 5 ? ", …" : ""}`;
}
