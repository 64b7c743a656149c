// Secrets end to end (docs/runner.md, "Secrets"): one workflow carries secrets into an http query,
// a JSON body, a base64 header, a prompt, a multi-line key on stderr, a 200-character cut of a
// "not JSON" error, and a file no step was given the secret for. Then every place Keel writes is
// searched for every form of every secret that Keel produces: the store file (with -wal), keel
// show, keel export, keel replay --json, an OTLP export, and a team's run on the workers (DBOS's
// tables and Keel's). No step inherits a KEEL_SECRET_*, the one it names reaches it, a secret of
// the environment no step reads is masked too, a too-short secret is refused by name, and a
// cached GET is not served to another credential.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import pg from "pg";
import { MemoryStore } from "@keel/core/store/memory-store";
import { inlineValue } from "@keel/core/record/refs";
import { openDefaultDriver } from "@keel/core/store/sql-driver";
import { keel, workspace } from "../helpers/cli";
import { keelAsync, startReceiver } from "../helpers/otlp";
import { postgresMissing, startPostgres, type ThrowawayPostgres } from "../helpers/postgres";
import { killWorkers, startWorkerProcess } from "../helpers/workers";
import { runText } from "../core/runner/harness";

const SECRETS = {
  /** In `query:`: form-encoded (a space is `+`), not Latin-1. */
  QUERY: "alpha beta+gamma/δ=1&2",
  /** In a JSON `body`: JSON-escaped in the request, escaped twice in the record. */
  BODY: 'quote"back\\slash-77',
  /** In `$base64encode`: base64 of its Latin-1 bytes. */
  LATIN: "Grüße-aus-Köln-42",
  /** On a failing command's stderr: its lines stand alone in the error's tail. */
  PEM: [
    "-----BEGIN TEST KEY-----",
    "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf",
    "9Cnzj4p4WGeKLs1Pt8QuKUpRKfFLfRYC9AIKjbJTWit",
    "-----END TEST KEY-----",
  ].join("\n"),
  /** Cut at 200 characters by "stdout is not JSON". */
  CUT: "cut-secret-0123456789abcdef",
  /** A bearer token of a cached GET, and in a prompt. */
  TOKEN: "bearer-token-alice-1",
  /** Read by no step. */
  UNREAD: "unread-secret-4242",
};
const BOB = "bearer-token-bob-22";
const envOf = (secrets: Record<string, string>) =>
  Object.fromEntries(Object.entries(secrets).map(([k, v]) => [`KEEL_SECRET_${k}`, v]));

/** Every form of a secret that Keel produces, to be found nowhere. */
function forms(value: string): string[] {
  const out = new Set<string>([value]);
  const escaped = JSON.stringify(value).slice(1, -1);
  out.add(escaped);
  out.add(JSON.stringify(escaped).slice(1, -1));
  out.add(encodeURIComponent(value));
  out.add(new URLSearchParams({ q: value }).toString().slice(2));
  for (const line of value.split("\n")) if (line.length >= 8) out.add(line);
  for (const encoding of ["utf8", "latin1"] as const) {
    const bytes = Buffer.from(value, encoding);
    for (let offset = 0; offset < 3; offset++) {
      const text = Buffer.concat([Buffer.alloc(offset), bytes]).toString("base64");
      const skip = Math.ceil((offset * 8) / 6);
      out.add(text.slice(skip, Math.floor(((offset + bytes.length) * 8) / 6)));
    }
  }
  return [...out].filter((f) => f.length >= 8);
}

const ALL = [...Object.values(SECRETS), BOB];

/** Where, in `text` (named `where`), a form of a secret is found. */
function leaks(where: string, text: string): string[] {
  const found: string[] = [];
  // The start of CUT that a 200-character cut leaves at the end of an error message.
  if (text.includes(SECRETS.CUT.slice(0, 10))) found.push(`${where}: the cut-off start of CUT`);
  for (const secret of ALL) {
    for (const form of forms(secret)) {
      if (text.includes(form))
        found.push(`${where}: ${JSON.stringify(form)} (of ${secret.slice(0, 12)}…)`);
    }
  }
  return found;
}

/** A file's bytes as text in which UTF-8 forms are found (SQLite stores text as UTF-8). */
function fileText(path: string): string {
  const latin1 = readFileSync(path).toString("latin1");
  return Buffer.from(latin1, "latin1").toString("utf8") + "\n" + latin1;
}

