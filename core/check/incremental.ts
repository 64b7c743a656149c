// Incremental re-validation (docs/editor.md, "Incremental analysis"): after an edit inside one
// step's text, only that step's text is parsed and only that step's checks run again; every other
// diagnostic is kept, moved by the edit's length.
// Invariant: `revalidate` gives exactly the diagnostics `validate` gives for the new text, or
// undefined (the caller then validates the whole text). It answers only when nothing but the
// edited step can change, which is the case when:
// - the document has no YAML problem and no anchors or aliases, and `steps` is a block mapping
//   whose keys start their lines at one indentation (checked once, by `incrementalState`);
// - the edit lies in one step's text after its key line, and that text still parses on its own,
//   cleanly, as one entry with the same key, every line of it below the key indented deeper (or
//   blank, or a comment), and it still ends at a line break;
// - the step was and stays a mapping, and keeps what other steps' checks read of it (its `type`,
//   `output`, whether it has `for_each` or `repeat`, a workflow step's `uses` and an agent's tool
//   names: linkedShape);
// - its dependencies are the same, or, in a workflow without cycles, its new ones do not close one.
import { sortDiagnostics, DiagnosticSink, type Diagnostic, type Span } from "../model/diagnostic";
import { parseEntry, type Loc } from "../model/parse";
import { isObj, str, type Obj } from "../model/untyped";
import { parseExpressions } from "../expr/parse";
import type { Edge } from "../graph/graph";
import type { WorkflowParts } from "./parts";
import type { AnalyzedSite } from "./references";
import {
  collectStep,
  finishStep,
  linkedShape,
  type StepContext,
  type StepResult,
} from "./step-checks";
import { childValidator, type ValidateOptions, type ValidationDetail } from "./validate";

/** One entry of `steps` as the incremental analysis keeps it. */
interface Unit {
  readonly id: string;
  readonly value: unknown;
  /** Its diagnostics, in the offsets of the state's text. */
  readonly diagnostics: readonly Diagnostic[];
  /** The steps it depends on, in the graph's order. */
  readonly deps: readonly string[];
  readonly reads: readonly string[];
  /** Length of its key line, line break included. */
  readonly keyLine: number;
  /** What the model needs of it (check/splice.ts), in the offsets of the text it was parsed in. */
  readonly loc: Loc;
  readonly sites: readonly AnalyzedSite[];
  readonly needsEdges: readonly Edge[];
  readonly exprEdges: readonly Edge[];
  /** Where its text started in the text it was parsed in: its locations move by `start - origin`. */
  readonly origin: number;
}

/** The parts of the last full validation's model that incremental edits leave as they were. */
export interface ModelBase {
  /** The document's root, whose `steps` child is rebuilt from the units. */
  readonly root: Loc;
  readonly value: Obj;
  readonly headerSites: readonly AnalyzedSite[];
  /** Where the steps' text ended then: what lies at or after it moves with the steps' edits. */
  readonly stepsEnd: number;
}

/** What an incremental re-validation of the next version needs. Immutable. */
export interface IncrementalState {
  readonly text: string;
  readonly options: ValidateOptions;
  /** Where each step's text starts (its key line); one more entry: where the last one ends. */
  readonly starts: readonly number[];
  readonly units: readonly Unit[];
  /** Step id → position in `units`. */
  readonly positions: ReadonlyMap<string, number>;
  readonly indent: number;
  /** Diagnostics outside the steps' entries, and of cycles, in the text's offsets. */
  readonly header: readonly Diagnostic[];
  /** Files the checks outside the steps read (they are not run again incrementally). */
  readonly headerReads: readonly string[];
  readonly cycles: readonly Diagnostic[];
  /** The parts of the workflow: steps are read for their ids, types and outputs only. */
  readonly parts: WorkflowParts;
  /** A stand-in for the document for one step's schema check: the first key and `steps`. */
  readonly firstKey: readonly [string | number, Loc] | undefined;
  readonly stepsKeySpan: Span | undefined;
  readonly base: ModelBase;
}

