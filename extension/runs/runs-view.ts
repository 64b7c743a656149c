// The Runs view: the recorded runs of the workspace's store, newest first, grouped by workflow,
// each run's steps as its children, with their status icons. It refreshes when a run started
// here ends and when the store file changes (a run from a terminal).
import * as vscode from "vscode";
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { shownStatus } from "@keel/core/node/liveness";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { foldToEnd, type StepAt } from "@keel/core/replay/fold";
import type { RunRecord } from "@keel/core/store/records";

const RUNS_PER_WORKFLOW = 20;

type Item =
  | { readonly kind: "workflow"; readonly path: string; readonly store: string }
  | { readonly kind: "run"; readonly run: RunRecord; readonly store: string }
  | { readonly kind: "step"; readonly run: RunRecord; readonly step: StepAt };

const ICON: Record<string, [string, string | undefined]> = {
  succeeded: ["pass", "testing.iconPassed"],
  failed: ["error", "testing.iconFailed"],
  running: ["sync~spin", undefined],
  interrupted: ["debug-disconnect", "testing.iconErrored"],
  cancelled: ["circle-slash", undefined],
  skipped: ["debug-step-over", undefined],
  pending: ["circle-outline", undefined],
};

function icon(status: string): vscode.ThemeIcon {
  const [id, colour] = ICON[status] ?? ["circle-outline", undefined];
  return new vscode.ThemeIcon(id, colour ? new vscode.ThemeColor(colour) : undefined);
}

function ago(iso: string): string {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(iso).toLocaleString();
}

export class RunsView implements vscode.TreeDataProvider<Item>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly watcher: vscode.FileSystemWatcher;
  private timer: NodeJS.Timeout | undefined;

  constructor() {
    this.watcher = vscode.workspace.createFileSystemWatcher("**/.keel/runs.sqlite*");
    const soon = () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.refresh(), 300);
    };
    this.watcher.onDidChange(soon);
    this.watcher.onDidCreate(soon);
    this.watcher.onDidDelete(soon);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.watcher.dispose();
    this.changed.dispose();
  }

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(item: Item): vscode.TreeItem {
    if (item.kind === "workflow") {
      const t = new vscode.TreeItem(basename(item.path), vscode.TreeItemCollapsibleState.Expanded);
      const relative = vscode.workspace.asRelativePath(item.path);
      if (relative !== basename(item.path)) t.description = relative;
      t.resourceUri = vscode.Uri.file(item.path);
      t.iconPath = vscode.ThemeIcon.File;
      t.contextValue = "workflow";
      return t;
    }
    if (item.kind === "run") {
      const status = shownStatus(item.run);
      const t = new vscode.TreeItem(
        `${status} · ${ago(item.run.startedAt)}`,
        vscode.TreeItemCollapsibleState.Collapsed,
      );
      const ms = item.run.endedAt
        ? Date.parse(item.run.endedAt) - Date.parse(item.run.startedAt)
        : undefined;
      t.description = [ms === undefined ? "" : `${(ms / 1000).toFixed(1)} s`, item.run.mode]
        .filter(Boolean)
        .join(" · ");
      t.tooltip = `${item.run.id}\n${item.run.workflowPath}${item.run.error ? `\n${item.run.error}` : ""}`;
      t.iconPath = icon(status);
      t.id = `run:${item.run.id}`;
      t.contextValue = "run";
      t.command = {
        command: "keel.run.showInGraph",
        title: "Show in Graph",
        arguments: [item.run.workflowPath, item.run.id],
      };
      return t;
    }
    const s = item.step;
    const t = new vscode.TreeItem(s.id, vscode.TreeItemCollapsibleState.None);
    t.description = [
      s.status,
      s.origin && s.origin !== "live" ? s.origin : "",
      s.attempts > 1 ? `${s.attempts} attempts` : "",
      s.error ? `${s.error.kind}: ${s.error.message}` : "",
    ]
      .filter(Boolean)
      .join(" · ");
    t.iconPath = icon(s.status);
    t.id = `run:${item.run.id}:${s.id}`;
    t.contextValue = "step";
    return t;
  }

  async getChildren(item?: Item): Promise<Item[]> {
    if (!item) return this.workflows();
    if (item.kind === "workflow") {
      return this.withStore(item.store, async (store) =>
        (await store.listRuns({ workflowPath: item.path, limit: RUNS_PER_WORKFLOW })).map(
          (run): Item => ({ kind: "run", run, store: item.store }),
        ),
      );
    }
    if (item.kind === "run") {
      return this.withStore(item.store, async (store) => {
        const [events, attempts] = await Promise.all([
          store.events(item.run.id),
          store.attempts(item.run.id),
        ]);
        return [...foldToEnd(events, attempts).steps()].map((step): Item => ({
          kind: "step",
          run: item.run,
          step,
        }));
      });
    }
    return [];
  }

  /** The workflows that have runs, in each workspace folder's store. */
  private async workflows(): Promise<Item[]> {
    const out: Item[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const file = join(folder.uri.fsPath, ".keel", "runs.sqlite");
      if (!existsSync(file)) continue;
      const runs = await this.withStore(file, (store) => store.listRuns({ limit: 1000 }));
      const paths = [...new Set(runs.map((r) => r.workflowPath))].sort();
      for (const path of paths) out.push({ kind: "workflow", path, store: file });
    }
    return out;
  }

  private async withStore<T>(
    file: string,
    use: (store: ReturnType<typeof openSqliteStore>) => Promise<T>,
  ): Promise<T> {
    const store = openSqliteStore(file);
    try {
      return await use(store);
    } finally {
      await store.close();
    }
  }
}
