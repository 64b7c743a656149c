// Where a replay departs from its record (docs/replay.md, "Replay"): step by step in topological
// order, each attempt's resolved input (by value reference, then by value), then the step's status,
// attempt count and output. The first difference found is the divergence; later ones are listed
// too.
import { isAbsolute, relative } from "node:path";
import type { Step } from "../model/schema";
import type { LoadedWorkflow } from "../runner/load";
import { itemScope, unitKey, type AttemptRecord, type EventRecord } from "../record/records";
import { DiagnosticSink } from "../model/diagnostic";
import { LineIndex } from "../model/line-index";
import { locate, parseYaml } from "../model/parse";
import { foldToEnd } from "../record/fold";
import { firstChangedLine, lineOf, parsePromptFile } from "../model/prompt-file";
import type { RecordedRun } from "./record";
import { modelCallStep, toolStep, type AgentStep } from "../runner/agent";

export interface Divergence {
  /** The step; null for the run's outputs. */
  readonly step: string | null;
  /** The item or iteration of the step (`[doc-17]`, `#2`); null for the step itself. */
  readonly scope: string | null;
  /** Which part: prompt, prompt file, system, model, params, request, arguments, tool source, command, cwd, env, expr, that, condition, status, attempts, output, step, outputs. */
  readonly field: string;
  /** Where inside the step's resolved input, e.g. `messages[0].content`; "" for the whole. */
  readonly path: string;
  readonly expected: unknown;
  readonly actual: unknown;
  readonly message: string;
  /** 1-based line of the replayed workflow's source that produced it; null when unknown. */
  readonly line: number | null;
  /** A divergence inside a child run: where in the child's file (`step`, `scope` and `line` are the parent's). */
  readonly within?: {
    readonly file: string;
    readonly step: string | null;
    readonly scope: string | null;
    readonly line: number | null;
  };
}

type Path = (string | number)[];

/** Input part → the step keys of the workflow file that produce it. */
const KEYS: Record<string, string[]> = {
  prompt: ["messages", "prompt", "prompt_file"],
  system: ["system", "system_file"],
  "prompt file": ["prompt_file", "system_file"],
  model: ["model"],
  params: ["params"],
  provider: ["provider"],
  output: ["output"],
  url: ["url", "query"],
  method: ["method"],
  headers: ["headers"],
  body: ["body"],
  command: ["command"],
  cwd: ["cwd"],
  env: ["env"],
  arguments: ["with"],
  uses: ["uses"],
  "tool source": ["uses"],
  expr: ["expr"],
  that: ["that"],
  condition: ["if"],
  outputs: ["outputs"],
  with: ["with"],
  items: ["for_each"],
};

/** Compares a replay's record with the recorded run; the divergences, first first. */
export function divergences(
  recorded: RecordedRun,
  replayed: RecordedRun,
  loaded: LoadedWorkflow,
  /** The first divergence inside each child run, by the unit that started it. */
  inner: ReadonlyMap<string, Divergence> = new Map(),
): Divergence[] {
  const out: Divergence[] = [];
  const lines = new SourceLines(loaded.source);
  const rec = foldToEnd(recorded.events, recorded.attempts);
  const rep = foldToEnd(replayed.events, replayed.attempts);
  const compare = new UnitComparison(recorded, replayed, loaded, lines, inner);
  for (const id of loaded.graph.order) {
    const step = loaded.workflow.steps[id] as Step;
    const r = rec.step(id);
    const p = rep.step(id);
    if (!r || r.status === "pending") {
      if (p && p.status !== "pending")
        out.push({
          step: id,
          scope: null,
          field: "step",
          path: "",
          expected: null,
          actual: p.status,
          message: `step '${id}' has no record (it is new): it was not run`,
          line: lines.line(id, "step", []),
        });
      continue;
    }
    // An item or an iteration that departs is where the step first does.
    const found = compare.scopes(id, step, null) ?? compare.unit(id, step, null, r, p);
    if (found) out.push(found);
  }
  for (const s of rec.steps()) {
    if (loaded.graph.deps.has(s.id) || s.status === "pending") continue;
    out.push({
      step: s.id,
      scope: null,
      field: "step",
      path: "",
      expected: s.status,
      actual: null,
      message: `step '${s.id}' is in the record but no longer in the workflow`,
      line: null,
    });
  }
  if (out.length === 0 && recorded.run.outputsHash !== replayed.run.outputsHash) {
    out.push({
      step: null,
      scope: null,
      field: "outputs",
      path: "",
      expected: recorded.run.outputsHash ? recorded.value(recorded.run.outputsHash) : null,
      actual: replayed.run.outputsHash ? replayed.value(replayed.run.outputsHash) : null,
      message: "the run's outputs differ from the record",
      line: lines.line(null, "outputs", []),
    });
  }
  return out;
}

