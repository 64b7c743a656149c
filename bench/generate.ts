// Generates realistic, valid Keel workflows of any size for the benchmarks. The text is written by
// hand rather than with a YAML serialiser so that it looks like what people write (block and flow
// collections, block scalars for prompts and JSONata, plain and quoted scalars) and so that the
// parser meets the same variety a real file gives it. Output is deterministic for a given shape,
// size and seed, so every run of the bench measures the same bytes.

import { dependencies, planStep, Random, SHAPES, type Shape, type StepPlan } from "./plan";
import { emitStep, footer, header } from "./emit";

export { SHAPES, type Shape };

export interface GenerateOptions {
  /** PRNG seed; the default gives the files the published figures were measured on. */
  readonly seed?: number;
  /** Steps per layer of the `layered` shape. */
  readonly layerSize?: number;
}

export interface GeneratedWorkflow {
  readonly text: string;
  /** The dependencies each step was generated with (step id → ids), to check the parsed graph. */
  readonly dependencies: ReadonlyMap<string, readonly string[]>;
}

/** A workflow of `n` steps (n ≥ 3) in the given dependency shape, as YAML text. */
export function generateWorkflow(shape: Shape, n: number, options: GenerateOptions = {}): string {
  return generate(shape, n, options).text;
}

/** Like `generateWorkflow`, with the intended dependency graph alongside the text. */
export function generate(
  shape: Shape,
  n: number,
  options: GenerateOptions = {},
): GeneratedWorkflow {
  if (!Number.isInteger(n) || n < 3) throw new RangeError(`need at least 3 steps, got ${n}`);
  const rng = new Random(options.seed ?? 0x6b65656c + n * 31 + SHAPES.indexOf(shape));
  const deps = dependencies(shape, n, options.layerSize ?? 20, rng);
  const plans: StepPlan[] = [];
  for (let i = 0; i < n; i++) plans.push(planStep(shape, i, n, deps[i]!, rng));
  const out: string[] = [];
  header(out, shape, n);
  out.push("steps:");
  for (const plan of plans) emitStep(out, plan, plans, rng);
  footer(out, plans);
  const graph = new Map(plans.map((p) => [p.id, p.deps.map((d) => plans[d]!.id)]));
  return { text: out.join("\n") + "\n", dependencies: graph };
}
