// Language server benchmark (docs/benchmarks.md, "Language server (#6)"): over the protocol, the
// built Keel server (dist/server.js --stdio) and yaml-language-server 1.25 configured with Keel's
// published JSON Schema, on generated 100-, 1,000- and 5,000-step files: didChange →
// publishDiagnostics latency, completion latency, and the server's RSS with 50 open files.
// Run with `npm run bench:lsp`; `-- --sizes 100,1000` limits the sizes, `-- --no-peer` skips the
// peer. Builds the bundles first.
//
// The edits: one character typed into, then deleted from, the key of the `description:` line of
// the middle step (`descriptionx:` is an unknown key to both servers), one edit at a time, each
// answered before the next is sent. Keel's diagnostics carry the document's version; the peer's
// do not, so an answer is known to be the peer's answer to an edit by its content: the broken
// line is flagged after a break and clean after a repair.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from "vscode-jsonrpc/node";
import { generate } from "./generate";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SCHEMA = pathToFileURL(`${ROOT}schema/keel.schema.json`).href;
/** yaml-language-server validates this long after the last change, with no setting for it. */
const PEER_WAIT_MS = 200;
const PEER_SETTINGS = {
  validate: true,
  hover: true,
  completion: true,
  format: { enable: false },
  schemaStore: { enable: false },
  schemas: { [SCHEMA]: ["*.keel.yaml"] },
};
const OPEN_FILES = 50;
const MEMORY_STEPS = 1000;
/** Timed edits (break + repair count as two) per size; warm-up edits come first. */
const EDITS: Record<number, { keel: number; peer: number }> = {
  100: { keel: 60, peer: 20 },
  1000: { keel: 60, peer: 16 },
  5000: { keel: 40, peer: 8 },
};
const WARM_UP_EDITS = 6;
const TARGET_P95: Record<number, number> = { 1000: 30, 5000: 60 };
const TARGET_RATIO = 10;

type Kind = "keel" | "peer";

interface Diagnostic {
  range: { start: { line: number } };
  message: string;
  code?: unknown;
}
interface Published {
  uri: string;
  version?: number;
  diagnostics: Diagnostic[];
}

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}

/** One language server process and a JSON-RPC connection to it. */
class Server {
  private readonly waiters: { match: (p: Published) => boolean; done: () => void }[] = [];
  private readonly versions = new Map<string, number>();

  private constructor(
    readonly kind: Kind,
    private readonly process: ChildProcess,
    private readonly connection: MessageConnection,
  ) {}

  static async start(kind: Kind, initializationOptions?: unknown): Promise<Server> {
    const args =
      kind === "keel"
        ? [`${ROOT}dist/server.js`, "--stdio"]
        : [`${ROOT}node_modules/yaml-language-server/bin/yaml-language-server`, "--stdio"];
    const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
    const connection = createMessageConnection(
      new StreamMessageReader(child.stdout!),
      new StreamMessageWriter(child.stdin!),
    );
    const server = new Server(kind, child, connection);
    connection.onNotification("textDocument/publishDiagnostics", (p: Published) => {
      for (const w of server.waiters.filter((w) => w.match(p))) {
        server.waiters.splice(server.waiters.indexOf(w), 1);
        w.done();
      }
    });
    for (const method of ["window/logMessage", "telemetry/event", "$/progress"]) {
      connection.onNotification(method, () => {});
    }
    // The peer asks for its settings (workspace/configuration) besides being sent them.
    connection.onRequest("workspace/configuration", (params: { items: { section?: string }[] }) =>
      params.items.map((item) => (item.section === "yaml" ? PEER_SETTINGS : null)),
    );
    connection.onRequest(() => null); // registrations: nothing to add
    connection.listen();
    await connection.sendRequest("initialize", {
      processId: process.pid,
      rootUri: null,
      capabilities: {},
      initializationOptions,
    });
    await connection.sendNotification("initialized", {});
    if (kind === "peer") {
      await connection.sendNotification("workspace/didChangeConfiguration", {
        settings: { yaml: PEER_SETTINGS },
      });
    }
    return server;
  }

