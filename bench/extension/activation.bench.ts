// Extension activation in a real VS Code (code-server, the end-to-end tests' recipe): the .vsix
// of `npm run package` is installed into a fresh profile, a workspace with the samples is opened
// in headless Chromium, and the extension's own log line says how long activate() took, and how
// long loading its code and activating took together. Five fresh starts; target ≤ 50 ms.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { chromium } from "playwright-core";

const ROOT = new URL("../..", import.meta.url).pathname;
const DIR = process.env.KEEL_E2E_DIR ?? join(process.env.TMPDIR ?? "/tmp", "keel-e2e");
const RUNS = 5;
const TARGET_MS = 50;

function must(r: ReturnType<typeof spawnSync>, what: string): void {
  if (r.status !== 0) {
    console.error(`error: ${what} failed`);
    process.exit(1);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function findLog(dir: string): string | undefined {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name === "Keel.log") return join(entry.parentPath, entry.name);
  }
  return undefined;
}

async function once(cs: string, node24: string, vsix: string): Promise<[number, number]> {
  const data = mkdtempSync(join(DIR, "bench-"));
  const ws = join(data, "workspace");
  cpSync(join(ROOT, "samples"), ws, { recursive: true });
  mkdirSync(join(data, "ud", "User"), { recursive: true });
  writeFileSync(join(data, "config.yaml"), "");
  writeFileSync(
    join(data, "ud", "User", "settings.json"),
    JSON.stringify({ "workbench.startupEditor": "none", "telemetry.telemetryLevel": "off" }),
  );
  const env = {
    ...process.env,
    EXTENSIONS_GALLERY: "{}",
    PATH: `${node24}/bin:${process.env.PATH}`,
  };
  const common = [
    "--config",
    join(data, "config.yaml"),
    "--user-data-dir",
    join(data, "ud"),
    "--extensions-dir",
    join(data, "ext"),
    "--disable-telemetry",
    "--disable-update-check",
  ];
  must(
    spawnSync(cs, [...common, "--install-extension", vsix], { env, stdio: "ignore" }),
    "installing the .vsix",
  );
  const port = await freePort();
  const server: ChildProcess = spawn(
    cs,
    [
      ...common,
      "--bind-addr",
      `127.0.0.1:${port}`,
      "--auth",
      "none",
      "--disable-workspace-trust",
      ws,
    ],
    { env, stdio: "ignore", detached: true },
  );
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
    ],
  });
  try {
    const page = await browser.newPage();
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await page.goto(`http://127.0.0.1:${port}/?folder=${ws}`, {
          waitUntil: "domcontentloaded",
        });
        break;
      } catch {
        if (Date.now() > deadline) throw new Error("code-server did not answer");
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    for (;;) {
      const log = findLog(join(data, "ud", "logs"));
      const line =
        log &&
        /activated in ([\d.]+) ms \(([\d.]+) ms with loading/.exec(readFileSync(log, "utf8"));
      if (line) return [Number(line[1]), Number(line[2])];
      if (Date.now() > deadline) throw new Error("the extension did not log its activation");
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    await browser.close();
    if (server.pid) process.kill(-server.pid);
    rmSync(data, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function main(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  must(
    spawnSync("bash", [join(ROOT, "test/e2e/setup.sh"), DIR], { stdio: "inherit" }),
    "the e2e setup",
  );
  const env = Object.fromEntries(
    readFileSync(join(DIR, "env"), "utf8")
      .trim()
      .split("\n")
      .map((l) => l.split("=", 2) as [string, string]),
  );
  const cs = join(env.TOOLS!, "node_modules/.bin/code-server");
  const vsix = join(DIR, "bench-keel.vsix");
  must(
    spawnSync(process.execPath, [join(ROOT, "scripts/package.mjs"), "--out", vsix], {
      cwd: ROOT,
      stdio: "ignore",
    }),
    "npm run package",
  );
  if (!existsSync(vsix)) process.exit(1);
  const activate: number[] = [];
  const withLoad: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const [a, l] = await once(cs, env.NODE24!, vsix);
    activate.push(a);
    withLoad.push(l);
    process.stderr.write(`  start ${i + 1}: activate ${a} ms, with loading ${l} ms\n`);
  }
  const cpu = cpus();
  console.log(
    `Keel extension activation — code-server 4.139.1 (Node 24), ${new Date().toISOString()}, ${cpu.length} cores`,
  );
  console.log("");
  console.log("                    median      max   target");
  const row = (name: string, xs: number[]) =>
    console.log(
      `${name.padEnd(18)}  ${median(xs).toFixed(1).padStart(6)}  ${Math.max(...xs)
        .toFixed(1)
        .padStart(7)}   ${median(xs) <= TARGET_MS ? "ok" : `miss >${TARGET_MS} ms`}`,
    );
  row("activate()", activate);
  row("load + activate", withLoad);
  console.log("");
  console.log(
    `${RUNS} fresh starts, each a new profile with the .vsix of npm run package; times from the`,
  );
  console.log(
    "extension's own log line (the language server starts in the background, not counted).",
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