/** An edit: `[start, oldEnd)` of the old text became `[start, newEnd)` of the new one. */
export interface TextEdit {
  readonly start: number;
  readonly oldEnd: number;
  readonly newEnd: number;
}

export interface Revalidation {
  readonly edit: TextEdit;
  readonly state: IncrementalState;
  readonly diagnostics: Diagnostic[];
  readonly reads: ReadonlySet<string>;
}

/** The smallest edit that turns `before` into `after` (common prefix and suffix left out). */
export function findEdit(before: string, after: string): TextEdit {
  const max = Math.min(before.length, after.length);
  // Whole chunks first: comparing strings is native code, much faster than a loop over chars.
  let start = 0;
  while (
    start + CHUNK <= max &&
    before.slice(start, start + CHUNK) === after.slice(start, start + CHUNK)
  ) {
    start += CHUNK;
  }
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  const room = max - start;
  let tail = 0;
  while (
    tail + CHUNK <= room &&
    before.slice(before.length - tail - CHUNK, before.length - tail) ===
      after.slice(after.length - tail - CHUNK, after.length - tail)
  ) {
    tail += CHUNK;
  }
  while (
    tail < room &&
    before.charCodeAt(before.length - 1 - tail) === after.charCodeAt(after.length - 1 - tail)
  ) {
    tail++;
  }
  return { start, oldEnd: before.length - tail, newEnd: after.length - tail };
}

const CHUNK = 1024;

/** The state for incremental re-validation of a full validation, or undefined when not eligible. */
export function incrementalState(
  text: string,
  options: ValidateOptions,
  detail: ValidationDetail,
): IncrementalState | undefined {
  const { result, split } = detail;
  const { yaml, parts } = result.model;
  if (detail.parse.length > 0 || yaml.anchors || !split?.stepsLoc || !parts || !yaml.root) {
    return undefined;
  }
  const { steps, stepsLoc } = split;
  if (steps.length === 0 || stepsLoc.span.start !== steps[0]!.loc.keySpan?.start) return undefined;
  const starts: number[] = [];
  let indent = -1;
  for (const step of steps) {
    const key = step.loc.keySpan!.start;
    const lineStart = lineStartOf(text, key);
    if (!/^ *$/.test(text.slice(lineStart, key))) return undefined;
    if (indent >= 0 && key - lineStart !== indent) return undefined;
    indent = key - lineStart;
    if (starts.length > 0 && lineStart <= starts[starts.length - 1]!) return undefined;
    starts.push(lineStart);
  }
  starts.push(stepsEnd(text, yaml.root, starts[starts.length - 1]!));
  const first = starts[0]!;
  // A `%YAML 1.1` directive would make the whole document read some scalars differently.
  if (/^%/m.test(text.slice(0, first))) return undefined;
  const last = starts[starts.length - 1]!;
  if (split.header.some((d) => d.end > first && d.start < last)) return undefined;
  const units = steps.map((s, i) => unitOf(text, s, starts[i]!, s.diagnostics));
  if (units.some((u, i) => starts[i]! + u.keyLine > starts[i + 1]!)) return undefined;
  const firstKey = [...yaml.root.children!][0];
  return {
    text,
    options,
    starts,
    units,
    positions: new Map(units.map((u, i) => [u.id, i])),
    indent,
    header: split.header,
    headerReads: split.headerReads,
    cycles: split.cycles,
    parts,
    firstKey: firstKey && firstKey[0] !== "steps" ? firstKey : undefined,
    stepsKeySpan: stepsLoc.keySpan,
    base: {
      root: yaml.root,
      value: yaml.value as Obj,
      headerSites: split.headerSites,
      stepsEnd: starts[starts.length - 1]!,
    },
  };
}