  /** Resolves when a publication matches; rejects after `timeoutMs`. */
  published(match: (p: Published) => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.kind}: no answer`)), timeoutMs);
      this.waiters.push({
        match,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  async open(uri: string, text: string, match: (p: Published) => boolean): Promise<number> {
    this.versions.set(uri, 1);
    const answered = this.published((p) => p.uri === uri && match(p), 120_000);
    const start = performance.now();
    await this.connection.sendNotification("textDocument/didOpen", {
      textDocument: { uri, languageId: this.kind === "keel" ? "keel" : "yaml", version: 1, text },
    });
    await answered;
    return performance.now() - start;
  }

  /** Sends one edit; resolves with the time until its diagnostics arrived. */
  async edit(
    uri: string,
    line: number,
    character: number,
    remove: number,
    insert: string,
    match: (diagnostics: Diagnostic[]) => boolean,
  ): Promise<number> {
    const version = this.versions.get(uri)! + 1;
    this.versions.set(uri, version);
    const answered = this.published(
      (p) =>
        p.uri === uri && (this.kind === "peer" || p.version === version) && match(p.diagnostics),
      60_000,
    );
    const start = performance.now();
    await this.connection.sendNotification("textDocument/didChange", {
      textDocument: { uri, version },
      contentChanges: [
        {
          range: { start: { line, character }, end: { line, character: character + remove } },
          text: insert,
        },
      ],
    });
    await answered;
    return performance.now() - start;
  }

  async completion(uri: string, line: number, character: number): Promise<number> {
    const start = performance.now();
    const result = (await this.connection.sendRequest("textDocument/completion", {
      textDocument: { uri },
      position: { line, character },
    })) as { items?: unknown[] } | unknown[] | null;
    const ms = performance.now() - start;
    const items = Array.isArray(result) ? result : (result?.items ?? []);
    if (items.length === 0) fail(`${this.kind} offered no completion at ${line + 1}:${character}`);
    return ms;
  }

  /** Time to answer a request; fails when the answer is empty. */
  async timed(method: string, params: object): Promise<number> {
    const start = performance.now();
    const result = await this.connection.sendRequest(method, params);
    const ms = performance.now() - start;
    if (result == null) fail(`${this.kind} gave no answer to ${method}`);
    return ms;
  }

  /** Resident set size of the server process, in MiB. */
  rssMib(): number {
    const status = readFileSync(`/proc/${this.process.pid}/status`, "utf8");
    const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return kib / 1024;
  }

  async stop(): Promise<void> {
    try {
      await this.connection.sendRequest("shutdown");
      await this.connection.sendNotification("exit");
    } catch {
      // the process is killed below either way
    }
    this.connection.dispose();
    this.process.kill();
  }
}

interface Stats {
  readonly n: number;
  readonly median: number;
  readonly p95: number;
}

function stats(samples: readonly number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { n: s.length, median, p95: s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)]! };
}

/** The `description:` line of the middle step, where every edit happens. */
function editLine(text: string, n: number): number {
  const lines = text.split("\n");
  const steps = lines.indexOf("steps:");
  let seen = -1;
  for (let i = steps + 1; i < lines.length; i++) {
    if (/^ {2}[a-z]/.test(lines[i]!)) seen++;
    if (seen === n >> 1 && lines[i]!.startsWith("    description: ")) return i;
  }
  return fail("no description line in the middle step");
}

const KEY_END = "    description".length;

interface SizeResult {
  readonly n: number;
  readonly kib: number;
  readonly keel: Stats;
  readonly keelCompletion: Stats;
  readonly keelCompletionAgain: Stats;
  readonly keelHover: Stats;
  readonly keelTokens: Stats;
  readonly peer?: Stats;
  readonly peerCompletion?: Stats;
}

/** Alternating break and repair edits; completions after each repair when asked. */
async function editSeries(
  server: Server,
  uri: string,
  line: number,
  count: number,
  completions: { first: number[]; again: number[] } | undefined,
  features?: { hover: number[]; tokens: number[] },
): Promise<number[]> {
  const flagged = (ds: Diagnostic[]) => ds.some((d) => d.range.start.line === line);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const breaking = i % 2 === 0;
    const ms = breaking
      ? await server.edit(uri, line, KEY_END, 0, "x", flagged)
      : await server.edit(uri, line, KEY_END, 1, "", (ds) => !flagged(ds));
    times.push(ms);
    if (!breaking && completions) {
      completions.first.push(await server.completion(uri, line, KEY_END - 4));
      completions.again.push(await server.completion(uri, line, KEY_END - 4));
    }
    if (breaking && features) {
      // After an edit, the features that need the whole model (positions of every step).
      const textDocument = { uri };
      const position = { line: line - 2, character: 4 }; // the step's id
      features.hover.push(await server.timed("textDocument/hover", { textDocument, position }));
      features.tokens.push(
        await server.timed("textDocument/semanticTokens/full", { textDocument }),
      );
    }
  }
  return times;
}

async function measureSize(n: number, peer: boolean): Promise<SizeResult> {
  const { text } = generate("layered", n);
  const uri = `file:///keel-bench/lsp/layered-${n}.keel.yaml`;
  const line = editLine(text, n);
  const plan = EDITS[n] ?? EDITS[1000]!;
  const clean = (p: Published) => p.diagnostics.length === 0;