const FLOW = (echo: string) => `keel: 1
name: secrets
providers:
  m: { type: scripted, default: noted }
steps:
  query:
    type: http
    url: "${echo}/q"
    query: { q: "\${{ secrets.QUERY }}", page: "2" }
  body:
    type: http
    method: POST
    url: "${echo}/b"
    body: { note: "\${{ secrets.BODY }}", nested: { deep: "\${{ secrets.BODY }}" } }
  basic:
    type: http
    url: "${echo}/basic"
    headers: { Authorization: "\${{ 'Basic ' & $base64encode('me:' & secrets.LATIN) }}" }
  me:
    type: http
    url: "${echo}/me"
    headers: { Authorization: "Bearer \${{ secrets.TOKEN }}" }
    cache: true
  ask: { type: llm, prompt: "Use \${{ secrets.TOKEN }} and \${{ secrets.LATIN }}" }
  pem:
    type: shell
    command: [node, -e, "process.stderr.write(process.env.KEY + '\\\\n'); process.exit(3)"]
    env: { KEY: "\${{ secrets.PEM }}" }
    on_error: continue
  cut:
    type: shell
    command: [node, -e, "console.log('x'.repeat(190) + process.argv[1])", "\${{ secrets.CUT }}"]
    output: { format: json }
    on_error: continue
  given:
    type: shell
    command: [node, ./given.js]
    env: { GIVEN: "\${{ secrets.TOKEN }}" }
    output: { format: json }
  tool: { type: tool, uses: ./keys.js#keys }
  encoded:
    type: shell
    command: [node, -e, "const v = process.env.V; console.log(Buffer.from(v).toString('base64'), Buffer.from('xy' + v).toString('base64'), Buffer.from(process.env.Q).toString('base64'))"]
    env: { V: "\${{ secrets.LATIN }}", Q: "\${{ secrets.QUERY }}" }
outputs:
  given: steps.given.output.stdout
  tool: steps.tool.output
`;

// The step that names TOKEN gets it (its hash shows it), and nothing else: no KEEL_SECRET_*
// in its environment; the file it reads holds UNREAD, which it was never given.
const GIVEN = `const { createHash } = require("node:crypto");
const { readFileSync } = require("node:fs");
console.log(JSON.stringify({
  given: createHash("sha256").update(process.env.GIVEN).digest("hex"),
  inherited: Object.keys(process.env).filter((k) => k.startsWith("KEEL_SECRET_")),
  file: readFileSync("unread.txt", "utf8"),
}));
`;
const KEYS = `exports.keys = () => Object.keys(process.env).filter((k) => k.startsWith("KEEL_SECRET_"));\n`;

let echo: Server;
let echoUrl = "";
const authorizations: string[] = [];

