// The one stand-in for the `vscode` module the extension tests load the extension's code over
// (VS Code itself runs it in test/e2e). Just enough of the API for the code under test; every
// message shown, command executed and debug session started is recorded for the tests to assert
// on, and the settings, the workspace's trust and the active editor are the test's to set.
// installVscode() puts it where `import * as vscode from "vscode"` finds it: call it before the
// extension's modules are imported (they import their types only until then).
import Module from "node:module";
import { readFileSync } from "node:fs";

type Listener = (e: unknown) => void;

/** What the extension did through the stand-in, and what the test answers it. */
export interface StandIn {
  /** The messages shown, by kind, in order. */
  readonly shown: { readonly error: string[]; readonly warning: string[]; readonly info: string[] };
  /** `vscode.commands.executeCommand` calls: the command and its arguments. */
  readonly commands: unknown[][];
  /** The callbacks `vscode.commands.registerCommand` was given, by command. */
  readonly registered: Map<string, (...args: unknown[]) => unknown>;
  /** The configurations `vscode.debug.startDebugging` was given. */
  readonly started: unknown[];
  /** The status bar's passing messages (`window.setStatusBarMessage`). */
  readonly statusBar: string[];
  /** Settings by `section.key`, as `workspace.getConfiguration(section).get(key)` reads them. */
  readonly settings: Record<string, unknown>;
  /** The choice a message's action buttons answer (undefined: dismissed). */
  answer: string | undefined;
  trusted: boolean;
  activeTextEditor: unknown;
  /** The listeners of the debug session events (start, custom, end). */
  readonly listeners: Readonly<Record<"start" | "custom" | "end", Listener[]>>;
  /** The output channel the extension made last (`window.createOutputChannel`). */
  log: ReturnType<typeof recordingLog> | undefined;
  /** The `vscode` module itself. */
  readonly module: Record<string, unknown>;
}

/** A `LogOutputChannel` that keeps its lines (`level: text`) and counts `show()`. */
export function recordingLog() {
  const lines: string[] = [];
  const at = (level: string) => (text: string) => void lines.push(`${level}: ${text}`);
  return {
    lines,
    shown: 0,
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    appendLine: at("line"),
    show() {
      this.shown++;
    },
    dispose() {},
  };
}

function standIn(): StandIn {
  const disposable = { dispose() {} };
  const listeners = { start: [] as Listener[], custom: [] as Listener[], end: [] as Listener[] };
  const on = (name: keyof typeof listeners) => (f: Listener) => {
    listeners[name].push(f);
    return disposable;
  };
  const self: StandIn = {
    shown: { error: [], warning: [], info: [] },
    commands: [],
    registered: new Map(),
    started: [],
    statusBar: [],
    settings: {},
    answer: undefined,
    trusted: true,
    activeTextEditor: undefined,
    log: undefined,
    listeners,
    module: {},
  };
  const show = (kind: keyof StandIn["shown"]) => async (text: string) => {
    self.shown[kind].push(text);
    return self.answer;
  };
  class TreeItem {
    description?: string;
    tooltip?: string;
    iconPath?: unknown;
    contextValue?: string;
    command?: { command: string; arguments?: unknown[] };
    id?: string;
    resourceUri?: unknown;
    constructor(
      readonly label: string,
      readonly collapsibleState: number,
    ) {}
  }
  class EventEmitter {
    readonly event = () => disposable;
    fire() {}
    dispose() {}
  }
  Object.assign(self.module, {
    TreeItem,
    EventEmitter,
    TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
    StatusBarAlignment: { Left: 1, Right: 2 },
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    ThemeIcon: class {
      static readonly File = "file";
      constructor(readonly id: string) {}
    },
    ThemeColor: class {
      constructor(readonly id: string) {}
    },
    Uri: { file: (path: string) => ({ fsPath: path, toString: () => `file://${path}` }) },
    DebugAdapterInlineImplementation: class {
      constructor(readonly implementation: unknown) {}
    },
    debug: {
      onDidStartDebugSession: on("start"),
      onDidReceiveDebugSessionCustomEvent: on("custom"),
      onDidTerminateDebugSession: on("end"),
      registerDebugAdapterDescriptorFactory: () => disposable,
      registerDebugConfigurationProvider: () => disposable,
      startDebugging: async (_folder: unknown, config: unknown) => {
        self.started.push(config);
        return true;
      },
    },
    window: {
      get activeTextEditor() {
        return self.activeTextEditor;
      },
      showErrorMessage: show("error"),
      showWarningMessage: show("warning"),
      showInformationMessage: show("info"),
      showQuickPick: async () => undefined,
      createOutputChannel: () => (self.log = recordingLog()),
      registerTreeDataProvider: () => disposable,
      registerWebviewPanelSerializer: () => disposable,
      createStatusBarItem: () => ({ text: "", show() {}, hide() {}, dispose() {} }),
      setStatusBarMessage: (text: string) => {
        self.statusBar.push(text);
        return disposable;
      },
      withProgress: (
        _options: unknown,
        task: (progress: unknown, token: unknown) => Promise<unknown>,
      ) => task({ report() {} }, { onCancellationRequested: () => disposable }),
    },
    commands: {
      executeCommand: async (...args: unknown[]) => {
        self.commands.push(args);
      },
      registerCommand: (command: string, callback: (...args: unknown[]) => unknown) => {
        self.registered.set(command, callback);
        return disposable;
      },
    },
    workspace: {
      get isTrusted() {
        return self.trusted;
      },
      workspaceFolders: [],
      textDocuments: [],
      getWorkspaceFolder: () => undefined,
      /** A saved document of the file on disk. */
      openTextDocument: async (uri: { fsPath: string }) => ({
        uri,
        isDirty: false,
        getText: () => readFileSync(uri.fsPath, "utf8"),
      }),
      asRelativePath: (p: string) => p,
      createFileSystemWatcher: () => ({
        onDidChange: () => disposable,
        onDidCreate: () => disposable,
        onDidDelete: () => disposable,
        dispose() {},
      }),
      onDidChangeConfiguration: () => disposable,
      getConfiguration: (section: string) => ({
        get: (key: string) => self.settings[`${section}.${key}`],
      }),
    },
  });
  return self;
}

let installed: StandIn | undefined;

/** Makes `require("vscode")` the stand-in (once per test process); the stand-in to drive. */
export function installVscode(): StandIn {
  if (installed) return installed;
  const stand = standIn();
  const loader = Module as unknown as { _resolveFilename: (...a: unknown[]) => string };
  const resolve = loader._resolveFilename;
  loader._resolveFilename = function (this: unknown, request: unknown, ...rest: unknown[]) {
    return request === "vscode" ? "vscode" : resolve.call(this, request, ...rest);
  };
  (require.cache as Record<string, unknown>).vscode = {
    id: "vscode",
    filename: "vscode",
    loaded: true,
    exports: stand.module,
  };
  installed = stand;
  return stand;
}
