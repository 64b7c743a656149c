// The one stand-in for the `vscode` module the extension tests load the extension's code over
// (VS Code itself runs it in test/e2e). Just enough of the API for the code under test; every
// message shown, command executed and debug session started is recorded for the tests to assert
// on, and the settings, the workspace's trust and the active editor are the test's to set.
// installVscode() puts it where `import * as vscode from "vscode"` finds it: call it before the
// extension's modules are imported (they import their types only until then).
import Module from "node:module";

type Listener = (e: unknown) => void;

/** What the extension did through the stand-in, and what the test answers it. */
export interface StandIn {
  /** The messages shown, by kind, in order. */
  readonly shown: { readonly error: string[]; readonly warning: string[]; readonly info: string[] };
  /** `vscode.commands.executeCommand` calls: the command and its arguments. */
  readonly commands: unknown[][];
  /** The configurations `vscode.debug.startDebugging` was given. */
  readonly started: unknown[];
  /** Settings by `section.key`, as `workspace.getConfiguration(section).get(key)` reads them. */
  readonly settings: Record<string, unknown>;
  /** The choice a message's action buttons answer (undefined: dismissed). */
  answer: string | undefined;
  trusted: boolean;
  activeTextEditor: unknown;
  /** The listeners of the debug session events (start, custom, end). */
  readonly listeners: Readonly<Record<"start" | "custom" | "end", Listener[]>>;
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
    started: [],
    settings: {},
    answer: undefined,
    trusted: true,
    activeTextEditor: undefined,
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
      createOutputChannel: () => recordingLog(),
    },
    commands: {
      executeCommand: async (...args: unknown[]) => {
        self.commands.push(args);
      },
    },
    workspace: {
      get isTrusted() {
        return self.trusted;
      },
      workspaceFolders: [],
      textDocuments: [],
      getWorkspaceFolder: () => undefined,
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
