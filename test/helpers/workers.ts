// `keel worker` processes for the tests of a team's workers: started from the built CLI in a
// workspace, ready once they say so, killed at the end of the file whatever happened.
import { spawn, type ChildProcess } from "node:child_process";
import { bin } from "./cli";

const workers: ChildProcess[] = [];

export interface StartedWorker {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  log(): string;
}

export function startWorkerProcess(
  url: string,
  id: string,
  dir: string,
  effects: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): StartedWorker {
  const child = spawn(
    process.execPath,
    [bin, "worker", "--store", url, "--id", id, "--concurrency", "3", "--grace", "5s", ...extra],
    { cwd: dir, env: { ...process.env, KEEL_TEST_EFFECTS: effects, ...env } },
  );
  workers.push(child);
  let text = "";
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (c: Buffer) => {
      text += c.toString("utf8");
      if (text.includes(": ready on ")) resolve();
    });
    child.stdout!.on("data", () => {});
    child.on("exit", (code) => reject(new Error(`worker ${id} exited (${code}): ${text}`)));
  });
  return { child, ready, log: () => text };
}

/** Kills (SIGKILL) every worker this file started that is still running. */
export function killWorkers(): void {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill("SIGKILL");
}
