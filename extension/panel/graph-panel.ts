// The graph panel's host side: one webview panel per workflow file, fed the file's graph as it is
// edited and the step states of its newest recorded run; selection follows the editor's cursor
// and the other way round. The webview is restored when a window reloads (a serializer).
import * as vscode from "vscode";
import { randomBytes } from "node:crypto";
import { validate, type WorkflowModel } from "@keel/core/check/validate";
import { LineIndex } from "@keel/core/model/line-index";
import { nodeHost } from "@keel/core/node/host";
import { graphView, stepAtLine } from "@keel/core/service/graph-view";
import {
  HostMessage,
  PanelMessage,
  type DebugMessage,
  type DiffMessage,
  type GraphMessage,
  type RecordingMessage,
  type StatusMessage,
} from "@keel/core/protocol/webview";
import { recording, valueText, workflowOfRun } from "../runs/last-run";

export const GRAPH_VIEW_TYPE = "keel.graph";

interface Analysed {
  readonly version: number;
  readonly model: WorkflowModel;
  readonly index: LineIndex;
  readonly graph: GraphMessage;
}

export class GraphPanel implements vscode.Disposable {
  private static readonly open = new Map<string, GraphPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastSelected: string | null = null;
  private latest: Analysed | undefined;
  private ready = false;
  private afterReady: DiffMessage | undefined;
  /** Where the replay debugger is, while a session steps through a run of this workflow. */
  private debugged: DebugMessage | undefined;
  /** The run whose recording the panel was last sent. */
  private shownRun: string | undefined;

  /** Shows the panel of the document's workflow, creating it beside the editor if needed. */
  static show(context: vscode.ExtensionContext, document: vscode.TextDocument): GraphPanel {
    const known = GraphPanel.open.get(document.uri.toString());
    if (known) {
      known.panel.reveal(vscode.ViewColumn.Beside, true);
      return known;
    }
    const panel = vscode.window.createWebviewPanel(
      GRAPH_VIEW_TYPE,
      `Graph: ${vscode.workspace.asRelativePath(document.uri)}`,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      GraphPanel.options(context),
    );
    return new GraphPanel(context, panel, document.uri);
  }

  /** Restores a panel VS Code kept across a reload. */
  static restore(context: vscode.ExtensionContext, panel: vscode.WebviewPanel, uri: vscode.Uri) {
    panel.webview.options = GraphPanel.options(context);
    return new GraphPanel(context, panel, uri);
  }