/** How a unit (a step, an item, an iteration) ended: its status, output reference and error. */
interface UnitEnd {
  readonly status: string;
  readonly output: string | null;
  readonly error: { readonly kind: string; readonly message: string } | null;
}

/**
 * Compares units of one step in the record and in the replay: the attempts' resolved inputs,
 * then the status, the number of attempts and the output. Scopes are compared by key, item by
 * item in list order and iteration by number, never by the order they ended in (docs/dev/scopes.md).
 */
class UnitComparison {
  private readonly recAttempts: Map<string, AttemptRecord[]>;
  private readonly repAttempts: Map<string, AttemptRecord[]>;
  private readonly recEnds: Map<string, UnitEnd>;
  private readonly repEnds: Map<string, UnitEnd>;
  private readonly recKeys: Map<string, readonly string[]>;
  private readonly repKeys: Map<string, readonly string[]>;
  private readonly recordedDir: string;

  constructor(
    private readonly recorded: RecordedRun,
    private readonly replayed: RecordedRun,
    private readonly loaded: LoadedWorkflow,
    private readonly lines: SourceLines,
    private readonly inner: ReadonlyMap<string, Divergence>,
  ) {
    this.recAttempts = byUnit(recorded.attempts);
    this.repAttempts = byUnit(replayed.attempts);
    this.recEnds = scopedEnds(recorded.events);
    this.repEnds = scopedEnds(replayed.events);
    this.recKeys = expandedKeys(recorded.events);
    this.repKeys = expandedKeys(replayed.events);
    this.recordedDir =
      recorded.recordedDir ?? recorded.run.workflowPath.replace(/[\\/][^\\/]*$/, "");
  }

  /**
   * The first divergence inside the scopes of `id` under `scope` (null: the step itself): its
   * items when it maps, then each item's (or its own) iterations when it repeats.
   */
  scopes(id: string, step: Step, scope: string | null): Divergence | undefined {
    const base = (scope ?? "") as string;
    if (scope === null && step.for_each !== undefined) {
      const rk = this.recKeys.get(id);
      const pk = this.repKeys.get(id);
      if (rk && pk) {
        const had = new Set(rk);
        const has = new Set(pk);
        const added = pk.filter((k) => !had.has(k));
        const removed = rk.filter((k) => !has.has(k));
        if (added.length > 0 || removed.length > 0) {
          const named = (keys: string[]) =>
            keys.length === 0
              ? ""
              : ` (${keys.slice(0, 5).join(", ")}${keys.length > 5 ? ", …" : ""})`;
          const hint =
            step.key === undefined
              ? "; items are told apart by their index: a `key:` would follow them when the list moves"
              : "";
          return {
            step: id,
            scope: null,
            field: "items",
            path: "",
            expected: rk,
            actual: pk,
            message: `the items of step '${id}' differ from the record: ${added.length} added${named(added)}, ${removed.length} removed${named(removed)}${hint}`,
            line: this.lines.line(id, "items", []),
          };
        }
        for (let index = 0; index < pk.length; index++) {
          const item = itemScope(pk[index]!);
          const label = `${id}${item} (item ${index + 1} of ${pk.length})`;
          const found =
            this.scopes(id, step, item) ??
            this.unit(
              id,
              step,
              item,
              this.recEnds.get(unitKey(id, item)),
              this.repEnds.get(unitKey(id, item)),
              label,
            );
          if (found) return found;
        }
      }
    }
    if (step.type === "agent") return this.agent(id, step, base);
    if (step.type === "workflow" && step.repeat) {
      for (let n = 1; ; n++) {
        const it = `${base}#${n}`;
        const r = this.recEnds.get(unitKey(id, it));
        const p = this.repEnds.get(unitKey(id, it));
        if (!r && !p) break;
        const found = this.unit(id, step, it, r, p, `${id}${base}, iteration ${n}`);
        if (found) return found;
      }
    }
    return undefined;
  }