/** Re-validates `text`, an edit of `state.text`; undefined when only a full validation can tell. */
export function revalidate(state: IncrementalState, text: string): Revalidation | undefined {
  const edit = findEdit(state.text, text);
  const delta = edit.newEnd - edit.oldEnd;
  const k = stepAt(state.starts, edit.start);
  if (k < 0 || k >= state.units.length) return undefined;
  const unit = state.units[k]!;
  const start = state.starts[k]!;
  const oldEnd = state.starts[k + 1]!;
  if (edit.start < start + unit.keyLine || edit.oldEnd > oldEnd) return undefined;
  const end = oldEnd + delta;
  const atEnd = k === state.units.length - 1 && oldEnd === state.text.length;
  if (!indentedBody(text, start + unit.keyLine, end, state.indent, atEnd)) return undefined;

  const sink = new DiagnosticSink();
  const entry = parseEntry(text, start, end, sink);
  if (!entry || sink.items.length > 0 || entry.key !== unit.id) return undefined;
  if (!isObj(unit.value) || !isObj(entry.value)) return undefined;
  if (linkedShape(unit.value) !== linkedShape(entry.value)) return undefined;

  const steps = new Map(state.parts.steps);
  const { key: id, value, loc } = entry;
  steps.set(id, { id, value, type: str(value.type), loc, keySpan: entry.keySpan });
  const parts: WorkflowParts = { ...state.parts, text, steps };
  const result = checkOne(state, parts, id, value, loc);
  const next = unitOf(text, result, start, result.diagnostics);
  const cycles = cyclesAfter(state, unit, next);
  if (!cycles) return undefined;

  const move = (d: Diagnostic) => moveDiagnostic(d, edit.oldEnd, delta);
  const units = state.units.map((u, i) =>
    i === k
      ? next
      : u.diagnostics.length === 0
        ? u
        : { ...u, diagnostics: u.diagnostics.map(move) },
  );
  const starts = state.starts.map((s, i) => (i > k ? s + delta : s));
  const header = state.header.map(move);
  const nextState: IncrementalState = {
    ...state,
    text,
    starts,
    units,
    header,
    cycles: cycles.map(move),
    parts,
  };
  const reads = new Set([...state.headerReads, ...units.flatMap((u) => u.reads)]);
  const diagnostics = sortDiagnostics([
    ...header,
    ...units.flatMap((u) => u.diagnostics),
    ...nextState.cycles,
  ]);
  return { edit, state: nextState, diagnostics, reads };
}

/** Runs one step's checks on its new entry, in a stand-in document holding only that step. */
function checkOne(
  state: IncrementalState,
  parts: WorkflowParts,
  id: string,
  value: Obj,
  loc: Loc,
): StepResult {
  const { text } = parts;
  const stepsValue: Obj = Object.create(null);
  stepsValue[id] = value;
  const rootValue: Obj = Object.create(null);
  rootValue.steps = stepsValue;
  const stepsLoc: Loc = {
    span: loc.span,
    keySpan: state.stepsKeySpan,
    children: new Map([[id, loc]]),
  };
  const children = new Map<string | number, Loc>(state.firstKey ? [state.firstKey] : []);
  children.set("steps", stepsLoc);
  const root: Loc = { span: { start: 0, end: text.length }, children };
  const ctx: StepContext = {
    ...state.options,
    text,
    rootValue,
    root,
    parts,
    validateChild: childValidator(state.options),
  };
  const collected = collectStep(ctx, id, value, loc);
  return finishStep(ctx, collected, parseExpressions(collected.sites.map((s) => s.text)));
}

/** The cycle diagnostics after `before` became `after`, or undefined when they must be recomputed. */
function cyclesAfter(
  state: IncrementalState,
  before: Unit,
  after: Unit,
): readonly Diagnostic[] | undefined {
  if (sameList(before.deps, after.deps)) return state.cycles;
  if (state.cycles.length > 0) return undefined;
  const old = new Set(before.deps);
  for (const dep of after.deps) {
    if (!old.has(dep) && reaches(state, dep, after.id, before.id)) return undefined;
  }
  return [];
}