  private static options(context: vscode.ExtensionContext): vscode.WebviewOptions {
    return {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, "dist")],
    };
  }

  private constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly panel: vscode.WebviewPanel,
    private readonly uri: vscode.Uri,
  ) {
    GraphPanel.open.set(uri.toString(), this);
    panel.webview.html = this.html();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.toString() === this.uri.toString()) this.schedule();
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor.document.uri.toString() === this.uri.toString()) this.followCursor(e);
      }),
    );
  }

  /** The workflow whose graph panel has the focus, if one has: commands run on the graph's file. */
  static active(): vscode.Uri | undefined {
    for (const known of GraphPanel.open.values()) if (known.panel.active) return known.uri;
    return undefined;
  }

  /** Shows two runs of the panel's workflow compared (the graph is already there). */
  static diff(uri: vscode.Uri, message: DiffMessage): void {
    const panel = GraphPanel.open.get(uri.toString());
    if (!panel) return;
    // A panel opened just now is sent the graph when it says it is ready: the diff follows it.
    if (panel.ready) panel.post(message);
    else panel.afterReady = message;
  }

  /** Tells the panel about a run of its workflow: live states, or a recorded run to step through. */
  static status(uri: vscode.Uri, message: StatusMessage | RecordingMessage): void {
    const panel = GraphPanel.open.get(uri.toString());
    if (!panel) return;
    panel.shownRun = message.type === "recording" ? message.runId : undefined;
    panel.post(message);
  }

  /**
   * The replay debugger stopped (or ended, `active: false`) in a run of the panel's workflow: the
   * panel shows that run's recording at the debugger's event.
   */
  static async follow(uri: vscode.Uri, message: DebugMessage): Promise<void> {
    const panel = GraphPanel.open.get(uri.toString());
    if (!panel) return;
    panel.debugged = message.active ? message : undefined;
    if (!panel.ready) return; // sent when the panel says it is ready
    if (message.active && panel.shownRun !== message.runId) {
      const r = await recording(panel.uri.fsPath, message.runId);
      if (r) panel.post(r);
      panel.shownRun = message.runId;
    }
    panel.post(message);
  }

  dispose(): void {
    GraphPanel.open.delete(this.uri.toString());
    clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }

  private async receive(raw: unknown): Promise<void> {
    const parsed = PanelMessage.safeParse(raw);
    if (!parsed.success) {
      console.warn("keel: dropped a message from the graph panel", parsed.error.issues);
      return;
    }
    const m = parsed.data;
    if (m.type === "ready") {
      await this.sendGraph();
      // The run the panel was showing when its webview was (re)made, else the newest: a panel
      // brought back from behind other tabs stays on the run the user opened in it.
      const recorded = await recording(this.uri.fsPath, this.debugged?.runId ?? this.shownRun);
      if (recorded) this.post(recorded);
      this.shownRun = recorded?.runId;
      if (this.debugged) this.post(this.debugged);
      this.ready = true;
      if (this.afterReady) this.post(this.afterReady);
      this.afterReady = undefined;
    } else if (m.type === "value") {
      this.post({ type: "value", ref: m.ref, text: await valueText(this.uri.fsPath, m.ref) });
    } else if (m.type === "select") {
      await this.reveal(m.id);
    } else if (m.type === "debug") {
      await vscode.commands.executeCommand("keel.run.debug", {
        run: { id: m.runId, workflowPath: this.uri.fsPath },
        seq: m.seq,
      });
    } else if (m.type === "open") {
      await this.openRun(m.runId);
    } else if (m.type === "rerun") {
      await vscode.commands.executeCommand("keel.run.rerunFrom", {
        run: { id: m.runId, workflowPath: this.uri.fsPath },
        step: { id: m.from },
      });
    } else {
      await vscode.commands.executeCommand(
        m.what === "step" ? "keel.step.run" : "keel.step.runTo",
        this.uri,
        m.id,
      );
    }
  }

  /**
   * Shows a child run (or the parent run it came from) in its own workflow's panel: the panel is
   * opened beside if need be and sent that run's recording, read from this panel's store (a child
   * run is in its parent's).
   */
  private async openRun(runId: string): Promise<void> {
    const path = await workflowOfRun(this.uri.fsPath, runId);
    if (!path) {
      void vscode.window.showWarningMessage(
        `Keel: run ${runId} is not in this workspace's run store (.keel/runs.sqlite): it may have been deleted.`,
      );
      return;
    }
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(path));
    const target = GraphPanel.show(this.context, document);
    // A panel opened just now sends the run it is to show once it is ready.
    target.shownRun = runId;
    if (!target.ready) return;
    const r = await recording(this.uri.fsPath, runId);
    if (r) target.post(r);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.sendGraph(), 150);
  }

  private async document(): Promise<vscode.TextDocument> {
    return vscode.workspace.openTextDocument(this.uri);
  }

  /**
   * The document's graph, validated once per version: the graph message, cursor following and
   * revealing all read it (a cursor move never validates the file again).
   */
  private analysed(document: vscode.TextDocument): Analysed {
    if (this.latest?.version === document.version) return this.latest;
    const text = document.getText();
    const index = new LineIndex(text);
    const { model, diagnostics } = validate(text, { file: this.uri.fsPath, host: nodeHost });
    this.latest = {
      version: document.version,
      model,
      index,
      graph: graphView(model, diagnostics, index, this.uri.toString()),
    };
    return this.latest;
  }

  private async sendGraph(): Promise<void> {
    this.post(this.analysed(await this.document()).graph);
  }

  /** Selects the node of the step under the cursor, as of the last graph sent (typing lags 150 ms). */
  private followCursor(e: vscode.TextEditorSelectionChangeEvent): void {
    if (!this.latest) return;
    const id = stepAtLine(this.latest.model, this.latest.index, e.selections[0]!.active.line);
    if (id === this.lastSelected) return;
    this.lastSelected = id;
    this.post({ type: "select", id });
  }

  /** Puts the editor's cursor on the step's key. */
  private async reveal(id: string): Promise<void> {
    const document = await this.document();
    const step = this.analysed(document).graph.steps.find((s) => s.id === id);
    if (!step) return;
    this.lastSelected = id;
    const editor = await vscode.window.showTextDocument(document, {
      viewColumn: vscode.ViewColumn.One,
      preserveFocus: false,
    });
    const at = new vscode.Position(
      step.line,
      document.lineAt(step.line).firstNonWhitespaceCharacterIndex,
    );
    editor.selection = new vscode.Selection(at, at);
    editor.revealRange(
      new vscode.Range(at, at),
      vscode.TextEditorRevealType.InCenterIfOutsideViewport,
    );
  }

  private post(message: HostMessage): void {
    void this.panel.webview.postMessage(HostMessage.parse(message));
  }

  private html(): string {
    const webview = this.panel.webview;
    const dist = vscode.Uri.joinPath(this.context.extensionUri, "dist");
    const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, "webview.js"));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(dist, "webview.css"));
    const nonce = randomBytes(16).toString("base64");
    // The layout worker's file (webview/layout/use-layout.ts): fetched, this file only, and run
    // from a blob, as a worker's script must be same-origin and the webview's files are not.
    const worker = webview.asWebviewUri(vscode.Uri.joinPath(dist, "layout-worker.js"));
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource} 'unsafe-inline'`,
      `script-src 'nonce-${nonce}'`,
      `img-src ${webview.cspSource} data:`,
      `font-src ${webview.cspSource}`,
      `connect-src ${webview.cspSource}${worker.toString().replace(/^[a-z-]+:\/\/[^/]+/, "")}`,
      "worker-src blob:",
    ].join("; ");
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${style.toString()}">
<title>Keel graph</title></head>
<body><div id="root"></div>
<script nonce="${nonce}">const vscodeState = ${JSON.stringify({ uri: this.uri.toString() })};</script>
<script nonce="${nonce}" src="${script.toString()}"></script></body></html>`;
  }
}
