// The replay debugger in VS Code (docs/debugger.md, #9): debug type `keel-replay`, its adapter
// inline in the extension host (the core's session, over the workspace's run store), its launch
// configurations, "Keel: Step Through Run…" and the graph panel following every stop.
// Nothing here executes a step: the session only reads the record.
import * as vscode from "vscode";
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import {
  GOTO_REQUEST,
  POSITION_EVENT,
  ReplayDebugSession,
  type PositionBody,
  type ReplayLaunchArgs,
} from "@keel/core/debug/session";
import { nodeReplayHost } from "@keel/core/debug/node-host";
import { shownStatus } from "@keel/core/node/liveness";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import type { RunRecord } from "@keel/core/record/records";
import { GraphPanel } from "../panel/graph-panel";
import type { DebugMessage } from "@keel/core/protocol/webview";

export const DEBUG_TYPE = "keel-replay";

/** What "Keel: Step Through Run…" accepts: a Runs-view run, optionally the event to stop at. */
export interface DebugArg {
  readonly run?: Pick<RunRecord, "id" | "workflowPath">;
  readonly seq?: number;
}

interface KeelConfig extends vscode.DebugConfiguration, ReplayLaunchArgs {}

export class ReplayDebugging implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  /** Each running session's run and where it stopped last, by session id. */
  private readonly sessions = new Map<
    string,
    { readonly session: vscode.DebugSession; at?: PositionBody }
  >();

  constructor(
    private readonly context: vscode.ExtensionContext,
    /** Moves (or stops) the graph panel of a workflow with the session: GraphPanel.follow. */
    private readonly followPanel: (uri: vscode.Uri, message: DebugMessage) => Promise<void> = (
      uri,
      message,
    ) => GraphPanel.follow(uri, message),
  ) {
    this.disposables.push(
      vscode.debug.onDidStartDebugSession((s) => {
        if (s.type === DEBUG_TYPE) this.sessions.set(s.id, { session: s });
      }),
      vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
        if (e.session.type !== DEBUG_TYPE || e.event !== POSITION_EVENT) return;
        const at = e.body as PositionBody;
        const known = this.sessions.get(e.session.id);
        const first = !known?.at;
        this.sessions.set(e.session.id, { session: e.session, at });
        // Stepping into a child run (or back out) moves to another workflow's panel: the one
        // left is no longer following.
        const left = known?.at;
        if (left && (left.workflow !== at.workflow || left.runId !== at.runId))
          void this.followPanel(vscode.Uri.file(left.workflow), {
            type: "debug",
            runId: left.runId,
            active: false,
          });
        void this.follow(at, first);
      }),
      vscode.debug.onDidTerminateDebugSession((s) => {
        const at = this.sessions.get(s.id)?.at;
        this.sessions.delete(s.id);
        if (at)
          void this.followPanel(vscode.Uri.file(at.workflow), {
            type: "debug",
            runId: at.runId,
            active: false,
          });
      }),
    );
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  /** The inline adapter of a session: the core's session class over the workspace's store. */
  adapter(session: vscode.DebugSession): vscode.DebugAdapterDescriptor {
    const cwd = session.workspaceFolder?.uri.fsPath ?? process.cwd();
    const disk = nodeReplayHost(cwd);
    const adapter = new ReplayDebugSession({
      openStore: (args) => disk.openStore(args),
      // The editor's text when the file is open (breakpoint lines are the editor's).
      readText: (path) =>
        vscode.workspace.textDocuments.find((d) => d.uri.fsPath === path)?.getText() ??
        disk.readText(path),
    });
    return new vscode.DebugAdapterInlineImplementation(adapter as unknown as vscode.DebugAdapter);
  }

  /** F5 without a launch.json, or a configuration without a run: the active workflow's latest run. */
  resolve(config: vscode.DebugConfiguration): vscode.DebugConfiguration | undefined {
    const c: vscode.DebugConfiguration = { ...config };
    const active = vscode.window.activeTextEditor?.document;
    if (!c.type) {
      if (active?.languageId !== "keel") {
        void vscode.window.showInformationMessage(
          "Keel: open a *.keel.yaml workflow, or use “Keel: Step Through Run…”, to step through a recorded run.",
        );
        return undefined;
      }
      Object.assign(c, {
        type: DEBUG_TYPE,
        request: "launch",
        name: `Step through the latest run of ${basename(active.uri.fsPath)}`,
      });
    }
    if (!c.workflow && active?.languageId === "keel") c.workflow = active.uri.fsPath;
    c.runId ??= "latest";
    // The store is found from the workflow (docs/cli.md, "keel run"); a run id alone needs the
    // workspace's.
    if (!c.workflow && !c.store && vscode.workspace.workspaceFolders?.[0])
      c.store = join(vscode.workspace.workspaceFolders[0].uri.fsPath, ".keel", "runs.sqlite");
    return c;
  }

  /** Configurations offered for a new launch.json. */
  initial(): vscode.DebugConfiguration[] {
    return [
      {
        type: DEBUG_TYPE,
        request: "launch",
        name: "Step through the latest run",
        runId: "latest",
        workflow: "${file}",
      },
    ];
  }

  /**
   * "Keel: Step Through Run…": the run given (Runs view, graph panel) or picked, from its first
   * event or from `seq`. A session already stepping through that run is moved instead.
   */
  async stepThrough(arg?: DebugArg): Promise<void> {
    const run = arg?.run ?? (await this.pick());
    if (!run) return;
    const running = [...this.sessions.values()].find((s) => s.at?.runId === run.id)?.session;
    if (running && arg?.seq !== undefined) {
      await running.customRequest(GOTO_REQUEST, { seq: arg.seq });
      return;
    }
    const uri = vscode.Uri.file(run.workflowPath);
    if (!vscode.workspace.isTrusted && !(await this.debugUntrusted(run))) return;
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    const config: KeelConfig = {
      type: DEBUG_TYPE,
      request: "launch",
      name: `Step through run ${run.id.slice(-8)} of ${basename(run.workflowPath)}`,
      runId: run.id,
      workflow: run.workflowPath,
      ...(arg?.seq === undefined ? {} : { seq: arg.seq }),
    };
    await vscode.debug.startDebugging(folder, config);
  }

  /**
   * In Restricted Mode VS Code asks for trust before any debug session, whatever its type. The
   * replay executes nothing, so say so, and offer the graph panel's step-through, which needs no
   * trust. True: go on (VS Code then asks to trust the folder).
   */
  private async debugUntrusted(run: Pick<RunRecord, "id" | "workflowPath">): Promise<boolean> {
    const inGraph = "Step Through in the Graph";
    const debug = "Open the Debugger…";
    const pick = await vscode.window.showInformationMessage(
      "Keel: VS Code turns its debugger off in Restricted Mode and asks to trust the folder first. The replay debugger executes nothing; the graph panel's step-through works without trust.",
      inGraph,
      debug,
    );
    if (pick === inGraph)
      await vscode.commands.executeCommand("keel.run.showInGraph", run.workflowPath, run.id);
    return pick === debug;
  }

  /** The workspace's recorded runs, newest first. */
  private async pick(): Promise<RunRecord | undefined> {
    const runs: RunRecord[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const file = join(folder.uri.fsPath, ".keel", "runs.sqlite");
      if (!existsSync(file)) continue;
      const store = openSqliteStore(file);
      try {
        runs.push(...(await store.listRuns({ limit: 100 })));
      } finally {
        await store.close();
      }
    }
    if (runs.length === 0) {
      void vscode.window.showInformationMessage(
        "Keel: no recorded runs yet. Run a workflow first (the ▶ lens above `steps:`, or `keel run`).",
      );
      return undefined;
    }
    runs.sort((a, b) => (a.id < b.id ? 1 : -1));
    const picked = await vscode.window.showQuickPick(
      runs.map((r) => ({
        label: `${r.workflowName}`,
        description: `${shownStatus(r)} · ${new Date(r.startedAt).toLocaleString()} · ${r.mode}`,
        detail: `${r.id} · ${vscode.workspace.asRelativePath(r.workflowPath)}`,
        run: r,
      })),
      {
        title: "Keel: Step Through Run",
        placeHolder: "A recorded run to step through (newest first)",
        matchOnDetail: true,
      },
    );
    return picked?.run;
  }

  /** A stop: the graph panel of the run's workflow (opened beside at the first) moves to it. */
  private async follow(p: PositionBody, first: boolean): Promise<void> {
    const uri = vscode.Uri.file(p.workflow);
    if (first && existsSync(p.workflow)) {
      const document = await vscode.workspace.openTextDocument(uri);
      GraphPanel.show(this.context, document);
    }
    await this.followPanel(uri, {
      type: "debug",
      runId: p.runId,
      active: true,
      index: p.index,
      stepId: p.stepId,
    });
  }
}