/** Whether `to` is `from` or one of its dependencies, directly or not (`to`'s own deps are unused). */
function reaches(state: IncrementalState, from: string, to: string, skip: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === to) return true;
    if (seen.has(id) || id === skip) continue;
    seen.add(id);
    const at = state.positions.get(id);
    if (at !== undefined) stack.push(...state.units[at]!.deps);
  }
  return false;
}

function unitOf(
  text: string,
  step: StepResult,
  start: number,
  diagnostics: readonly Diagnostic[],
): Unit {
  const deps: string[] = [];
  for (const e of [...step.needsEdges, ...step.exprEdges])
    if (!deps.includes(e.to)) deps.push(e.to);
  const keyEnd = step.loc.keySpan?.end ?? start;
  return {
    id: step.id,
    value: step.value,
    diagnostics,
    deps,
    reads: step.reads,
    keyLine: lineEndOf(text, keyEnd) - start,
    loc: step.loc,
    sites: step.sites,
    needsEdges: step.needsEdges,
    exprEdges: step.exprEdges,
    origin: start,
  };
}

/** Index of the step whose text holds `offset`: the last start at or before it. */
function stepAt(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  if (offset < starts[0]!) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The lines of `[from, to)` are blank, comments, or indented deeper than the step keys, and the
 * range ends at a line break (or at the end of the text, for the last step of a file that ends
 * with its steps).
 */
function indentedBody(
  text: string,
  from: number,
  to: number,
  indent: number,
  atEnd: boolean,
): boolean {
  if (to < from) return false;
  if (atEnd ? to !== text.length : to > from && !isBreak(text.charCodeAt(to - 1))) return false;
  let i = from;
  while (i < to) {
    let col = 0;
    while (i < to && text.charCodeAt(i) === 32) {
      i++;
      col++;
    }
    const c = text.charCodeAt(i);
    if (i < to && !isBreak(c) && c !== 35 /* # */ && col <= indent) return false;
    while (i < to && !isBreak(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) === 13 && text.charCodeAt(i + 1) === 10) i++;
    i++;
  }
  return true;
}

function isBreak(c: number): boolean {
  return c === 10 || c === 13;
}

function lineStartOf(text: string, offset: number): number {
  let i = offset;
  while (i > 0 && !isBreak(text.charCodeAt(i - 1))) i--;
  return i;
}

/** The offset just after the line break that ends the line holding `offset`. */
function lineEndOf(text: string, offset: number): number {
  let i = offset;
  while (i < text.length && !isBreak(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) === 13 && text.charCodeAt(i + 1) === 10) i++;
  return Math.min(i + 1, text.length);
}

/** Where the steps' text ends: the line of the next top-level key, or the end of the text. */
function stepsEnd(text: string, root: Loc, lastStart: number): number {
  let end = text.length;
  for (const child of root.children!.values()) {
    const key = child.keySpan?.start ?? -1;
    if (key > lastStart && key < end) end = lineStartOf(text, key);
  }
  return end;
}

function moveDiagnostic(d: Diagnostic, oldEnd: number, delta: number): Diagnostic {
  if (delta === 0) return d;
  const at = (o: number) => (o >= oldEnd ? o + delta : o);
  const span = (s: Span): Span => ({ start: at(s.start), end: at(s.end) });
  if (d.end < oldEnd && d.start < oldEnd && !d.related && !d.fixes) return d;
  const moved: Diagnostic = { ...d, start: at(d.start), end: at(d.end) };
  if (d.related)
    Object.assign(moved, { related: d.related.map((r) => ({ ...r, span: span(r.span) })) });
  if (d.fixes) Object.assign(moved, { fixes: d.fixes.map((f) => ({ ...f, span: span(f.span) })) });
  return moved;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
