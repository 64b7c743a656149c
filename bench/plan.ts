// The plan of a generated workflow: its dependency shape, each step's type and output schema,
// and the seeded random numbers behind them. bench/emit.ts turns a plan into YAML text.

export type Shape = "chain" | "fanout" | "layered";
export const SHAPES: readonly Shape[] = ["chain", "fanout", "layered"];

/** Step types the generator uses. `tool` is left out: it needs a module file next to the workflow. */
export type StepType = "llm" | "transform" | "http" | "shell" | "assert";

/** What kind of value a readable output path holds, to build expressions that make sense. */
export type Kind = "text" | "number" | "list";

export interface Field {
  /** Path after `steps.<id>.output`, with its leading dot, or "" for the whole output. */
  readonly path: string;
  readonly kind: Kind;
}

/** An output schema the generator can declare, with the paths a downstream step may read. */
export interface OutputTemplate {
  readonly yaml: (indent: string) => string[];
  readonly fields: readonly Field[];
  /** Properties a `transform` must produce, with their kind, to match the schema. */
  readonly properties: readonly {
    name: string;
    kind: Kind | "records";
    /** The fields of each record, for `records`. */
    record?: readonly string[];
  }[];
}

export interface StepPlan {
  readonly id: string;
  readonly type: StepType;
  readonly deps: readonly number[];
  readonly template?: OutputTemplate;
  /** What dependents can read from this step; empty for `assert` (they use `needs` instead). */
  readonly fields: readonly Field[];
}

// ---------------------------------------------------------------------------------------------
// Shape and step plans

export function dependencies(shape: Shape, n: number, layerSize: number, rng: Random): number[][] {
  const deps: number[][] = [];
  for (let i = 0; i < n; i++) {
    if (shape === "chain") deps.push(i === 0 ? [] : [i - 1]);
    else if (shape === "fanout") {
      if (i === 0) deps.push([]);
      else if (i < n - 1) deps.push([0]);
      else deps.push(Array.from({ length: n - 2 }, (_, k) => k + 1));
    } else {
      const layer = Math.floor(i / layerSize);
      if (layer === 0) {
        deps.push([]);
        continue;
      }
      const from = (layer - 1) * layerSize;
      const picks = new Set<number>();
      const want = 1 + rng.int(3);
      while (picks.size < want) picks.add(from + rng.int(layerSize));
      deps.push([...picks].sort((a, b) => a - b));
    }
  }
  return deps;
}

const VERBS: Record<StepType, readonly string[]> = {
  llm: ["summarize", "classify", "draft", "extract", "review"],
  transform: ["merge", "normalize", "score", "pick"],
  http: ["fetch", "post", "lookup"],
  shell: ["lint", "render", "convert"],
  assert: ["check", "ensure"],
};

export function planStep(
  shape: Shape,
  i: number,
  n: number,
  deps: number[],
  rng: Random,
): StepPlan {
  let type: StepType;
  // The fan-out's source fetches the shared document and its join writes the report; everything
  // else is drawn with weights close to a typical LLM pipeline (mostly model calls and glue).
  if (shape === "fanout" && i === 0) type = "http";
  else if (shape === "fanout" && i === n - 1) type = "llm";
  else if (i === n - 1) type = "transform";
  else
    type = rng.weighted<StepType>([
      ["llm", 30],
      ["transform", 25],
      ["http", 15],
      ["shell", 10],
      ["assert", 20],
    ]);
  const id = `${rng.pick(VERBS[type])}_${String(i).padStart(4, "0")}`;
  if (type === "assert") return { id, type, deps, fields: [] };
  const template =
    i === n - 1 || rng.chance(0.65)
      ? OUTPUT_TEMPLATES[rng.int(OUTPUT_TEMPLATES.length)]
      : undefined;
  const envelope = type === "http" ? ".body" : type === "shell" ? ".stdout" : "";
  let fields: Field[];
  if (template) fields = template.fields.map((f) => ({ path: envelope + f.path, kind: f.kind }));
  else if (type === "http") {
    fields = [
      { path: ".status", kind: "number" },
      { path: ".body", kind: "text" },
    ];
  } else if (type === "shell") {
    fields = [
      { path: ".stdout", kind: "text" },
      { path: ".exit_code", kind: "number" },
    ];
  } else fields = [{ path: "", kind: "text" }];
  return { id, type, deps, template, fields };
}

const OUTPUT_TEMPLATES: readonly OutputTemplate[] = [
  {
    yaml: (p) => [
      `${p}type: object`,
      `${p}properties:`,
      `${p}  summary: {type: string, description: One paragraph.}`,
      `${p}  score: {type: number, minimum: 0, maximum: 1}`,
      `${p}  tags: {type: array, items: {type: string}}`,
      `${p}required: [summary, score]`,
    ],
    fields: [
      { path: ".summary", kind: "text" },
      { path: ".score", kind: "number" },
      { path: ".tags", kind: "list" },
    ],
    properties: [
      { name: "summary", kind: "text" },
      { name: "score", kind: "number" },
      { name: "tags", kind: "list" },
    ],
  },
  {
    yaml: (p) => [
      `${p}type: object`,
      `${p}additionalProperties: false`,
      `${p}properties:`,
      `${p}  title: {type: string}`,
      `${p}  count: {type: integer, minimum: 0}`,
      `${p}  items:`,
      `${p}    type: array`,
      `${p}    items:`,
      `${p}      type: object`,
      `${p}      properties: {id: {type: string}, text: {type: string}}`,
      `${p}      required: [id, text]`,
    ],
    fields: [
      { path: ".title", kind: "text" },
      { path: ".count", kind: "number" },
      { path: ".items", kind: "list" },
      { path: ".items.text", kind: "list" },
    ],
    properties: [
      { name: "title", kind: "text" },
      { name: "count", kind: "number" },
      { name: "items", kind: "records", record: ["id", "text"] },
    ],
  },
  {
    yaml: (p) => [
      `${p}type: object`,
      `${p}properties:`,
      `${p}  answer: {type: string}`,
      `${p}  confidence: {type: number}`,
      `${p}  sources:`,
      `${p}    type: array`,
      `${p}    items:`,
      `${p}      type: object`,
      `${p}      properties: {url: {type: string, format: uri}, title: {type: string}}`,
    ],
    fields: [
      { path: ".answer", kind: "text" },
      { path: ".confidence", kind: "number" },
      { path: ".sources.url", kind: "list" },
    ],
    properties: [
      { name: "answer", kind: "text" },
      { name: "confidence", kind: "number" },
      { name: "sources", kind: "records", record: ["url", "title"] },
    ],
  },
];

// ---------------------------------------------------------------------------------------------
// A small seeded PRNG (mulberry32): Math.random would make every run measure a different file.

export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  weighted<T>(table: readonly (readonly [T, number])[]): T {
    const total = table.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [item, w] of table) {
      r -= w;
      if (r < 0) return item;
    }
    return table[table.length - 1]![0];
  }
}
