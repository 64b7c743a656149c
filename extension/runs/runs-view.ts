// The Runs view: the recorded runs of the workspace's store, newest first, grouped by workflow,
// each run's steps as its children, with their status icons. It refreshes when a run started
// here ends and when the store file changes (a run from a terminal). With `keel.runs.postgresUrl`
// set, a "Team runs" group lists the runs of that PostgreSQL store, read-only (opened with
// `readOnly: true`, which never creates or changes anything there); `pg` is loaded only then.
import * as vscode from "vscode";
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { shownStatus } from "@keel/core/node/liveness";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { isPgUrl } from "@keel/core/store/location";
import type { RunStore } from "@keel/core/store/run-store";
import { teamStoreUrl } from "./production-settings";
import { foldToEnd, type StepAt } from "@keel/core/record/fold";
import type { RunRecord } from "@keel/core/record/records";

const RUNS_PER_WORKFLOW = 20;

type Item =
  | { readonly kind: "team"; readonly url: string }
  | { readonly kind: "message"; readonly text: string }
  | { readonly kind: "workflow"; readonly path: string; readonly store: string }
  | { readonly kind: "run"; readonly run: RunRecord; readonly store: string }
  | {
      readonly kind: "step";
      readonly run: RunRecord;
      readonly step: StepAt;
      readonly team?: boolean;
    };

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
    this.settings = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("keel.runs.postgresUrl")) this.refresh();
    });
  }

  private readonly settings: vscode.Disposable;

  dispose(): void {
    clearTimeout(this.timer);
    this.settings.dispose();
    this.watcher.dispose();
    this.changed.dispose();
  }

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(item: Item): vscode.TreeItem {
    if (item.kind === "message") {
      const t = new vscode.TreeItem(item.text, vscode.TreeItemCollapsibleState.None);
      t.iconPath = new vscode.ThemeIcon("warning");
      return t;
    }
    if (item.kind === "team") {
      const t = new vscode.TreeItem("Team runs", vscode.TreeItemCollapsibleState.Collapsed);
      t.description = "PostgreSQL, read-only";
      t.tooltip = item.url.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
      t.iconPath = new vscode.ThemeIcon("server");
      t.contextValue = "team";
      return t;
    }
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
      const status = shownStatus(item.run, Date.now(), isPgUrl(item.store) ? "remote" : "local");
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
      const team = isPgUrl(item.store);
      t.id = `${team ? "team" : "run"}:${item.run.id}`;
      t.contextValue = team ? "teamRun" : "run";
      t.command = team
        ? {
            command: "keel.run.openTeamRun",
            title: "Open Team Run",
            arguments: [{ url: item.store, run: item.run }],
          }
        : {
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
    t.id = `${item.team ? "team" : "run"}:${item.run.id}:${s.id}`;
    t.contextValue = item.team ? "teamStep" : "step";
    return t;
  }

  async getChildren(item?: Item): Promise<Item[]> {
    if (!item) {
      const url = teamStoreUrl();
      return [...(await this.workflows()), ...(url ? [{ kind: "team", url } as const] : [])];
    }
    if (item.kind === "team") return this.teamWorkflows(item.url);
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
          team: isPgUrl(item.store),
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

  /** The workflows that have runs in the team's store; a message item when it cannot be read. */
  private async teamWorkflows(url: string): Promise<Item[]> {
    let runs: RunRecord[];
    try {
      runs = await this.withStore(url, (store) => store.listRuns({ limit: 1000 }));
    } catch (e) {
      return [{ kind: "message", text: `cannot read the team's runs: ${(e as Error).message}` }];
    }
    if (runs.length === 0) return [{ kind: "message", text: "no runs recorded yet" }];
    return [...new Set(runs.map((r) => r.workflowPath))]
      .sort()
      .map((path): Item => ({ kind: "workflow", path, store: url }));
  }

  private async withStore<T>(location: string, use: (store: RunStore) => Promise<T>): Promise<T> {
    const store = isPgUrl(location)
      ? await (await import("@keel/production")).openPgStore(location, { readOnly: true })
      : openSqliteStore(location);
    try {
      return await use(store);
    } finally {
      await store.close();
    }
  }
}
