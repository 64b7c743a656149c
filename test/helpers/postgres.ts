// A throw-away PostgreSQL for tests: Debian's `postgresql` package (installed by .ci/run), one
// cluster per test file, made with `initdb` into a temporary folder and started with `pg_ctl` on
// a free 127.0.0.1 port and a Unix socket in that folder: no system service, nothing outside the
// folder. It is small (16 MB of shared buffers) and durable only as long as the test needs it
// (fsync off). PostgreSQL refuses to run as root, so when the tests run as root (CI does) the
// cluster belongs to the `postgres` user that the package creates, and initdb and pg_ctl run as
// that user through `runuser`; otherwise they run as the current user.
// Invariant: a cluster started here is stopped and its folder removed when the test file ends,
// also when it fails or is killed: `stop()` in an `after` hook, an exit handler, and a sentinel
// process that stops the cluster once the test process is gone (even after a SIGKILL).
import { spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ThrowawayPostgres {
  /** `postgres://keel@127.0.0.1:<port>/postgres`: the superuser `keel`, trusted on loopback. */
  readonly url: string;
  readonly port: number;
  /** A URL for another database of the same cluster. */
  urlOf(database: string): string;
  /** Stops the cluster and removes its folder; calling it twice is harmless. */
  stop(): void;
}

/** The folder holding initdb and pg_ctl: $KEEL_PG_BIN, else the newest Debian version, else PATH. */
export function postgresBinDir(): string | undefined {
  const fromEnv = process.env.KEEL_PG_BIN;
  if (fromEnv) return existsSync(join(fromEnv, "initdb")) ? fromEnv : undefined;
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => existsSync(join(debian, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(debian, versions[0], "bin");
  }
  const which = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" });
  const found = which.stdout.trim();
  return which.status === 0 && found ? join(found, "..") : undefined;
}

/**
 * Why the suite cannot start a PostgreSQL here, or undefined when it can. In CI (CI=true) a
 * missing PostgreSQL is a failure, not a skip: .ci/run installs it.
 */
export function postgresMissing(): string | undefined {
  if (postgresBinDir()) return undefined;
  const why = "PostgreSQL is not installed (apt-get install postgresql, or set KEEL_PG_BIN)";
  if (process.env.CI) throw new Error(why);
  return why;
}

const isRoot = () => process.getuid?.() === 0;

/** The uid and gid the cluster runs as: the `postgres` user when we are root. */
function clusterOwner(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("postgres:"));
  if (!line)
    throw new Error("running as root needs the `postgres` user (Debian's package makes it)");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/** The argv that runs `tool` from the PostgreSQL bin folder as the cluster's owner. */
function asOwner(bin: string, tool: string, args: string[]): string[] {
  const path = join(bin, tool);
  return isRoot() ? ["runuser", "-u", "postgres", "--", path, ...args] : [path, ...args];
}

function run(argv: string[]): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(`${argv.join(" ")} failed (${r.status}): ${r.stderr || r.stdout}`);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

/** Starts a new, empty cluster. Call `stop()` when done (an `after` hook). */
export async function startPostgres(): Promise<ThrowawayPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(postgresMissing() ?? "PostgreSQL is not installed");
  const dir = mkdtempSync(join(tmpdir(), "keel-pg-"));
  const owner = clusterOwner();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, "data");
  run(
    asOwner(bin, "initdb", [
      "-D",
      data,
      "-U",
      "keel",
      "--auth=trust",
      "--encoding=UTF8",
      "--no-locale",
      "--no-sync",
    ]),
  );
  let port = 0;
  let started = false;
  // The port is free when we look and taken by PostgreSQL a moment later; another process may
  // take it in between, so try a few.
  for (let i = 0; i < 5 && !started; i++) {
    port = await freePort();
    const options = [
      `-p ${port}`,
      `-k ${dir}`,
      "-c listen_addresses=127.0.0.1",
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off",
      "-c shared_buffers=16MB",
      "-c max_connections=80",
    ].join(" ");
    const argv = asOwner(bin, "pg_ctl", [
      ...["-D", data, "-l", join(dir, "log"), "-w", "-t", "60"],
      ...["-o", options, "start"],
    ]);
    started = spawnSync(argv[0]!, argv.slice(1), { stdio: "ignore" }).status === 0;
  }
  if (!started) {
    const log = existsSync(join(dir, "log")) ? readFileSync(join(dir, "log"), "utf8") : "";
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start:\n${log}`);
  }
  const stopArgv = asOwner(bin, "pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
  // The sentinel: once this process is gone, however it ended, stop the cluster and remove it.
  const sentinel = spawn(
    "sh",
    [
      "-c",
      'while kill -0 "$1" 2>/dev/null; do sleep 1; done; shift; "$@" >/dev/null 2>&1; rm -rf "$DIR"',
      "sentinel",
      String(process.pid),
      ...stopArgv,
    ],
    { detached: true, stdio: "ignore", env: { ...process.env, DIR: dir } },
  );
  sentinel.unref();
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", stop);
    spawnSync(stopArgv[0]!, stopArgv.slice(1), { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
    if (sentinel.pid !== undefined) {
      try {
        process.kill(sentinel.pid);
      } catch {
        // already gone
      }
    }
  };
  process.on("exit", stop);
  const urlOf = (database: string) => `postgres://keel@127.0.0.1:${port}/${database}`;
  return { url: urlOf("postgres"), port, urlOf, stop };
}
