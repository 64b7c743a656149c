// Generates realistic, valid Keel workflows of any size for the benchmarks. The text is written by
// hand rather than with a YAML serialiser so that it looks like what people write (block and flow
// collections, block scalars for prompts and JSONata, plain and quoted scalars) and so that the
// parser meets the same variety a real file gives it. Output is deterministic for a given shape,
// size and seed, so every run of the bench measures the same bytes.

export type Shape = "chain" | "fanout" | "layered";
export const SHAPES: readonly Shape[] = ["chain", "fanout", "layered"];

/** Step types the generator uses. `tool` is left out: it needs a module file next to the workflow. */
type StepType = "llm" | "transform" | "http" | "shell" | "assert";

/** What kind of value a readable output path holds, to build expressions that make sense. */
type Kind = "text" | "number" | "list";

interface Field {
  /** Path after `steps.<id>.output`, with its leading dot, or "" for the whole output. */
  readonly path: string;
  readonly kind: Kind;
}

/** An output schema the generator can declare, with the paths a downstream step may read. */
interface OutputTemplate {
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

interface StepPlan {
  readonly id: string;
  readonly type: StepType;
  readonly deps: readonly number[];
  readonly template?: OutputTemplate;
  /** What dependents can read from this step; empty for `assert` (they use `needs` instead). */
  readonly fields: readonly Field[];
}

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

// ---------------------------------------------------------------------------------------------
// Shape and step plans

function dependencies(shape: Shape, n: number, layerSize: number, rng: Random): number[][] {
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

function planStep(shape: Shape, i: number, n: number, deps: number[], rng: Random): StepPlan {
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
// Emission

function header(out: string[], shape: Shape, n: number): void {
  out.push(
    `# Generated by bench/generate.ts (${shape}, ${n} steps); regenerate rather than edit.`,
    "keel: 1",
    `name: bench-${shape}-${n}`,
    `description: >-`,
    `  A ${shape}-shaped workflow of ${n} steps that mixes model calls, HTTP requests, commands,`,
    `  transforms and assertions, used to measure validation speed.`,
    "inputs:",
    "  topic:",
    "    type: string",
    "    default: release notes",
    "    description: What the report is about.",
    "  max_words:",
    "    type: number",
    "    default: 200",
    "    description: Longest summary, in words.",
    "  strict: {type: boolean, default: false, description: Fail on low scores.}",
    "providers:",
    "  mock:",
    "    type: scripted",
    "    description: Offline answers for tests and benchmarks.",
    "    default: ok",
    "  mock_json:",
    "    type: scripted",
    "    model: scripted-json",
    "    responses:",
    '      - match: "/summar(y|ise)/i"',
    "        reply: {summary: ok, score: 1, tags: [bench]}",
    "      - match: rate limit drill",
    "        error: rate_limit",
    "        delay: 50ms",
    "    default: {summary: ok, score: 0.5, tags: []}",
    "  openai_main:",
    "    type: openai",
    "    model: gpt-4o-mini",
    '    base_url: "${{ env.OPENAI_BASE_URL }}"',
    '    api_key: "${{ secrets.OPENAI_API_KEY }}"',
    "    timeout: 60s",
    "    retry: {max_attempts: 2, backoff: fixed, initial: 1s}",
    "    concurrency: 4",
    "    fallback: mock",
    "defaults:",
    "  provider: mock",
    "  timeout: 2m",
    "  retry:",
    "    max_attempts: 2",
    "    backoff: exponential",
    "    initial: 500ms",
    "    max_delay: 10s",
    "    jitter: true",
    "    on: [timeout, rate_limit, server_error]",
  );
}

function footer(out: string[], plans: readonly StepPlan[]): void {
  const last = plans[plans.length - 1]!;
  const field = last.fields.find((f) => f.kind === "text") ?? last.fields[0]!;
  out.push(
    "outputs:",
    `  report: ${ref(last, field)}`,
    `  last_step: '"${last.id}"'`,
    `  topic: inputs.topic`,
    "consistency: warn",
  );
}

const P = "    "; // indentation of a step's keys

function emitStep(out: string[], plan: StepPlan, plans: readonly StepPlan[], rng: Random): void {
  const deps = plan.deps.map((d) => plans[d]!);
  const readable = deps.filter((d) => d.fields.length > 0);
  // Steps without readable output (assertions) are ordered with `needs`; the fan-out's join also
  // lists every branch there, since its prompt quotes only a few of them.
  const needs = plan.deps.length > 3 ? deps : deps.filter((d) => d.fields.length === 0);
  const quoted = plan.deps.length > 3 ? readable.slice(0, 3) : readable;
  out.push(`  ${plan.id}:`, `${P}type: ${plan.type}`, `${P}description: ${describe(plan, deps)}`);
  if (needs.length === 1) out.push(`${P}needs: ${needs[0]!.id}`);
  else if (needs.length > 1 && needs.length <= 4)
    out.push(`${P}needs: [${needs.map((d) => d.id).join(", ")}]`);
  else if (needs.length > 4) {
    out.push(`${P}needs:`);
    for (const d of needs) out.push(`${P}  - ${d.id}`);
  }
  if (rng.chance(0.08)) out.push(`${P}if: inputs.max_words > 0 and $success()`);
  switch (plan.type) {
    case "llm":
      emitLlm(out, plan, quoted, rng);
      break;
    case "transform":
      emitTransform(out, plan, quoted, rng);
      break;
    case "http":
      emitHttp(out, plan, quoted, rng);
      break;
    case "shell":
      emitShell(out, plan, quoted, rng);
      break;
    case "assert":
      emitAssert(out, quoted, rng);
      break;
  }
  if (rng.chance(0.3)) out.push(`${P}timeout: ${rng.pick(["30s", "45s", "2m", "1500ms"])}`);
  if (plan.type !== "assert" && plan.type !== "transform" && rng.chance(0.3)) {
    if (rng.chance(0.6)) out.push(`${P}retry: {max_attempts: 3, backoff: exponential}`);
    else {
      out.push(
        `${P}retry:`,
        `${P}  max_attempts: 4`,
        `${P}  backoff: fixed`,
        `${P}  initial: 2s`,
        `${P}  on: [timeout, server_error, invalid_output]`,
      );
    }
  }
  if (plan.type === "shell" && rng.chance(0.5)) out.push(`${P}cache: false`);
  else if (plan.type === "llm" && rng.chance(0.2)) out.push(`${P}cache: {ttl: 1h}`);
  if (plan.type === "assert" && rng.chance(0.3)) out.push(`${P}on_error: continue`);
  if (plan.template) {
    // A transform's value is its output, so it has no format; the others parse JSON.
    if (plan.type === "transform") out.push(`${P}output:`);
    else out.push(`${P}output:`, `${P}  format: json`);
    out.push(`${P}  schema:`, ...plan.template.yaml(`${P}    `));
  }
}

function describe(plan: StepPlan, deps: readonly StepPlan[]): string {
  const from =
    deps.length === 0
      ? "the workflow inputs"
      : deps.length > 3
        ? `the ${deps.length} results before it`
        : deps.map((d) => d.id).join(" and ");
  switch (plan.type) {
    case "llm":
      return `Asks the model to ${plan.id.split("_")[0]} what ${from} produced.`;
    case "transform":
      return `Combines ${from} into one record.`;
    case "http":
      return `Searches the documents API for ${from}.`;
    case "shell":
      return `Runs a local script over ${from}.`;
    case "assert":
      return `Stops the run early when ${from} look wrong.`;
  }
}

function ref(step: StepPlan, field: Field): string {
  return `steps.${step.id}.output${field.path}`;
}

/** One reference per dependency, so that every readable dependency is read in expressions. */
function refsOf(deps: readonly StepPlan[], rng: Random): string[] {
  return deps.map((d) => ref(d, rng.pick(d.fields)));
}

function emitLlm(out: string[], plan: StepPlan, deps: readonly StepPlan[], rng: Random): void {
  const style = rng.int(3);
  const provider = plan.template
    ? rng.pick(["mock_json", "openai_main", "mock_json"])
    : rng.pick(["mock", "openai_main", ""]);
  if (provider !== "") out.push(`${P}provider: ${provider}`);
  if (provider === "openai_main" && rng.chance(0.3)) out.push(`${P}model: gpt-4o`);
  const refs = refsOf(deps, rng);
  const verb = plan.id.split("_")[0]!;
  const shape = plan.template
    ? ` Answer in JSON with ${plan.template.properties.map((p) => p.name).join(", ")}.`
    : "";
  if (style === 0) {
    const parts = [`${capitalise(verb)} the material about \${{ inputs.topic }}`];
    for (const r of refs) parts.push(`taking into account \${{ ${r} }}`);
    const text = `${parts.join(", ")}, in at most \${{ inputs.max_words }} words.${shape}`;
    out.push(`${P}prompt: ${quote(text)}`);
  } else if (style === 1) {
    out.push(`${P}system: You are a careful analyst. Never invent facts.`);
    out.push(`${P}prompt: |`);
    out.push(`${P}  Topic: \${{ inputs.topic }}`);
    refs.forEach((r, k) => out.push(`${P}  Input ${k + 1}: \${{ ${r} }}`));
    out.push(`${P}  Please ${verb} the inputs above for a reader new to the topic.${shape}`);
  } else {
    out.push(
      `${P}messages:`,
      `${P}  - role: system`,
      `${P}    content: You write short, factual notes for engineers.${shape}`,
    );
    const text =
      refs.length === 0
        ? `Write a first ${verb} of \${{ inputs.topic }}.`
        : `Here is what we have so far: ${refs.map((r) => `\${{ ${r} }}`).join("; ")}. Please ${verb} it.`;
    out.push(`${P}  - role: user`, `${P}    content: ${quote(text)}`);
  }
  if (rng.chance(0.5)) {
    out.push(`${P}params: {temperature: 0.2, max_tokens: ${rng.pick([256, 512, 1024])}, seed: 7}`);
  }
}

function emitTransform(
  out: string[],
  plan: StepPlan,
  deps: readonly StepPlan[],
  rng: Random,
): void {
  const refs = refsOf(deps, rng);
  if (!plan.template) {
    // A one-line expression, written as a plain scalar as people usually do.
    const parts = [...refs.map((r) => `$string(${r})`), "inputs.topic"];
    out.push(`${P}expr: $uppercase($join([${parts.join(", ")}], " / "))`);
    return;
  }
  // Property k reads dependency k (round robin), so every dependency is read and is an edge; a
  // field of the wanted kind is preferred, otherwise the value is converted.
  const lines = plan.template.properties.map((p, k) => {
    const d = deps.length > 0 ? deps[k % deps.length] : undefined;
    const wanted = p.kind === "records" ? "list" : p.kind;
    const field = d ? (d.fields.find((f) => f.kind === wanted) ?? rng.pick(d.fields)) : undefined;
    const r =
      d && field ? ref(d, field) : wanted === "number" ? "inputs.max_words" : "inputs.topic";
    const kind = field?.kind ?? (wanted === "number" ? "number" : "text");
    let value: string;
    if (p.kind === "text") value = `$trim($string(${r}) & " (" & inputs.topic & ")")`;
    else if (p.kind === "number")
      value = kind === "number" ? `$round($number(${r}) * 100) / 100` : `$count(${r})`;
    else if (p.kind === "list") value = `$distinct($append([], ${r}))`;
    else {
      const record = p.record!.map((name) =>
        name === "url"
          ? `"url": "https://docs.example.com/d/" & $string($i)`
          : `"${name}": $string($v)`,
      );
      value = `$map($append([], ${r}), function($v, $i) { {${record.join(", ")}} })`;
    }
    return `"${p.name}": ${value}`;
  });
  out.push(`${P}expr: |`, `${P}  {`);
  lines.forEach((l, k) => out.push(`${P}    ${l}${k < lines.length - 1 ? "," : ""}`));
  out.push(`${P}  }`);
}

function emitHttp(out: string[], plan: StepPlan, deps: readonly StepPlan[], rng: Random): void {
  const refs = refsOf(deps, rng);
  const post = refs.length > 1 || rng.chance(0.4);
  out.push(`${P}method: ${post ? "POST" : "GET"}`);
  const key = refs[0] ?? "inputs.topic";
  out.push(
    `${P}url: "https://docs.example.com/api/v2/search/\${{ $encodeUrlComponent($string(${key})) }}"`,
    `${P}headers:`,
    `${P}  Authorization: "Bearer \${{ secrets.DOCS_TOKEN }}"`,
    `${P}  Accept: application/json`,
    `${P}  X-Request-Id: "\${{ run.id }}-${plan.id}"`,
    `${P}query: {lang: en, limit: ${rng.pick([10, 20, 50])}, fresh: true}`,
  );
  if (post) {
    out.push(`${P}body:`, `${P}  topic: "\${{ inputs.topic }}"`);
    refs.slice(1).forEach((r, k) => out.push(`${P}  context_${k + 1}: "\${{ ${r} }}"`));
  }
  out.push(`${P}expect: {status: [200, 201]}`);
  if (rng.chance(0.3)) {
    out.push(`${P}snapshot:`, `${P}  source: docs_api`, `${P}  version: output.headers.etag`);
  }
}

function emitShell(out: string[], plan: StepPlan, deps: readonly StepPlan[], rng: Random): void {
  const refs = refsOf(deps, rng);
  const script = `scripts/${plan.id.split("_")[0]}.py`;
  if (rng.chance(0.5)) {
    const args = refs.map((r) => `"\${{ ${r} }}"`).join(", ");
    out.push(
      `${P}command: [python3, ${script}, --topic, "\${{ inputs.topic }}"${args ? `, ${args}` : ""}]`,
    );
  } else {
    out.push(`${P}command:`, `${P}  - python3`, `${P}  - ${script}`, `${P}  - --json`);
    for (const r of refs) out.push(`${P}  - "\${{ ${r} }}"`);
  }
  out.push(`${P}cwd: tools`, `${P}env: {LC_ALL: C.UTF-8, RUN_ID: "\${{ run.id }}"}`);
  if (rng.chance(0.4)) out.push(`${P}expect: {exit_code: [0, 3]}`);
}

function emitAssert(out: string[], deps: readonly StepPlan[], rng: Random): void {
  const checks: string[] = [];
  for (const d of deps) {
    const f = rng.pick(d.fields);
    const r = ref(d, f);
    if (f.kind === "number") checks.push(`$number(${r}) >= 0`);
    else if (f.kind === "list") checks.push(`$count(${r}) <= 100`);
    else checks.push(`$exists(${r}) and $length($string(${r})) > 0`);
  }
  if (checks.length === 0) checks.push("$length(inputs.topic) > 0");
  if (checks.length === 1 && rng.chance(0.5)) out.push(`${P}that: ${checks[0]}`);
  else {
    out.push(`${P}that:`);
    for (const c of checks) out.push(`${P}  - ${c}`);
    out.push(`${P}  - inputs.strict = false or inputs.max_words < 1000`);
  }
  const first = deps[0];
  const shown = first ? ref(first, first.fields[0]!) : "inputs.topic";
  out.push(`${P}message: "unexpected value: \${{ $string(${shown}) }}"`);
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A YAML double-quoted scalar (JSON's escapes are a subset of YAML's). */
function quote(s: string): string {
  return JSON.stringify(s);
}

// ---------------------------------------------------------------------------------------------
// A small seeded PRNG (mulberry32): Math.random would make every run measure a different file.

class Random {
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