  const keel = await Server.start("keel", { debounceMs: 0 });
  await keel.open(uri, text, (p) => p.version === 1 && clean(p));
  await editSeries(keel, uri, line, WARM_UP_EDITS, undefined);
  const keelCompletions = { first: [] as number[], again: [] as number[] };
  const keelTimes = await editSeries(keel, uri, line, plan.keel, keelCompletions);
  const features = { hover: [] as number[], tokens: [] as number[] };
  await editSeries(keel, uri, line, Math.min(plan.keel, 40), undefined, features);
  await keel.stop();
  process.stderr.write(`  Keel ${n}: median ${stats(keelTimes).median.toFixed(1)} ms\n`);

  let peerTimes: number[] | undefined;
  let peerCompletions: { first: number[]; again: number[] } | undefined;
  if (peer) {
    const server = await Server.start("peer");
    await server.open(uri, text, clean);
    await editSeries(server, uri, line, 2, undefined);
    peerCompletions = { first: [], again: [] };
    peerTimes = await editSeries(server, uri, line, plan.peer, peerCompletions);
    await server.stop();
    process.stderr.write(`  peer ${n}: median ${stats(peerTimes).median.toFixed(0)} ms\n`);
  }
  return {
    n,
    kib: text.length / 1024,
    keel: stats(keelTimes),
    keelCompletion: stats(keelCompletions.first),
    keelCompletionAgain: stats(keelCompletions.again),
    keelHover: stats(features.hover),
    keelTokens: stats(features.tokens),
    peer: peerTimes && stats(peerTimes),
    peerCompletion: peerCompletions && stats(peerCompletions.first),
  };
}

/** Keel with its default debounce, on the 1,000-step file. */
async function measureDebounce(): Promise<Stats> {
  const { text } = generate("layered", 1000);
  const uri = "file:///keel-bench/lsp/debounce.keel.yaml";
  const line = editLine(text, 1000);
  const keel = await Server.start("keel", {});
  await keel.open(uri, text, (p) => p.version === 1);
  await editSeries(keel, uri, line, WARM_UP_EDITS, undefined);
  const times = await editSeries(keel, uri, line, 20, undefined);
  await keel.stop();
  return stats(times);
}

/** RSS after opening OPEN_FILES copies of the MEMORY_STEPS-step file, each validated. */
async function measureMemory(kind: Kind): Promise<{ before: number; after: number }> {
  const { text } = generate("layered", MEMORY_STEPS);
  const server = await Server.start(kind, kind === "keel" ? { debounceMs: 0 } : undefined);
  const before = server.rssMib();
  for (let i = 0; i < OPEN_FILES; i++) {
    await server.open(`file:///keel-bench/lsp/open-${i}.keel.yaml`, text, () => true);
  }
  await new Promise((r) => setTimeout(r, 500));
  const after = server.rssMib();
  await server.stop();
  return { before, after };
}

