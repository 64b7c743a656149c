// Commands on recorded runs, from the Runs view's context menus and the palette: replay, rerun
// from a step (after listing the steps that will touch the world again), export a golden file.
// Each is the CLI's command (`keel replay --json`, `keel rerun --plan`, `keel export`): the
// extension only asks, shows and saves.
import * as vscode from "vscode";
import { writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { RunRecord } from "@keel/core/record/records";
import { runCli, storeOf } from "./cli";
import type { RunManager } from "./run-manager";
import { DiffMessage } from "@keel/core/protocol/webview";
import { GraphPanel } from "../panel/graph-panel";

/** What the Runs view hands a command: a run, or a step of a run. */
export interface RunArg {
  readonly run: Pick<RunRecord, "id" | "workflowPath">;
  readonly step?: { readonly id: string };
}

interface ReplayReport {
  readonly status: string;
  readonly effectsExecuted: number;
  readonly divergence: null | {
    readonly step: string;
    readonly field: string;
    readonly line?: number;
    readonly message?: string;
  };
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
      const r = await runCli(
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
      );
      let report: ReplayReport;
      try {
        report = JSON.parse(r.stdout) as ReplayReport;
      } catch {
        void vscode.window.showErrorMessage(`Keel: the replay failed: ${r.stderr.trim()}`);
        return;
      }
      const d = report.divergence;
      if (!d) {
        void vscode.window.showInformationMessage(
          `Keel: replay of run ${run.id} reproduces it exactly (${report.effectsExecuted} effects executed).`,
        );
        return;
      }
      const pick = await vscode.window.showWarningMessage(
        `Keel: replay of run ${run.id} diverges at step '${d.step}' (${d.field})${d.message ? `: ${d.message}` : ""}`,
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
      const plan = await runCli(
        context,
        ["rerun", run.id, "--from", step.id, "--plan", "--store", store(run)],
        cwdOf(run),
      );
      if (plan.code !== 0) {
        void vscode.window.showWarningMessage(`Keel: cannot rerun: ${plan.stderr.trim()}`);
        return;
      }
      const { effectful, live } = JSON.parse(plan.stdout) as {
        effectful: string[];
        live: string[];
      };
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
      const listed = await runCli(
        context,
        ["runs", run.workflowPath, "--json", "--store", store(run)],
        cwdOf(run),
      );
      const others = (
        JSON.parse(listed.stdout || "[]") as { id: string; status: string; startedAt: string }[]
      ).filter((r) => r.id !== run.id);
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
      const r = await runCli(context, ["diff", a, b, "--json", "--store", store(run)], cwdOf(run));
      const parsed = DiffMessage.safeParse({
        type: "diff",
        ...(JSON.parse(r.stdout || "null") as object),
      });
      if (!parsed.success) {
        void vscode.window.showErrorMessage(`Keel: the diff failed: ${r.stderr.trim()}`);
        return;
      }
      const uri = vscode.Uri.file(run.workflowPath);
      await vscode.commands.executeCommand("keel.graph.open", uri);
      GraphPanel.diff(uri, parsed.data);
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
