// For the editor end-to-end test (run.sh): a team's database holding one run that a worker
// executed. It starts a throw-away PostgreSQL (test/helpers/postgres.ts), a `keel worker` in the
// workflow's folder, runs the workflow there with `keel run --on`, stops the worker, prints
// `<url> <run id>` on stdout, and keeps the database up until it gets SIGTERM (run.sh stops it
// after the editor checks; the helper's sentinel removes the cluster if this process is killed).
// Without PostgreSQL it prints `- -` and exits.
//   node --import tsx test/e2e/team-db.ts <workflow file>
import { spawn, spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { postgresMissing, startPostgres } from "../helpers/postgres";

const bin = join(__dirname, "..", "..", "bin", "keel.js");

async function main(): Promise<void> {
  const workflow = resolve(process.argv[2] ?? "");
  const cwd = dirname(workflow);
  // Without PostgreSQL (outside CI, where that is a failure) the editor test leaves Team runs out.
  const missing = postgresMissing();
  if (missing) {
    process.stderr.write(`team-db: ${missing}\n`);
    process.stdout.write("- -\n");
    return;
  }
  const db = await startPostgres();
  const stop = () => {
    db.stop();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  const worker = spawn(process.execPath, [bin, "worker", "--store", db.url, "--id", "e2e"], {
    cwd,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  await new Promise<void>((ready, fail) => {
    worker.stderr!.on("data", (c: Buffer) => {
      log += c.toString("utf8");
      if (log.includes(": ready on ")) ready();
    });
    worker.once("exit", (code) => fail(new Error(`the worker exited (${code}): ${log}`)));
  });
  const run = spawnSync(process.execPath, [bin, "run", workflow, "--on", db.url, "--json"], {
    cwd,
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(`keel run --on failed: ${run.stderr}${run.stdout}`);
  const { runId, status } = JSON.parse(run.stdout) as { runId: string; status: string };
  if (status !== "succeeded") throw new Error(`the team's run ${runId} ${status}`);
  await new Promise<void>((ended) => {
    worker.removeAllListeners("exit");
    worker.once("exit", () => ended());
    worker.kill("SIGTERM");
  });
  process.stdout.write(`${db.url} ${runId}\n`);
  // Up until run.sh is done with it.
  setInterval(() => {}, 1 << 30);
}

main().catch((e: unknown) => {
  process.stderr.write(`team-db: ${(e as Error).message}\n`);
  process.exit(1);
});