function table(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "),
    )
    .join("\n");
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf("--sizes");
  const sizes = at >= 0 ? args[at + 1]!.split(",").map(Number) : [100, 1000, 5000];
  if (sizes.some((n) => !Number.isInteger(n) || n < 10)) fail("--sizes takes a list like 100,1000");
  const peer = !args.includes("--no-peer");
  const build = spawnSync(process.execPath, [`${ROOT}esbuild.mjs`], { stdio: "inherit" });
  if (build.status !== 0) fail("the build failed");

  const started = performance.now();
  const cpu = cpus();
  console.log(
    `Keel language server benchmark — Node ${process.version}, ${new Date().toISOString()}, ` +
      `${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown"})`,
  );
  process.stderr.write("measuring:\n");
  const results: SizeResult[] = [];
  for (const n of sizes) results.push(await measureSize(n, peer));
  const debounce = await measureDebounce();
  const keelMemory = await measureMemory("keel");
  const peerMemory = peer ? await measureMemory("peer") : undefined;

  const ms = (v: number | undefined) =>
    v === undefined ? "—" : v < 10 ? v.toFixed(1) : v.toFixed(0);
  const rows = [
    [
      "N",
      "KiB",
      "Keel median",
      "Keel p95",
      "peer median",
      "peer p95",
      "peer −200 ms median",
      "peer −200 ms p95",
      "peer/Keel",
      "Keel compl. after edit",
      "Keel compl. again",
      "peer compl.",
      "Keel hover after edit",
      "Keel tokens after edit",
      "target",
    ],
  ];
  for (const r of results) {
    const misses: string[] = [];
    const target = TARGET_P95[r.n];
    if (target !== undefined && r.keel.p95 > target) misses.push(`p95 >${target} ms`);
    const bare = r.peer && r.peer.median - PEER_WAIT_MS;
    if (bare !== undefined && bare < TARGET_RATIO * r.keel.median) misses.push(`<${TARGET_RATIO}×`);
    rows.push([
      r.n.toLocaleString("en"),
      r.kib.toFixed(0),
      ms(r.keel.median),
      ms(r.keel.p95),
      ms(r.peer?.median),
      ms(r.peer?.p95),
      ms(r.peer && r.peer.median - PEER_WAIT_MS),
      ms(r.peer && r.peer.p95 - PEER_WAIT_MS),
      bare === undefined ? "—" : `${(bare / r.keel.median).toFixed(0)}×`,
      ms(r.keelCompletion.median),
      ms(r.keelCompletionAgain.median),
      ms(r.peerCompletion?.median),
      `${ms(r.keelHover.median)} (p95 ${ms(r.keelHover.p95)})`,
      `${ms(r.keelTokens.median)} (p95 ${ms(r.keelTokens.p95)})`,
      misses.length ? `miss ${misses.join(", ")}` : "ok",
    ]);
  }
  console.log();
  console.log(table(rows));
  console.log();
  console.log(
    table([
      ["open files", "steps each", "Keel RSS MiB (empty → open)", "peer RSS MiB (empty → open)"],
      [
        String(OPEN_FILES),
        MEMORY_STEPS.toLocaleString("en"),
        `${keelMemory.before.toFixed(0)} → ${keelMemory.after.toFixed(0)}`,
        peerMemory ? `${peerMemory.before.toFixed(0)} → ${peerMemory.after.toFixed(0)}` : "—",
      ],
    ]),
  );
  console.log();
  const runs = results.map((r) => `${r.keel.n}/${r.peer?.n ?? 0}`).join(", ");
  console.log(
    [
      "Times in ms, measured by the client: didChange sent → publishDiagnostics for that edit received.",
      `Edits: a character typed into and deleted from a key in the middle step, alternately; ${runs}`,
      `  timed edits Keel/peer per size after ${WARM_UP_EDITS} (peer: 2) untimed ones.`,
      "Keel: dist/server.js --stdio with debounceMs 0. Its default debounce (150 ms), 1,000 steps:",
      `  median ${ms(debounce.median)} ms, p95 ${ms(debounce.p95)} ms.`,
      "peer: yaml-language-server 1.25.0 --stdio with schema/keel.schema.json for *.keel.yaml; it",
      `  waits ${PEER_WAIT_MS} ms after a change before validating: "peer −200 ms" takes that wait out.`,
      "peer/Keel: peer −200 ms median / Keel median.",
      "Completion at a key of the edited step, after each repair edit, twice: Keel answers from the",
      "  newest model already built (an edit inside one step does not rebuild it); the peer answers",
      "  from its parse.",
      "Hover (on the edited step's id) and semantic tokens (whole file) after each breaking",
      "  edit of a second series: they need every step's positions, which Keel splices from the",
      "  steps' own parses (core/check/splice.ts) instead of validating the file again.",
      `Memory: RSS of the server process with ${OPEN_FILES} copies of the ${MEMORY_STEPS.toLocaleString("en")}-step file open and validated.`,
      `Targets (docs/benchmarks.md): p95 ≤ ${TARGET_P95[1000]} ms at 1,000 steps, ≤ ${TARGET_P95[5000]} ms at 5,000; ≥ ${TARGET_RATIO}× faster than the peer.`,
      `Total ${((performance.now() - started) / 1000).toFixed(0)} s.`,
    ].join("\n"),
  );
}

main().catch((e: unknown) => fail(e instanceof Error ? (e.stack ?? e.message) : String(e)));
