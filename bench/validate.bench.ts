// Validation benchmark (docs/benchmarks.md, "Validation (#3)"): Keel's cold full validation against
// yaml-language-server's schema-only validation of the same generated files, side by side in one
// process. Run with `npm run bench`; `npm run bench -- --sizes 100` limits the sizes while working
// on the generator. Generated files are written to bench/out/ so `keel validate` can be run on them.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";
import { getLanguageService, type LanguageService } from "yaml-language-server";
import {
  yamlDocumentsCache,
  type YAMLDocument,
} from "yaml-language-server/out/server/src/languageservice/parser/yaml-documents";
import type { ParserOptions } from "yaml-language-server/out/server/src/languageservice/parser/yamlParser07";
import { TextDocument } from "vscode-languageserver-textdocument";
import { LineIndex, validate, type Diagnostic, type ValidationResult } from "@keel/core/index";
import { clearExpressionCache } from "@keel/core/expr/parse";
import { generate, SHAPES, type Shape } from "./generate";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = `${ROOT}bench/out/`;
const SCHEMA_FILE = `${ROOT}schema/keel.schema.json`;
const SCHEMA_URI = "file:///keel-bench/keel.schema.json";

/**
 * Timed runs per tool and size. The 5,000-step peer and parse runs take seconds each, so they get
 * fewer runs to keep the whole bench near three minutes on a 2-core machine.
 */
const PLAN: Record<number, { keel: number; peer: number; parse: number }> = {
  100: { keel: 15, peer: 15, parse: 15 },
  1000: { keel: 11, peer: 11, parse: 5 },
  5000: { keel: 7, peer: 5, parse: 3 },
};

/** The options Keel's own parse uses (core/model/parse.ts), so the column is its parse floor. */
const YAML_OPTIONS = { uniqueKeys: false, prettyErrors: false, strict: true } as const;

interface Stats {
  readonly runs: number;
  readonly median: number;
  readonly p90: number;
  readonly min: number;
}

interface Row {
  readonly shape: Shape;
  readonly n: number;
  readonly kib: number;
  readonly keel: Stats;
  readonly peer: Stats;
  readonly parse: Stats;
}

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}

function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { runs: sorted.length, median, p90: at(0.9), min: sorted[0]! };
}

// ---------------------------------------------------------------------------------------------
// Keel

/** One cold full validation: the JSONata parse cache is emptied first, as in a fresh process. */
function keelOnce(text: string): { ms: number; result: ValidationResult } {
  clearExpressionCache();
  const start = performance.now();
  const result = validate(text);
  return { ms: performance.now() - start, result };
}

// ---------------------------------------------------------------------------------------------
// Prompt files (#19): what a prompt file's render and checks add to validating the workflow that
// uses it. The same workflow with its prompt inline is the baseline; each run changes the prompt
// file's text (a trailing comment line) so its parse and checks are cold too.

const PROMPT_FILE = `---
inputs:
  ticket: { type: string, description: The customer's message }
  tone: { type: string, default: friendly }
  product: { type: string, default: printer }
params: { temperature: 0.2 }
---
## system
You are a support agent for our \${{ product }}. Answer in a \${{ tone }} tone.

## user
Ticket:
\${{ ticket }}

Reply in \${{ $count($split(ticket, " ")) > 50 ? "three" : "two" }} sentences.
`;

function promptWorkflow(inline: boolean): string {
  const ask = inline
    ? `    system: "You are a support agent for our printer. Answer in a friendly tone."
    prompt: "Ticket: \${{ inputs.body }}"`
    : `    prompt_file: ./prompts/draft.md
    with: { ticket: "\${{ inputs.body }}" }`;
  return `keel: 1
name: prompt-bench
inputs:
  body: { type: string }
providers:
  p: { type: scripted, default: ok }
steps:
  draft:
    type: llm
${ask}
  check:
    type: assert
    that: steps.draft.output != ""
`;
}