  /**
   * The first divergence of an agent's scopes: turn by turn, its model call (the tools it offers,
   * then the rest of its input), then its tool calls by index; then the number of turns.
   */
  private agent(id: string, step: AgentStep, base: string): Divergence | undefined {
    const count = (ends: Map<string, UnitEnd>) => {
      let n = 0;
      while (ends.has(unitKey(id, `${base}#${n + 1}`))) n++;
      return n;
    };
    const recorded = count(this.recEnds);
    const replayed = count(this.repEnds);
    const model = modelCallStep(step, this.loaded.workflow.defaults?.agent);
    // The step's line, read only for a divergence found (it parses the source).
    const at = (d: Omit<Divergence, "step" | "line">): Divergence => ({
      step: id,
      line: this.lines.line(id, "step", []),
      ...d,
    });
    for (let n = 1; n <= Math.min(recorded, replayed); n++) {
      const scope = `${base}#${n}`;
      const key = unitKey(id, scope);
      const label = `${id}${base}, turn ${n}`;
      const tools = this.offered(key);
      if (tools) {
        const [before, after] = tools;
        const gone = before.filter((t) => !after.includes(t));
        const added = after.filter((t) => !before.includes(t));
        const names = (list: string[]) => list.map((t) => `'${t}'`).join(", ");
        const why =
          gone.length > 0
            ? `${names(gone)} ${gone.length === 1 ? "is" : "are"} no longer offered`
            : added.length > 0
              ? `${names(added)} ${added.length === 1 ? "is" : "are"} offered now`
              : `the description or parameters of ${names(tools[2])} changed`;
        return at({
          scope,
          field: "tools",
          path: "tools",
          expected: before,
          actual: after,
          message: `${label}: tools differ (${why})`,
        });
      }
      const turn = this.unit(id, model, scope, this.recEnds.get(key), this.repEnds.get(key), label);
      if (turn) return { ...turn, message: agentMessage(label, turn) };
      for (const call of this.callsOf(id, scope)) {
        const name = call.slice(call.indexOf("/") + 1, call.lastIndexOf("."));
        const tool = Object.hasOwn(step.tools, name) ? step.tools[name] : undefined;
        const callKey = unitKey(id, call);
        const callLabel = `${label}, call ${call.slice(call.indexOf("/") + 1)}`;
        const r = this.recEnds.get(callKey);
        const p = this.repEnds.get(callKey);
        // The replay stopped before this call: the turns differ, said below.
        if (r && !p && replayed === n) break;
        if (r?.status === "succeeded" && p?.error?.kind === "invalid_arguments")
          return at({
            scope: call,
            field: "arguments",
            path: "",
            expected: r.status,
            actual: p.error.message,
            message: `${callLabel}: the recorded arguments no longer match the tool's parameters (${p.error.message})`,
          });
        const found = this.unit(id, tool ? toolStep(tool) : model, call, r, p, callLabel);
        if (found) return { ...found, message: agentMessage(callLabel, found) };
      }
    }
    if (recorded === replayed) return undefined;
    const end = this.repEnds.get(unitKey(id, base || null)) ?? this.replayedEnd(id, base);
    const why = end?.error ? ` (${end.error.kind}: ${end.error.message})` : "";
    return at({
      scope: base || null,
      field: "turns",
      path: "",
      expected: recorded,
      actual: replayed,
      message: `${id}${base}: turns differ (recorded ${recorded}, replay ${replayed < recorded ? "stopped after" : "went on to"} ${replayed})${why}`,
    });
  }

  /** The names of the tools a turn's first attempt offered, in the record and the replay, when they differ. */
  private offered(key: string): [string[], string[], string[]] | undefined {
    const r = this.recAttempts.get(key)?.[0];
    const p = this.repAttempts.get(key)?.[0];
    if (!r || !p || r.inputHash === p.inputHash) return undefined;
    const names = (run: RecordedRun, hash: string) => {
      const tools = (run.value(hash) as { tools?: unknown } | null)?.tools;
      return Array.isArray(tools) ? tools : [];
    };
    const before = names(this.recorded, r.inputHash);
    const after = names(this.replayed, p.inputHash);
    if (JSON.stringify(before) === JSON.stringify(after)) return undefined;
    const nameOf = (t: unknown) => String((t as { name?: unknown }).name);
    const was = new Map(before.map((t) => [nameOf(t), JSON.stringify(t)]));
    const changed = after.filter(
      (t) => was.has(nameOf(t)) && was.get(nameOf(t)) !== JSON.stringify(t),
    );
    return [before.map(nameOf), after.map(nameOf), changed.map(nameOf)];
  }

