// The Runs view with `keel.runs.postgresUrl` set (issue #10), outside VS Code: the view's code
// over the tests' stand-in for the `vscode` module (vscode-stand-in.ts) and a throw-away
// PostgreSQL holding a team's run.
// The team's runs are listed under "Team runs" by workflow, open through keel.run.openTeamRun
// (which pulls it with the CLI, tested in test/cli, then shows it), show as running by their
// heartbeat, and a database is never written: the view opens it read-only.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { openPgStore } from "@keel/core/store/pg-store";
import { postgresMissing, startPostgres, type ThrowawayPostgres } from "../helpers/postgres";
import { run } from "../core/store/conformance";
import { installVscode } from "./vscode-stand-in";

const missing = postgresMissing();
let server: ThrowawayPostgres | undefined;
const { settings } = installVscode();
before(async () => {
  if (missing) return;
  server = await startPostgres();
});
after(() => server?.stop());

test(
  "with keel.runs.postgresUrl set, the Runs view lists the team's runs read-only, each opening through keel.run.openTeamRun",
  { skip: missing },
  async () => {
    const url = server!.urlOf("postgres");
    const store = await openPgStore(url);
    const now = new Date().toISOString();
    await store.commit({
      runs: [
        run("01A", { status: "succeeded", ownerPid: null, heartbeatAt: null, endedAt: now }),
        // On a worker elsewhere (no such process here), its heartbeat recent: running.
        run("01B", { ownerPid: 4_194_321, heartbeatAt: now, startedAt: now }),
        run("01C", { workflowPath: "/w/other.keel.yaml", status: "failed", ownerPid: null }),
        // Executed by the team's workers: no owner process, no heartbeat, running all the same.
        run("01D", {
          workflowPath: "/w/other.keel.yaml",
          ownerPid: null,
          heartbeatAt: null,
          startedAt: now,
        }),
      ],
    });
    await store.close();

    const { RunsView } = await import("../../extension/runs/runs-view");
    const view = new RunsView();
    try {
      assert.deepEqual(await view.getChildren(), [], "no setting: no team runs");
      settings["keel.runs.postgresUrl"] = url.replace("keel@", "keel:hunter2@");
      const [team] = await view.getChildren();
      assert.equal(team?.kind, "team");
      const teamItem = view.getTreeItem(team!);
      assert.equal(teamItem.label, "Team runs");
      assert.equal(String(teamItem.tooltip).includes("hunter2"), false);

      const workflows = await view.getChildren(team);
      assert.deepEqual(
        workflows.map((w) => (w.kind === "workflow" ? w.path : w.kind)),
        ["/w/flow.keel.yaml", "/w/other.keel.yaml"],
      );
      const runs = await view.getChildren(workflows[0]);
      assert.deepEqual(
        runs.map((r) => view.getTreeItem(r).label?.toString().split(" · ")[0]),
        ["running", "succeeded"],
      );
      const others = await view.getChildren(workflows[1]);
      assert.deepEqual(
        others.map((r) => view.getTreeItem(r).label?.toString().split(" · ")[0]),
        ["running", "failed"],
      );
      const item = view.getTreeItem(runs[1]!);
      assert.equal(item.contextValue, "teamRun");
      assert.equal(item.command?.command, "keel.run.openTeamRun");
      assert.equal((item.command?.arguments?.[0] as { run: { id: string } }).run.id, "01A");

      // A database without a Keel store shows a message, and is not given one.
      settings["keel.runs.postgresUrl"] = server!.urlOf("template1");
      const [empty] = await view.getChildren();
      const [message] = await view.getChildren(empty);
      assert.match(
        String(view.getTreeItem(message!).label),
        /cannot read the team's runs: no Keel run store/,
      );
      const client = new pg.Client(server!.urlOf("template1"));
      await client.connect();
      const schemas = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = 'keel'");
      await client.end();
      assert.equal(schemas.rowCount, 0);
    } finally {
      view.dispose();
      delete settings["keel.runs.postgresUrl"];
    }
  },
);