/** Median ms a prompt file adds to a cold validation of its workflow, and to rendering it. */
async function promptFileCost(): Promise<{ validate: number; render: number }> {
  const { prepareStep } = await import("@keel/core/runner/steps");
  const { PromptFiles } = await import("@keel/core/runner/prompt-files");
  const runs = 200;
  let n = 0;
  const host = {
    resolve: (_from: string, rel: string) => rel,
    readFile: () => `${PROMPT_FILE}<!-- ${n} -->\n`,
  };
  const time = (text: string): number => {
    n++;
    clearExpressionCache();
    const start = performance.now();
    const r = validate(text, { file: "/bench/flow.keel.yaml", host });
    const ms = performance.now() - start;
    if (r.diagnostics.length > 0) fail(describeDiagnostics(text, r.diagnostics));
    return ms;
  };
  const withFile: number[] = [];
  const inline: number[] = [];
  for (let i = 0; i < runs; i++) {
    withFile.push(time(promptWorkflow(false)));
    inline.push(time(promptWorkflow(true)));
  }
  const loaded = validate(promptWorkflow(false), { file: "/bench/flow.keel.yaml", host });
  const step = loaded.model.parts!.steps.get("draft")!.value as unknown as Parameters<
    typeof prepareStep
  >[0];
  const workflow = loaded.model.yaml.value as Parameters<typeof prepareStep>[2]["workflow"];
  const renders: number[] = [];
  for (let i = 0; i < runs; i++) {
    n++;
    clearExpressionCache();
    const texts = new Map([["./prompts/draft.md", host.readFile()]]);
    const start = performance.now();
    await prepareStep(
      step,
      { context: { inputs: { body: "my printer is on fire" } } },
      { workflow, dir: "/bench", prompts: new PromptFiles("/bench", texts) },
    );
    renders.push(performance.now() - start);
  }
  return {
    validate: stats(withFile).median - stats(inline).median,
    render: stats(renders).median,
  };
}

function describeDiagnostics(text: string, diagnostics: readonly Diagnostic[]): string {
  const lines = new LineIndex(text);
  const source = text.split("\n");
  return diagnostics
    .slice(0, 10)
    .map((d) => {
      const at = lines.position(d.start);
      return `  ${at.line + 1}:${at.character + 1} ${d.code} ${d.message}\n    | ${source[at.line]}`;
    })
    .join("\n");
}

// ---------------------------------------------------------------------------------------------
// The peer: yaml-language-server's language service, in process, schema checks only

interface Peer {
  readonly service: LanguageService;
  /** Versions per document URI: every timed run sends a new version, so nothing is reused. */
  readonly versions: Map<string, number>;
}

function createPeer(schemaText: string): Peer {
  const service = getLanguageService({
    // The schema is handed over in `configure`; any request means it would validate against
    // something else (a remote meta-schema, say), which this bench must not do silently.
    schemaRequestService: (uri) => Promise.reject(new Error(`unexpected schema request: ${uri}`)),
    workspaceContext: { resolveRelativePath: (relative, from) => new URL(relative, from).href },
  });
  service.configure({
    validate: true,
    hover: false,
    completion: false,
    format: false,
    schemas: [{ uri: SCHEMA_URI, fileMatch: ["*"], schema: JSON.parse(schemaText) }],
  });
  return { service, versions: new Map() };
}

function peerDocument(peer: Peer, uri: string, text: string): TextDocument {
  const version = (peer.versions.get(uri) ?? 0) + 1;
  peer.versions.set(uri, version);
  return TextDocument.create(uri, "yaml", version, text);
}

/**
 * The parsed document the peer holds for `doc`. Options without custom tags make the cache
 * compare versions only, so this returns the cached parse and never parses by itself.
 */
function peerParsed(doc: TextDocument): YAMLDocument {
  return yamlDocumentsCache.getYamlDocument(doc, {} as ParserOptions);
}

async function peerOnce(
  peer: Peer,
  uri: string,
  text: string,
): Promise<{ ms: number; count: number; parsed: YAMLDocument }> {
  const doc = peerDocument(peer, uri, text);
  const start = performance.now();
  const diagnostics = await peer.service.doValidation(doc, false);
  const ms = performance.now() - start;
  return { ms, count: diagnostics.length, parsed: peerParsed(doc) };
}

/**
 * The peer swallows exceptions and then reports nothing, which would look like a fast clean
 * validation. So before measuring, check that it reports an unknown key and a wrong type (and that
 * Keel does too, so both validate the same format), and that its cache behaves as assumed.
 */