  /** The tool-call scopes of a turn in the record or the replay, by index. */
  private callsOf(id: string, turn: string): string[] {
    const prefix = unitKey(id, `${turn}/`);
    const scopes = new Set<string>();
    for (const ends of [this.recEnds, this.repEnds])
      for (const key of ends.keys()) if (key.startsWith(prefix)) scopes.add(key.slice(id.length));
    const index = (s: string) => Number(s.slice(s.lastIndexOf(".") + 1));
    return [...scopes].sort((a, b) => index(a) - index(b));
  }

  /** How the replay ended a step itself (its own events are not in the scoped ends). */
  private replayedEnd(id: string, base: string): UnitEnd | undefined {
    if (base !== "") return undefined;
    const s = foldToEnd(this.replayed.events, this.replayed.attempts).step(id);
    return s ? { status: s.status, output: null, error: s.error } : undefined;
  }

  /** The first divergence of one unit: its attempts' inputs, then how it ended. */
  unit(
    id: string,
    step: Step,
    scope: string | null,
    r: UnitEnd | undefined,
    p: UnitEnd | undefined,
    label = `step '${id}'`,
  ): Divergence | undefined {
    const at = (part: string, path: Path = []) => this.lines.line(id, part, path);
    const make = (
      d: Omit<Divergence, "step" | "scope" | "line">,
      part: string,
      path: Path = [],
    ) => ({
      step: id,
      scope,
      ...d,
      line: at(part, path),
    });
    const key = unitKey(id, scope);
    const ra = this.recAttempts.get(key) ?? [];
    const pa = this.repAttempts.get(key) ?? [];
    for (let i = 0; i < Math.min(ra.length, pa.length); i++) {
      if (ra[i]!.inputHash === pa[i]!.inputHash) continue;
      const expected = normalise(step, this.recorded.value(ra[i]!.inputHash), this.recordedDir);
      const actual = comparable(
        step,
        expected,
        normalise(step, this.replayed.value(pa[i]!.inputHash), this.loaded.dir),
      );
      const path = firstDifference(expected, actual);
      if (path === undefined) continue;
      const prompt = this.promptFile(step, expected, actual, path);
      if (prompt)
        return make({ ...prompt.divergence, message: prompt.message(label) }, prompt.part);
      const part = partOf(step, path);
      return make(
        {
          field: fieldOf(step, part),
          path: pathText(path),
          expected: valueAt(expected, path),
          actual: valueAt(actual, path),
          message:
            part === "tool source"
              ? `the module of tool step '${id}' (${String((step as { uses?: string }).uses)}) changed since the record: its source's sha256 differs`
              : `the ${fieldOf(step, part)} of ${label}${i > 0 ? ` (attempt ${i + 1})` : ""} differs from the record`,
        },
        part,
        path.slice(1),
      );
    }
    // Inside a child run: where the child departs, in its own file.
    const within = this.inner.get(key);
    if (within) return { ...within, step: id, scope, line: at("uses") };
    if (!r) return undefined;
    const status = (s: string) => (s === "skipped" ? "skipped" : s === "pending" ? s : "runs");
    if (!p || p.status !== r.status) {
      const condition = r.status === "skipped" || p?.status === "skipped";
      const missing = p?.error?.message.startsWith("replay: the record has no attempt");
      return make(
        {
          field: condition || missing ? "condition" : "status",
          path: "",
          expected: condition || missing ? status(r.status) : r.status,
          actual: condition || missing ? status(p?.status ?? "pending") : (p?.status ?? "pending"),
          message:
            condition || missing
              ? `${label} was ${r.status === "skipped" ? "skipped" : "run"} in the record, and the replay ${p?.status === "skipped" ? "skips" : "runs"} it`
              : `${label} ${r.status} in the record and ${p?.status ?? "pending"} in the replay`,
        },
        condition || missing ? "condition" : "step",
      );
    }
    if (ra.length !== pa.length) {
      return make(
        {
          field: "attempts",
          path: "",
          expected: ra.length,
          actual: pa.length,
          message: `${label} took ${ra.length} attempt(s) in the record and ${pa.length} in the replay`,
        },
        "step",
      );
    }
    if (r.output !== p.output) {
      return make(
        {
          field: "output",
          path: "",
          expected: r.output === null ? null : this.recorded.value(r.output),
          actual: p.output === null ? null : this.replayed.value(p.output),
          message: `the output of ${label} differs from the record`,
        },
        "step",
      );
    }
    return undefined;
  }

