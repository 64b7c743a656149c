// Dependency cycles: each step of a cycle gets a diagnostic naming the whole cycle through it.
import type { DiagnosticSink } from "../model/diagnostic";
import { cycleThrough, type StepGraph } from "../graph/graph";
import type { WorkflowParts } from "./parts";

/** Cycles longer than this are shown with the middle elided. */
const SHOWN = 12;

export function checkCycles(parts: WorkflowParts, graph: StepGraph, sink: DiagnosticSink): void {
  for (const component of graph.cycles) {
    const members = new Set(component);
    // A plain ring (each member needs exactly one other member) is one cycle, read once.
    const ring = component.every(
      (id) => graph.deps.get(id)!.filter((d) => members.has(d)).length === 1,
    );
    const base = ring ? cycleThrough(component[0]!, members, graph.deps) : undefined;
    for (const id of component) {
      const cycle = base ? rotate(base, id) : cycleThrough(id, members, graph.deps);
      const step = parts.steps.get(id);
      if (!step) continue;
      const message =
        cycle.length === 2
          ? `step '${id}' depends on itself`
          : `step '${id}' is in a dependency cycle: ${show(cycle)}`;
      sink.add("KEEL204", step.keySpan, message);
    }
  }
}

function rotate(cycle: readonly string[], start: string): string[] {
  const ring = cycle.slice(0, -1);
  const i = ring.indexOf(start);
  const rotated = [...ring.slice(i), ...ring.slice(0, i)];
  return [...rotated, start];
}

function show(cycle: readonly string[]): string {
  if (cycle.length <= SHOWN) return cycle.join(" → ");
  const head = cycle.slice(0, SHOWN / 2);
  const tail = cycle.slice(-SHOWN / 2);
  return `${head.join(" → ")} → … (${cycle.length - SHOWN} more) → ${tail.join(" → ")}`;
}