before(async () => {
  echo = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url!, "http://x");
      if (url.pathname === "/me") authorizations.push(String(req.headers.authorization));
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({
          url: req.url,
          query: Object.fromEntries(url.searchParams),
          authorization: req.headers.authorization ?? null,
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
  const address = echo.address() as { port: number };
  echoUrl = `http://127.0.0.1:${address.port}`;
});
after(async () => {
  killWorkers();
  await new Promise((r) => echo.close(r));
});

const files = () => ({
  "secrets.keel.yaml": FLOW(echoUrl),
  "given.js": GIVEN,
  "keys.js": KEYS,
  "unread.txt": SECRETS.UNREAD,
});

test("no form of any secret in the store file, keel show, keel export, keel replay --json or OTLP; each step gets only the secrets it names", async () => {
  const dir = workspace({
    ...files(),
    "hello.keel.yaml": "keel: 1\nname: hello\nsteps:\n  a: { type: transform, expr: '1' }\n",
  });
  const env = envOf(SECRETS);
  // A connection held open from here keeps the runs' commits in runs.sqlite-wal (the last one
  // to close checkpoints it into the file): both files are searched.
  assert.equal(keel(["run", "hello.keel.yaml"], dir).code, 0);
  const holder = openDefaultDriver(join(dir, ".keel", "runs.sqlite"));
  holder.exec("SELECT count(*) FROM sqlite_master");
  const run = await keelAsync(["run", "secrets.keel.yaml", "--json"], dir, env);
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as {
    runId: string;
    outputs: { given: { given: string; inherited: string[]; file: string }; tool: string[] };
    steps: { id: string; status: string; cached: boolean }[];
  };
  const status = Object.fromEntries(result.steps.map((s) => [s.id, s.status]));
  assert.deepEqual(status, {
    query: "succeeded",
    body: "succeeded",
    basic: "succeeded",
    me: "succeeded",
    ask: "succeeded",
    pem: "failed",
    cut: "failed",
    given: "succeeded",
    tool: "succeeded",
    encoded: "succeeded",
  });
  // Item 7: the named secret reached its step; no KEEL_SECRET_* reached a command or a tool;
  // the secret no step reads is masked where it shows up anyway.
  const { given, tool } = result.outputs;
  assert.equal(given.given, createHash("sha256").update(SECRETS.TOKEN).digest("hex"));
  assert.deepEqual(given.inherited, []);
  assert.deepEqual(tool, []);
  assert.equal(given.file, "«secret:UNREAD»");

  const { runId } = result;
  const outputs: [string, string][] = [["keel run --json", run.stdout + run.stderr]];
  const show = keel(["show", runId], dir);
  assert.equal(show.code, 0, show.stderr);
  const showJson = keel(["show", runId, "--json"], dir);
  assert.equal(showJson.code, 0, showJson.stderr);
  outputs.push(["keel show", show.stdout + show.stderr], ["keel show --json", showJson.stdout]);
  // Each step as `keel show <run> <step>` prints it: its input, output, attempts and logs.
  for (const { id } of result.steps) {
    for (const json of [[], ["--json"]]) {
      const step = keel(["show", runId, id, ...json], dir);
      assert.equal(step.code, 0, `keel show ${id}: ${step.stderr}`);
      outputs.push([`keel show ${runId} ${id} ${json.join("")}`, step.stdout + step.stderr]);
    }
  }
  const exported = keel(["export", runId], dir);
  assert.equal(exported.code, 0, exported.stderr);
  outputs.push(["keel export", exported.stdout]);
  // Item 8: a secret in a query and in a body replays with no divergence.
  const replay = keel(["replay", runId, "--json"], dir);
  assert.equal(replay.code, 0, replay.stdout + replay.stderr);
  assert.equal(JSON.parse(replay.stdout).divergence, null);
  outputs.push(["keel replay --json", replay.stdout + replay.stderr]);
  const receiver = await startReceiver();
  try {
    const otel = await keelAsync(
      ["export", runId, "--otel", receiver.endpoint, "--otel-content"],
      dir,
    );
    assert.equal(otel.code, 0, otel.stderr);
    assert.ok(receiver.bodies.length > 0);
    outputs.push(["OTLP", receiver.bodies.join("\n")]);
  } finally {
    await receiver.close();
  }
  const store = join(dir, ".keel");
  for (const name of readdirSync(store))
    outputs.push([`.keel/${name}`, fileText(join(store, name))]);
  const wal = outputs.find(([where]) => where === ".keel/runs.sqlite-wal");
  assert.ok(wal?.[1].includes("«secret:UNREAD»"), "the run's commits are in the -wal file");
  assert.ok(outputs.some(([where]) => where === ".keel/runs.sqlite"));

  assert.deepEqual(
    outputs.flatMap(([where, text]) => leaks(where, text)),
    [],
  );
  // The masks are there, each in the encoding of what it replaced: the record is not empty.
  const golden = exported.stdout;
  for (const mark of [
    "%C2%ABsecret%3AQUERY%C2%BB", // the query, form-encoded as the request had it
    "«secret:BODY»",
    Buffer.from("me:«secret:LATIN»", "latin1").toString("base64"),
    "«secret:PEM»",
    "«secret:CUT»",
    "«secret:UNREAD»",
  ]) {
    assert.ok(golden.includes(mark), `the golden file shows ${mark}`);
  }

  // Item 10: the same GET with another bearer token is not answered from the cache.
  const bob = await keelAsync(["run", "secrets.keel.yaml", "--json"], dir, {
    ...env,
    KEEL_SECRET_TOKEN: BOB,
  });
  assert.equal(bob.code, 0, bob.stderr);
  const me = (JSON.parse(bob.stdout) as typeof result).steps.find((s) => s.id === "me")!;
  assert.equal(me.cached, false, "Bob is not served Alice's answer");
  assert.deepEqual(authorizations.slice(-2), [`Bearer ${SECRETS.TOKEN}`, `Bearer ${BOB}`]);
  for (const name of readdirSync(store)) {
    assert.deepEqual(leaks(`.keel/${name}`, fileText(join(store, name))), []);
  }
  holder.close();
});

test("a secret in env.KEEL_SECRET_* is refused with its fix, and a too-short secret is refused by name", async () => {
  const dir = workspace({
    "env.keel.yaml": `keel: 1
name: env
steps:
  a: { type: shell, command: [echo, "\${{ env.KEEL_SECRET_TOKEN }}"] }
`,
    "secrets.keel.yaml": FLOW(echoUrl),
    "given.js": GIVEN,
    "keys.js": KEYS,
    "unread.txt": "",
  });
  const validated = keel(["validate", "env.keel.yaml"], dir);
  assert.notEqual(validated.code, 0);
  assert.match(
    validated.stdout + validated.stderr,
    /KEEL403.*`env\.KEEL_SECRET_TOKEN`.*`secrets\.TOKEN`/,
  );
  const run = keel(["run", "env.keel.yaml"], dir, envOf(SECRETS));
  assert.equal(run.code, 2);
  const short = keel(["run", "secrets.keel.yaml"], dir, {
    ...envOf(SECRETS),
    KEEL_SECRET_PIN: "200",
  });
  assert.equal(short.code, 2);
  assert.match(short.stderr, /KEEL_SECRET_PIN is shorter than 6 characters/);
  assert.equal(existsSync(join(dir, ".keel", "runs.sqlite")), false, "nothing was recorded");
});

test("item 9: a one-character secret through the runner leaves every stored value valid JSON and the run recorded", async () => {
  const flow = `keel: 1
name: short
inputs:
  n: { type: number, default: 1 }
steps:
  a: { type: transform, expr: '{ "n": inputs.n, "list": [1, 11, 111], "text": "a1b" }' }
  b: { type: shell, command: [node, -e, "console.log(JSON.stringify({ v: 1, s: '1' }))"], output: { format: json } }
outputs:
  a: steps.a.output
  b: steps.b.output.stdout
`;
  const store = new MemoryStore();
  const { result } = await runText(flow, { store, secrets: { ONE: "1" } });
  assert.equal(result.status, "succeeded", result.error ?? "");
  // Numbers are numbers, strings are masked: the value was walked, not its JSON text.
  assert.deepEqual(result.outputs, {
    a: { n: 1, list: [1, 11, 111], text: "a«secret:ONE»b" },
    b: { v: 1, s: "«secret:ONE»" },
  });
  const runs = await store.listRuns({ limit: 10 });
  assert.deepEqual(
    runs.map((r) => [r.id, r.status]),
    [[result.runId, "succeeded"]],
  );
  for (const a of await store.attempts(result.runId)) {
    for (const ref of [a.inputHash, a.outputHash!]) {
      const text = inlineValue(ref) ?? (await store.blob(ref));
      assert.doesNotThrow(() => JSON.parse(text!), `${a.stepId}: ${text}`);
    }
  }
});

const missing = postgresMissing();
let server: ThrowawayPostgres | undefined;
after(() => server?.stop());

test(
  "a team's run: no form of any secret in DBOS's tables or Keel's",
  { skip: missing, timeout: 180_000 },
  async () => {
    server = await startPostgres();
    const url = server.urlOf("postgres");
    const dir = workspace(files());
    // A worker with a secret too short to mask does not start, and says which.
    const refused = startWorkerProcess(url, "w0", dir, join(dir, "effects.log"), [], {
      ...envOf(SECRETS),
      KEEL_SECRET_PIN: "200",
    });
    await assert.rejects(refused.ready, /exited \(2\)[^]*KEEL_SECRET_PIN is shorter than 6/);
    const worker = startWorkerProcess(url, "w1", dir, join(dir, "effects.log"), [], envOf(SECRETS));
    await worker.ready;
    const run = await keelAsync(["run", "secrets.keel.yaml", "--on", url, "--json"], dir);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const result = JSON.parse(run.stdout) as { runId: string; status: string };
    assert.equal(result.status, "succeeded");
    const show = keel(["show", result.runId, "--store", url, "--json"], dir);
    assert.equal(show.code, 0, show.stderr);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const texts: [string, string][] = [
      ["keel run --on", run.stdout + run.stderr],
      ["keel show", show.stdout],
    ];
    try {
      const tables = await client.query<{ s: string; t: string }>(
        `SELECT table_schema AS s, table_name AS t FROM information_schema.tables
         WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
      );
      const schemas = new Set(tables.rows.map((r) => r.s));
      assert.ok(schemas.size >= 2, `DBOS's tables and Keel's: ${[...schemas].join(", ")}`);
      // Each value as the driver reads it: text as it is stored, JSON as JSON, bytes as UTF-8.
      for (const { s, t } of tables.rows) {
        const rows = await client.query<Record<string, unknown>>(`SELECT * FROM "${s}"."${t}"`);
        const values = rows.rows.flatMap((r) =>
          Object.values(r).map((v) =>
            typeof v === "string" ? v : Buffer.isBuffer(v) ? v.toString("utf8") : JSON.stringify(v),
          ),
        );
        texts.push([`${s}.${t}`, values.join("\n")]);
      }
    } finally {
      await client.end();
    }
    const all = texts.map(([, t]) => t).join("\n");
    assert.ok(all.includes("«secret:UNREAD»"), "the run's steps are in the tables");
    assert.deepEqual(
      texts.flatMap(([where, text]) => leaks(where, text)),
      [],
    );
  },
);

test("an error printed outside any run masks the environment's secrets too", () => {
  const dir = workspace({});
  const token = SECRETS.TOKEN;
  const show = keel(["show", token], dir, envOf(SECRETS));
  const run = keel(["run", `missing-${token}.keel.yaml`], dir, envOf(SECRETS));
  for (const r of [show, run]) {
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /«secret:TOKEN»/);
    assert.deepEqual(leaks("stderr", r.stdout + r.stderr), []);
  }
});