  /**
   * Where an llm step's prompt departs when it came from a prompt file: a file whose text changed
   * since the record (its first changed line), or else the message its `with:` inputs changed.
   */
  private promptFile(
    step: Step,
    expected: unknown,
    actual: unknown,
    path: Path,
  ):
    | {
        divergence: Omit<Divergence, "step" | "scope" | "line" | "message">;
        part: string;
        message: (label: string) => string;
      }
    | undefined {
    if (step.type !== "llm" || !isObject(expected) || !isObject(actual)) return undefined;
    for (const key of ["systemFile", "promptFile"] as const) {
      const r = expected[key] as { path?: string; hash?: string } | undefined;
      const p = actual[key] as { path?: string; hash?: string } | undefined;
      if (!p?.path || !p.hash) continue;
      const file = p.path;
      const before = r?.hash ? this.recorded.text(r.hash) : undefined;
      const after = this.replayed.text(p.hash);
      if (r?.hash !== p.hash) {
        const line =
          before !== undefined && after !== undefined ? firstChangedLine(before, after) : null;
        return {
          divergence: {
            field: "prompt file",
            path: key,
            expected: r ?? null,
            actual: p,
            within: { file, step: null, scope: null, line },
          },
          part: "prompt file",
          message: (label) =>
            `the prompt file ${file} of ${label} changed since the record${line !== null ? `: it first differs at ${file}:${line}` : ""}`,
        };
      }
      // The same text rendered differently: its inputs changed.
      const rendered = key === "promptFile" ? path[0] === "messages" : path[0] === "system";
      if (!rendered || after === undefined) continue;
      const parsed = parsePromptFile(after, file);
      const message =
        key === "promptFile" ? parsed.messages[Number(path[1] ?? 0)] : parsed.messages[0];
      const line = message ? lineOf(parsed, message.start) : null;
      return {
        divergence: {
          field: key === "promptFile" ? "prompt" : "system",
          path: pathText(path),
          expected: valueAt(expected, path),
          actual: valueAt(actual, path),
          within: { file, step: null, scope: null, line },
        },
        part: "with",
        message: (label) =>
          `the ${key === "promptFile" ? "prompt" : "system prompt"} of ${label} differs from the record at ${pathText(path)} (${file}${line !== null ? `:${line}` : ""}): the prompt file is unchanged, its \`with:\` inputs differ`,
      };
    }
    return undefined;
  }
}

/**
 * A divergence inside an agent said the agent's way: `research, turn 3, call search.1: arguments
 * differ at tenant`, `research, turn 1: prompt differs at messages[0].content`.
 */
function agentMessage(label: string, d: Divergence): string {
  const path = d.field === "arguments" ? d.path.replace(/^args\.?/, "") : d.path;
  // How a scope ended is said as for a step, with the scope's label; so is a prompt file's
  // change, which names the file's line.
  if (["status", "attempts", "output", "condition"].includes(d.field) || d.within) return d.message;
  const plural = d.field === "arguments" || d.field === "params" || d.field === "headers";
  return `${label}: ${d.field} ${plural ? "differ" : "differs"}${path ? ` at ${path}` : ""}`;
}

/** A run's attempts by unit key, each unit's in attempt order; reused ones left out. */
function byUnit(attempts: readonly AttemptRecord[]): Map<string, AttemptRecord[]> {
  const map = new Map<string, AttemptRecord[]>();
  for (const a of attempts) {
    if (a.origin === "reused") continue;
    const key = unitKey(a.stepId, a.scope);
    const list = map.get(key);
    if (list) list.push(a);
    else map.set(key, [a]);
  }
  for (const list of map.values()) list.sort((x, y) => x.attempt - y.attempt);
  return map;
}

/** How each scoped unit of a run ended, from its log. */
function scopedEnds(events: readonly EventRecord[]): Map<string, UnitEnd> {
  const out = new Map<string, UnitEnd>();
  for (const e of events) {
    if (e.scope === null || e.stepId === null) continue;
    const d = e.data ?? {};
    const error =
      typeof d.kind === "string" ? { kind: d.kind, message: String(d.message ?? "") } : null;
    const output = typeof d.output === "string" ? d.output : null;
    const key = unitKey(e.stepId, e.scope);
    if (e.type === "step_succeeded" || e.type === "step_cached" || e.type === "step_reused")
      out.set(key, { status: "succeeded", output, error: null });
    else if (e.type === "step_failed") out.set(key, { status: "failed", output: null, error });
    else if (e.type === "step_skipped") out.set(key, { status: "skipped", output: null, error });
    else if (e.type === "step_cancelled")
      out.set(key, { status: "cancelled", output: null, error });
  }
  return out;
}

