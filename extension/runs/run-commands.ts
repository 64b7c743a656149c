// Commands on recorded runs, from the Runs view's context menus and the palette: replay, rerun
// from a step (after listing the steps that will touch the world again), export a golden file.
// Each is the CLI's command (`keel replay --json`, `keel rerun --plan`, `keel export`): the
// extension only asks, shows and saves. Each JSON answer is checked with its schema from
// core/protocol/cli.ts (cliJson); one the extension cannot read is an error the user is shown.
import * as vscode from "vscode";
import { writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { RunRecord } from "@keel/core/record/records";
import { cliJson, runCli, storeOf } from "./cli";
import type { RunManager } from "./run-manager";
import { ReplayResult, RerunPlan, RunDiff, RunList } from "@keel/core/protocol/cli";
import { GraphPanel } from "../panel/graph-panel";

/** What the Runs view hands a command: a run, or a step of a run. */
export interface RunArg {
  readonly run: Pick<RunRecord, "id" | "workflowPath">;
  readonly step?: { readonly id: string };
}

/** The handlers of the run commands, by command id. */
export function runCommands(
  context: vscode.ExtensionContext,
  runs: RunManager,
): Record<string, (arg?: RunArg) => Promise<void>> {
  const cwdOf = (run: RunArg["run"]) => dirname(run.workflowPath);
  const store = (run: RunArg["run"]) => storeOf(vscode.Uri.file(run.workflowPath));
  return {
    "keel.run.replay": async (arg?: RunArg) => {
      if (!arg?.run) return;
      const { run } = arg;
      const r = await cliJson(
        context,
        // An untrusted workspace's code does not run: its pure tools are answered from the record.
        [
          "replay",
          run.id,
          "--json",
          "--store",
          store(run),
          ...(vscode.workspace.isTrusted ? [] : ["--record-tools"]),
        ],
        cwdOf(run),
        ReplayResult,
      );
      if (!r.ok) {
        void vscode.window.showErrorMessage(`Keel: the replay failed: ${r.said}`);
        return;
      }
      const report = r.value;
      const d = report.divergence;
      if (!d) {
        void vscode.window.showInformationMessage(
          `Keel: replay of run ${run.id} reproduces it exactly (${report.effectsExecuted} effects executed).`,
        );
        return;
      }
      const pick = await vscode.window.showWarningMessage(
        `Keel: replay of run ${run.id} diverges at ${d.step === null ? "the outputs" : `step '${d.step}'`} (${d.field})${d.message ? `: ${d.message}` : ""}`,
        "Go to Step",
      );
      if (pick) {
        const doc = await vscode.workspace.openTextDocument(run.workflowPath);
        const line = Math.max(0, (d.line ?? 1) - 1);
        const editor = await vscode.window.showTextDocument(doc);
        editor.selection = new vscode.Selection(line, 0, line, 0);
        editor.revealRange(new vscode.Range(line, 0, line, 0));
      }
    },
    "keel.run.rerunFrom": async (arg?: RunArg) => {
      if (!arg?.run || !arg.step) return;
      const { run, step } = arg;
      const plan = await cliJson(
        context,
        ["rerun", run.id, "--from", step.id, "--plan", "--store", store(run)],
        cwdOf(run),
        RerunPlan,
      );
      if (!plan.ok) {
        void vscode.window.showWarningMessage(`Keel: cannot rerun: ${plan.said}`);
        return;
      }
      const { effectful, live } = plan.value;
      if (effectful.length > 0) {
        const go = await vscode.window.showWarningMessage(
          `Rerun from '${step.id}': ${live.length} steps run again, and these touch the world again: ${effectful.join(", ")}.`,
          { modal: true },
          "Rerun",
        );
        if (go !== "Rerun") return;
      }
      await runs.rerun(vscode.Uri.file(run.workflowPath), run.id, step.id);
    },
    "keel.run.diffWith": async (arg?: RunArg) => {
      if (!arg?.run) return;
      const { run } = arg;
      const listed = await cliJson(
        context,
        ["runs", run.workflowPath, "--json", "--store", store(run)],
        cwdOf(run),
        RunList,
      );
      if (!listed.ok) {
        void vscode.window.showErrorMessage(`Keel: cannot list the runs: ${listed.said}`);
        return;
      }
      const others = listed.value.filter((r) => r.id !== run.id);
      if (others.length === 0) {
        void vscode.window.showInformationMessage(
          "Keel: this workflow has no other run to compare.",
        );
        return;
      }
      const pick = await vscode.window.showQuickPick(
        others.map((r) => ({ label: r.id, description: `${r.status} · ${r.startedAt}` })),
        { title: `Compare run ${run.id} with…` },
      );
      if (!pick) return;
      // A before B: the older run first.
      const [a, b] = pick.label < run.id ? [pick.label, run.id] : [run.id, pick.label];
      const r = await cliJson(
        context,
        ["diff", a, b, "--json", "--store", store(run)],
        cwdOf(run),
        RunDiff,
      );
      if (!r.ok) {
        void vscode.window.showErrorMessage(`Keel: the diff failed: ${r.said}`);
        return;
      }
      const uri = vscode.Uri.file(run.workflowPath);
      await vscode.commands.executeCommand("keel.graph.open", uri);
      GraphPanel.diff(uri, { type: "diff", ...r.value });
    },
    "keel.run.export": async (arg?: RunArg) => {
      if (!arg?.run) return;
      const { run } = arg;
      const name = basename(run.workflowPath).replace(/\.keel\.ya?ml$/, "");
      const target = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.file(join(dirname(run.workflowPath), `${name}.keel-run.json`)),
        filters: { "Keel golden run": ["keel-run.json"] },
        title: "Export the run as a golden file (keel test replays it)",
      });
      if (!target) return;
      const r = await runCli(context, ["export", run.id, "--store", store(run)], cwdOf(run));
      if (r.code !== 0) {
        void vscode.window.showErrorMessage(`Keel: export failed: ${r.stderr.trim()}`);
        return;
      }
      await writeFile(target.fsPath, r.stdout);
      void vscode.window.showInformationMessage(
        `Keel: run exported to ${vscode.workspace.asRelativePath(target)}; \`keel test\` replays it.`,
      );
    },
  };
}
