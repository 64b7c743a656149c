// The model of a version analysed incrementally (check/incremental.ts), spliced together from the
// units' parses instead of parsing and validating the whole text again: hover, navigation,
// symbols, lenses and semantic tokens ask for the model after every edit, and a full validation
// costs ~0.3 s at 1,000 steps.
// Invariant: `splicedModel(state)` equals `validate(state.text).model` in everything but object
// identity: every location, value, expression site and graph edge (test/core/check/incremental.test.ts
// compares them after random edits).
// How: each unit kept its step's locations in the offsets of the text it was parsed in, and where
// its text started then (`origin`); it has moved by `start - origin` since. Locations before the
// steps never move (edits happen inside steps); those after them move with the steps' end. Moved
// locations are copied (an earlier version's model shares the originals), unmoved ones are kept.
import type { Edge } from "../graph/graph";
import { buildGraph } from "../graph/graph";
import type { Span } from "../model/diagnostic";
import type { Loc, ScalarNode } from "../model/parse";
import type { Obj } from "../model/untyped";
import type { IncrementalState } from "./incremental";
import { readParts } from "./parts";
import type { AnalyzedSite } from "./references";
import type { WorkflowModel } from "./validate";

export function splicedModel(state: IncrementalState): WorkflowModel {
  const { text, starts, units, base } = state;
  const copies = new Map<Loc, Loc>();
  const stepLocs = new Map<string | number, Loc>();
  const stepsValue: Obj = Object.create(null);
  const sites: AnalyzedSite[] = [];
  const needs: Edge[] = [];
  const exprs: Edge[] = [];
  units.forEach((unit, k) => {
    const by = starts[k]! - unit.origin;
    stepLocs.set(unit.id, moveLoc(unit.loc, by, copies));
    stepsValue[unit.id] = unit.value;
    for (const s of unit.sites) sites.push(moveSite(s, by, copies));
    for (const e of unit.needsEdges) needs.push(moveEdge(e, by));
    for (const e of unit.exprEdges) exprs.push(moveEdge(e, by));
  });

  // Everything at or after the steps' old end moved by as much as the steps' text grew.
  const tail = starts[starts.length - 1]! - base.stepsEnd;
  const after = (loc: Loc) => loc.span.start >= base.stepsEnd;
  const oldSteps = base.root.children!.get("steps")!;
  const stepsEnd = stepLocs.get(units[units.length - 1]!.id)!.span.end;
  const stepsLoc: Loc = {
    ...oldSteps,
    span: { start: oldSteps.span.start, end: stepsEnd },
    children: stepLocs,
  };
  const children = new Map<string | number, Loc>();
  for (const [key, loc] of base.root.children!) {
    if (key === "steps") children.set(key, stepsLoc);
    else children.set(key, after(loc) ? moveLoc(loc, tail, copies) : loc);
  }
  const rootEnd = base.root.span.end;
  const root: Loc = {
    ...base.root,
    span: {
      start: base.root.span.start,
      end: rootEnd > oldSteps.span.end ? rootEnd + tail : stepsEnd,
    },
    children,
  };
  for (const s of base.headerSites) sites.push(after(s.site.loc) ? moveSite(s, tail, copies) : s);

  const value: Obj = Object.create(null);
  for (const key of Object.keys(base.value)) value[key] = base.value[key];
  value.steps = stepsValue;
  const parts = readParts(text, value, root)!;
  const graph = buildGraph([...parts.steps.keys()], [...needs, ...exprs]);
  return { yaml: { text, value, root, anchors: false }, parts, sites, graph };
}

function moveSpan(span: Span, by: number): Span {
  return { start: span.start + by, end: span.end + by };
}

/**
 * `loc` moved by `by`, once per splice (sites share their step's locations). The copy is lazy: its
 * children and scalar are moved when first read, so a feature that looks at one step does not pay
 * for copying the thousands of locations after an edit.
 */
function moveLoc(loc: Loc, by: number, copies: Map<Loc, Loc>): Loc {
  if (by === 0) return loc;
  let moved = copies.get(loc);
  if (!moved) copies.set(loc, (moved = new MovedLoc(loc, by, copies)));
  return moved;
}

class MovedLoc implements Loc {
  readonly span: Span;
  readonly keySpan?: Span;
  readonly viaAlias?: boolean;
  private movedChildren?: Map<string | number, Loc>;
  private movedScalar?: ScalarNode;

  constructor(
    private readonly from: Loc,
    private readonly by: number,
    private readonly copies: Map<Loc, Loc>,
  ) {
    this.span = moveSpan(from.span, by);
    if (from.keySpan) this.keySpan = moveSpan(from.keySpan, by);
    if (from.viaAlias) this.viaAlias = true;
  }

  get children(): Map<string | number, Loc> | undefined {
    if (!this.from.children) return undefined;
    if (!this.movedChildren) {
      const children = new Map<string | number, Loc>();
      for (const [key, child] of this.from.children) {
        children.set(key, moveLoc(child, this.by, this.copies));
      }
      this.movedChildren = children;
    }
    return this.movedChildren;
  }

  get scalar(): ScalarNode | undefined {
    const scalar = this.from.scalar;
    if (!scalar) return undefined;
    if (!this.movedScalar) {
      const r = scalar.range;
      const by = this.by;
      this.movedScalar = {
        value: scalar.value,
        type: scalar.type,
        range: r && [r[0] + by, r[1] + by, r[2] + by],
      };
    }
    return this.movedScalar;
  }
}

function moveSite(s: AnalyzedSite, by: number, copies: Map<Loc, Loc>): AnalyzedSite {
  if (by === 0) return s;
  return { site: { ...s.site, loc: moveLoc(s.site.loc, by, copies) }, info: s.info };
}

function moveEdge(e: Edge, by: number): Edge {
  return by === 0 ? e : { ...e, span: moveSpan(e.span, by) };
}