/** The keys each map step's list had, in list order (its `expanded` event). */
function expandedKeys(events: readonly EventRecord[]): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const e of events) {
    if (e.type !== "expanded" || e.stepId === null || !Array.isArray(e.data?.keys)) continue;
    out.set(e.stepId, (e.data.keys as unknown[]).map(String));
  }
  return out;
}

/** A shell step's folder relative to its workflow's, so a run recorded elsewhere compares equal. */
function normalise(step: Step, input: unknown, dir: string): unknown {
  if (step.type !== "shell" || !input || typeof input !== "object") return input;
  const cwd = (input as { cwd?: unknown }).cwd;
  if (typeof cwd !== "string") return input;
  // An exported golden file holds the folder relative to the workflow's already (golden.ts).
  if (!isAbsolute(cwd)) return input;
  return { ...input, cwd: relative(dir, cwd).replace(/\\/g, "/") || "." };
}

/**
 * A tool's replayed input as comparable with its recorded one: a record made before Keel kept the
 * module's hash in the input (`source`) cannot say whether it changed, so it is not compared.
 */
function comparable(step: Step, expected: unknown, actual: unknown): unknown {
  if (
    step.type !== "tool" ||
    !isObject(expected) ||
    !isObject(actual) ||
    "source" in expected ||
    !("source" in actual)
  )
    return actual;
  const { source: _unknown, ...rest } = actual;
  return rest;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The first path at which two JSON values differ; undefined when they are equal. */
export function firstDifference(a: unknown, b: unknown, path: Path = []): Path | undefined {
  if (a === b) return undefined;
  if (
    a === null ||
    b === null ||
    typeof a !== "object" ||
    typeof b !== "object" ||
    Array.isArray(a) !== Array.isArray(b)
  )
    return path;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    for (let i = 0; i < Math.max(a.length, bb.length); i++) {
      if (i >= a.length || i >= bb.length) return [...path, i];
      const d = firstDifference(a[i], bb[i], [...path, i]);
      if (d) return d;
    }
    return undefined;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) {
    if (!(k in ao) || !(k in bo)) return [...path, k];
    const d = firstDifference(ao[k], bo[k], [...path, k]);
    if (d) return d;
  }
  return undefined;
}

function valueAt(value: unknown, path: Path): unknown {
  let v = value;
  for (const k of path)
    v = v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function pathText(path: Path): string {
  return path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`)).join("");
}

/** The part of a step's resolved input that a path points into, named after the file's keys. */
function partOf(step: Step, path: Path): string {
  const head = String(path[0] ?? "");
  switch (step.type) {
    case "llm":
      if (head === "messages") return "prompt";
      if (head === "json") return "output";
      if (["provider", "providerType", "baseUrl", "headers"].includes(head)) return "provider";
      return head;
    case "shell":
      return head === "argv" ? "command" : head;
    case "tool":
      return head === "args" ? "arguments" : head === "source" ? "tool source" : head;
    default:
      return head || step.type;
  }
}

/** The field a divergence names: the part, with an http step's parts under `request`. */
function fieldOf(step: Step, part: string): string {
  return step.type === "http" ? "request" : part;
}

/** Lines of the workflow source: the key in a step that produced a part of its input. */
class SourceLines {
  private parsed: ReturnType<typeof parseYaml> | undefined;
  private index: LineIndex | undefined;

  constructor(private readonly text: string) {}

  line(stepId: string | null, part: string, rest: Path): number | null {
    this.parsed ??= parseYaml(this.text, new DiagnosticSink());
    this.index ??= new LineIndex(this.text);
    const root = this.parsed.root;
    if (!root) return null;
    const base = stepId === null ? [] : ["steps", stepId];
    const found = locate(root, base);
    if (found.depth < base.length) return null;
    let best = found.loc;
    for (const key of KEYS[part] ?? []) {
      const hit = locate(root, [...base, key, ...(key === "messages" ? rest : [])]);
      if (hit.depth > base.length) {
        best = hit.loc;
        break;
      }
    }
    const offset = best.keySpan?.start ?? best.span.start;
    return this.index.position(offset).line + 1;
  }
}