async function sanityCheck(peer: Peer): Promise<void> {
  const bad = [
    "keel: 1",
    "name: sanity",
    "steps:",
    "  only:",
    "    type: transform",
    "    expr: inputs.x",
    "    colour: red",
    "    timeout: 30",
    "",
  ].join("\n");
  const uri = "file:///keel-bench/sanity.keel.yaml";
  const doc = peerDocument(peer, uri, bad);
  const found = await peer.service.doValidation(doc, false);
  const unknownKey = found.some((d) => d.range.start.line === 6 && /colour/.test(d.message));
  const wrongType = found.some((d) => d.range.start.line === 7 && /type/i.test(d.message));
  if (!unknownKey || !wrongType) {
    fail(
      `the peer does not validate against the schema: expected an unknown key on line 7 and a ` +
        `wrong type on line 8, got ${JSON.stringify(found.map((d) => [d.range.start.line + 1, d.message]))}`,
    );
  }
  const keelCodes = validate(bad).diagnostics.map((d) => d.code);
  if (
    !keelCodes.includes("KEEL101") ||
    !keelCodes.some((c) => c === "KEEL102" || c === "KEEL107")
  ) {
    fail(`Keel missed the unknown key or the wrong type: ${keelCodes.join(", ")}`);
  }
  const before = peerParsed(doc);
  if (peerParsed(doc) !== before) {
    fail("looking up the peer's parsed document re-parses it: the re-parse check would be void");
  }
  const again = await peerOnce(peer, uri, bad);
  if (again.parsed === before) fail("a new document version did not make the peer re-parse");
  yamlDocumentsCache.clear();
}

// ---------------------------------------------------------------------------------------------
// Measurement

async function measure(peer: Peer, shape: Shape, n: number): Promise<Row> {
  const { text, dependencies } = generate(shape, n);
  const name = `${shape}-${n}.keel.yaml`;
  writeFileSync(OUT + name, text);
  const uri = `file:///keel-bench/${name}`;

  // Untimed first runs: correctness checks that also warm up each tool on this file.
  const { diagnostics, model } = keelOnce(text).result;
  if (diagnostics.length > 0) {
    fail(
      `bench/out/${name} has ${diagnostics.length} diagnostics; generated files must be ` +
        `valid:\n${describeDiagnostics(text, diagnostics)}`,
    );
  }
  checkGraph(name, model.graph, dependencies);
  const peerFirst = await peerOnce(peer, uri, text);
  if (peerFirst.count > 0) {
    fail(`the peer reports ${peerFirst.count} problems in bench/out/${name}, which Keel accepts`);
  }

  const plan = PLAN[n] ?? PLAN[1000]!;
  const keel: number[] = [];
  const peerMs: number[] = [];
  const parse: number[] = [];
  let previous = peerFirst.parsed;
  const runKeel = () => {
    keel.push(keelOnce(text).ms);
  };
  const runPeer = async () => {
    const r = await peerOnce(peer, uri, text);
    if (r.parsed === previous) fail(`the peer reused its parse of ${name}: the run was not cold`);
    previous = r.parsed;
    peerMs.push(r.ms);
  };
  const runParse = () => {
    const start = performance.now();
    parseDocument(text, YAML_OPTIONS);
    parse.push(performance.now() - start);
  };
  // No forced gc() between runs: tried, it made the next parse 2–3× slower (a full collection
  // resets V8's heap sizing), which is neither tool's state in an editor session.
  // Interleaved, alternating the order, so a burst of load from elsewhere on the machine hits
  // both tools alike instead of one tool's whole series.
  const rounds = Math.max(plan.keel, plan.peer, plan.parse);
  for (let r = 0; r < rounds; r++) {
    const steps: (() => void | Promise<void>)[] = [];
    if (r < plan.keel) steps.push(runKeel);
    if (r < plan.peer) steps.push(runPeer);
    if (r < plan.parse) steps.push(runParse);
    if (r % 2) steps.reverse();
    for (const step of steps) await step();
  }
  yamlDocumentsCache.clear(); // the peer holds ~30 MiB per 1,000 steps of a parsed file
  return {
    shape,
    n,
    kib: text.length / 1024,
    keel: stats(keel),
    peer: stats(peerMs),
    parse: stats(parse),
  };
}

/** The graph Keel builds must be the one the generator meant: the shape is part of the claim. */
function checkGraph(
  name: string,
  graph: ValidationResult["model"]["graph"],
  expected: ReadonlyMap<string, readonly string[]>,
): void {
  for (const [id, want] of expected) {
    const got = new Set(graph.deps.get(id) ?? []);
    if (got.size !== want.length || want.some((d) => !got.has(d))) {
      fail(
        `${name}: step ${id} depends on [${[...got].join(", ")}], expected [${want.join(", ")}]`,
      );
    }
  }
  if (graph.ids.length !== expected.size) {
    fail(`${name}: ${graph.ids.length} steps parsed, ${expected.size} generated`);
  }
}

async function warmUp(peer: Peer): Promise<void> {
  // Lets V8 optimise both tools' hot paths and compile the peer's schema before any timed run.
  const { text } = generate("layered", 100, { seed: 1 });
  for (let i = 0; i < 5; i++) {
    keelOnce(text);
    await peerOnce(peer, "file:///keel-bench/warm-up.keel.yaml", text);
    parseDocument(text, YAML_OPTIONS);
  }
  yamlDocumentsCache.clear();
}

// ---------------------------------------------------------------------------------------------
// Report

function table(rows: readonly Row[]): string {
  const ms = (v: number) => (v < 10 ? v.toFixed(1) : v.toFixed(0));
  const head = [
    "shape",
    "N",
    "KiB",
    "Keel median",
    "Keel p90",
    "Keel min",
    "peer median",
    "peer p90",
    "peer min",
    "peer/Keel",
    "yaml parse alone",
    "runs K/P/Y",
  ];
  const body = rows.map((r) => [
    r.shape,
    r.n.toLocaleString("en-US"),
    r.kib.toFixed(0),
    ms(r.keel.median),
    ms(r.keel.p90),
    ms(r.keel.min),
    ms(r.peer.median),
    ms(r.peer.p90),
    ms(r.peer.min),
    `${(r.peer.median / r.keel.median).toFixed(2)}×`,
    ms(r.parse.median),
    `${r.keel.runs}/${r.peer.runs}/${r.parse.runs}`,
  ]);
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  const rule = `|${head.map((_, i) => (i < 1 ? "---|" : "--:|")).join("")}`;
  return [line(head), rule, ...body.map(line)].join("\n");
}

function sizesFromArgs(): number[] {
  const at = process.argv.indexOf("--sizes");
  if (at < 0) return [100, 1000, 5000];
  const sizes = (process.argv[at + 1] ?? "").split(",").map(Number);
  if (sizes.some((s) => !Number.isInteger(s) || s < 3)) fail("--sizes takes a list like 100,1000");
  return sizes;
}

async function main(): Promise<void> {
  const sizes = sizesFromArgs();
  mkdirSync(OUT, { recursive: true });
  const peer = createPeer(readFileSync(SCHEMA_FILE, "utf8"));
  await sanityCheck(peer);
  await warmUp(peer);
  const started = performance.now();
  const rows: Row[] = [];
  for (const n of sizes) {
    for (const shape of SHAPES) {
      const row = await measure(peer, shape, n);
      rows.push(row);
      console.error(
        `  ${shape} ${n}: Keel ${row.keel.median.toFixed(1)} ms, peer ${row.peer.median.toFixed(1)} ms`,
      );
    }
  }
  const version = (pkg: string) =>
    (
      JSON.parse(readFileSync(`${ROOT}node_modules/${pkg}/package.json`, "utf8")) as {
        version: string;
      }
    ).version;
  console.log(
    [
      "Keel validation benchmark: cold full validation (parse + schema + every semantic check)",
      `vs yaml-language-server ${version("yaml-language-server")} schema-only validation of the same text (times in ms)`,
      `yaml parse alone: parseDocument of yaml ${version("yaml")} with Keel's options, the floor under Keel's time`,
      `date: ${new Date().toISOString()}`,
      `node: ${process.version} (${process.platform} ${process.arch}), ${cpus().length} cores`,
      `wall time of the measurements: ${((performance.now() - started) / 1000).toFixed(0)} s`,
      "",
      table(rows),
      "",
      "Every generated file validated with zero diagnostics in Keel and in the peer.",
    ].join("\n"),
  );
  const prompt = await promptFileCost();
  console.log(
    [
      "",
      "Prompt files (#19): a workflow whose llm step uses a prompt file vs the same prompt inline,",
      "cold (the prompt file's text changes every run), median of 200 runs:",
      `  checks (parse, templates, with:) add ${prompt.validate.toFixed(3)} ms to validation (target <= 1 ms)`,
      `  rendering the prompt file into the step's messages takes ${prompt.render.toFixed(3)} ms`,
    ].join("\n"),
  );
}

main().catch((e: unknown) => fail(e instanceof Error ? (e.stack ?? e.message) : String(e)));
