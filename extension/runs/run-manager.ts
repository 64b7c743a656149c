// Runs in the editor. A run never blocks the extension host: it is `keel run --events` in a child
// process (the same CLI, store and runner as the terminal), whose event lines are fanned out to
// the graph panel, the status bar and the log; its end tells the language server, which
// refreshes the code lenses. Cancel sends SIGINT, as Ctrl-C does in a terminal: the runner
// records the cancel and `$always()` steps still run.
import * as vscode from "vscode";
import type { ChildProcess } from "node:child_process";
import { dirname } from "node:path";
import { validate } from "@keel/core/check/validate";
import { isObj } from "@keel/core/model/untyped";
import { withAncestors } from "@keel/core/graph/graph";
import { nodeHost } from "@keel/core/node/host";
import { effectfulSteps } from "@keel/core/service/trust";
import type { RunSummary } from "@keel/core/protocol/cli";
import { GraphPanel } from "../panel/graph-panel";
import type { Secrets } from "./secrets";
import { readEventsLine, spawnCli, storeOf } from "./cli";
import { otelArgs } from "./production-settings";
import { LiveReplies, liveStatus } from "./live-status";
import type { EventRecord } from "@keel/core/record/records";

export interface Selection {
  /** Run this step alone on the recorded outputs of its dependencies. */
  readonly step?: string;
  /** Run this step and everything it needs. */
  readonly to?: string;
}

interface Active {
  readonly child: ChildProcess;
  readonly uri: vscode.Uri;
  readonly events: EventRecord[];
  cancelled: boolean;
}

/** How often the graph panel is sent the live state at most. */
const STATUS_EVERY_MS = 100;

export class RunManager implements vscode.Disposable {
  private active: Active | undefined;
  private readonly status: vscode.StatusBarItem;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly secrets: Secrets,
    private readonly finished: (uri: vscode.Uri, runId: string | undefined) => void,
  ) {
    this.status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
    this.status.command = "keel.run.cancel";
  }

  dispose(): void {
    this.cancel();
    this.status.dispose();
  }

  get running(): boolean {
    return this.active !== undefined;
  }

  cancel(): void {
    if (!this.active || this.active.cancelled) return;
    this.active.cancelled = true;
    this.log.info("cancelling the run");
    this.active.child.kill("SIGINT");
  }

  /** Runs the workflow (or a selection of it) with a progress notification; resolves when it ends. */
  async run(uri: vscode.Uri, selection: Selection = {}): Promise<void> {
    const args = ["run", uri.fsPath, "--events", ...otelArgs()];
    if (selection.step) args.push("--step", selection.step);
    if (selection.to) args.push("--to", selection.to);
    const what = selection.step
      ? `step ${selection.step}`
      : selection.to
        ? `up to ${selection.to}`
        : vscode.workspace.asRelativePath(uri);
    await this.start(uri, selection, args, what);
  }

  /** A rerun of a recorded run from a step (confirmed by the caller), followed like a run. */
  async rerun(uri: vscode.Uri, runId: string, from: string): Promise<void> {
    const args = ["rerun", runId, "--from", from, "--yes", "--events", "--store", storeOf(uri)];
    await this.start(uri, {}, args, `a rerun from ${from}`);
  }

  private async start(
    uri: vscode.Uri,
    selection: Selection,
    args: string[],
    what: string,
  ): Promise<void> {
    if (this.active) {
      void vscode.window.showWarningMessage(
        `Keel is already running ${vscode.workspace.asRelativePath(this.active.uri)}: cancel it first.`,
      );
      return;
    }
    const document = await vscode.workspace.openTextDocument(uri);
    if (document.isDirty) await document.save();
    const refused = this.untrustedRefusal(document, selection);
    if (refused) {
      void vscode.window.showWarningMessage(refused);
      return;
    }
    const secretsEnv = await this.secrets.environment();
    await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Keel: running ${what}`,
        cancellable: true,
      },
      (progress, token) => {
        token.onCancellationRequested(() => this.cancel());
        return this.execute(uri, args, secretsEnv, (message) => progress.report({ message }));
      },
    );
  }

  /** Why an untrusted workspace may not run this, or undefined when it may. */
  private untrustedRefusal(
    document: vscode.TextDocument,
    selection: Selection,
  ): string | undefined {
    if (vscode.workspace.isTrusted) return undefined;
    const { model } = validate(document.getText(), { file: document.uri.fsPath, host: nodeHost });
    const only = selection.step
      ? new Set([selection.step])
      : selection.to
        ? withAncestors(model.graph, selection.to)
        : undefined;
    const effectful = effectfulSteps(model, only);
    if (effectful.length === 0) return undefined;
    return `This workspace is not trusted: Keel does not run steps that reach outside (${effectful.join(", ")}). Validation and replay still work; trust the workspace to run them.`;
  }

  private execute(
    uri: vscode.Uri,
    args: readonly string[],
    secretsEnv: Record<string, string>,
    report: (message: string) => void,
  ): Promise<void> {
    this.log.info(`keel ${args.join(" ")}`);
    const child = spawnCli(this.context, args, dirname(uri.fsPath), secretsEnv);
    const active: Active = { child, uri, events: [], cancelled: false };
    this.active = active;
    this.status.text = "$(sync~spin) Keel: running";
    this.status.tooltip = "Click to cancel the run";
    this.status.show();
    let runId: string | undefined;
    let result: RunSummary | undefined;
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const { stepIds, agents } = this.steps(uri);
    const live = new LiveReplies();
    const sendStatus = () => {
      timer = undefined;
      sent = Date.now();
      if (runId)
        GraphPanel.status(uri, liveStatus(runId, active.events, stepIds, live.replies, agents));
    };
    // At most one status every STATUS_EVERY_MS, however fast events and chunks come.
    const schedule = () => {
      if (!timer)
        timer = setTimeout(sendStatus, Math.max(0, STATUS_EVERY_MS - (Date.now() - sent)));
    };
    let buffered = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.trim()) continue;
        const parsed = readEventsLine(line);
        if (typeof parsed === "string") {
          this.log.warn(`keel ${args[0]} --events: ${parsed}, skipped: ${line.slice(0, 200)}`);
          continue;
        }
        if ("event" in parsed) {
          const e = parsed.event;
          runId ??= e.runId;
          active.events.push(e);
          // An item's or iteration's event names its unit (summarize[doc-17]: succeeded).
          if (e.stepId && e.type.startsWith("step_") && e.type !== "step_started")
            report(`${e.stepId}${e.scope ?? ""}: ${e.type.slice(5)}`);
          this.log.trace(`${e.seq} ${e.type}${e.stepId ? ` ${e.stepId}` : ""}`);
          schedule();
        } else if ("chunk" in parsed) {
          // A streamed step's text: the inspector shows its reply growing.
          live.add(runId, parsed.chunk);
          schedule();
        } else result = parsed.result;
      }
    });
    child.stderr!.setEncoding("utf8");
    // The CLI's own message (which file, line or store, and what to do) is what the user needs.
    let said = "";
    child.stderr!.on("data", (chunk: string) => {
      this.log.info(chunk.trimEnd());
      said = (said + chunk).slice(-2000);
    });
    return new Promise((resolve) => {
      const end = (code: number | null, failure?: Error, signal?: NodeJS.Signals | null) => {
        clearTimeout(timer);
        sendStatus();
        this.active = undefined;
        this.status.hide();
        const name = vscode.workspace.asRelativePath(uri);
        if (failure) {
          this.log.error(`keel run could not start: ${failure.message}`);
          void vscode.window.showErrorMessage(`Keel could not start the run: ${failure.message}`);
        } else if (result?.status === "succeeded" && result.findings.length) {
          // A success with findings (an output left null by skipped steps...) is never shown bare.
          const first = result.findings[0]!;
          this.log.info(`run ${runId} succeeded with findings`);
          for (const f of result.findings) this.log.warn(`${f.kind}: ${f.message}`);
          void vscode.window
            .showWarningMessage(
              `Keel: ${name} succeeded with ${result.findings.length} finding(s): ${first.message}`,
              "Show Log",
            )
            .then((pick) => pick && this.log.show());
        } else if (result?.status === "succeeded") {
          this.log.info(`run ${runId} succeeded`);
          void vscode.window.setStatusBarMessage(`$(check) Keel: ${name} succeeded`, 5000);
        } else if (result) {
          this.log.info(`run ${runId} ${result.status}${result.error ? `: ${result.error}` : ""}`);
          void vscode.window
            .showWarningMessage(
              `Keel: the run of ${name} ${result.status}${result.error ? `: ${result.error}` : ""}`,
              "Show Log",
            )
            .then((pick) => pick && this.log.show());
        } else if (active.cancelled) {
          // Cancelled before `keel run` could take the signal itself: nothing was recorded.
          this.log.info(`the run was cancelled before it started (${signal ?? `code ${code}`})`);
          void vscode.window.showInformationMessage(
            `Keel: the run of ${name} cancelled before it started: nothing was recorded`,
          );
        } else {
          void vscode.window
            .showErrorMessage(
              `Keel: keel run ended without a result: ${said.trim().split("\n").slice(-3).join(" ") || `keel exited with code ${code}`}`,
              "Show Log",
            )
            .then((pick) => pick && this.log.show());
        }
        this.finished(uri, runId);
        resolve();
      };
      child.on("error", (e) => end(null, e));
      child.on("close", (code, signal) => end(code, undefined, signal));
    });
  }

  /** The workflow's step ids, and which of them are agents (their nodes show their turns). */
  private steps(uri: vscode.Uri): { stepIds: string[]; agents: Set<string> } {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (!doc) return { stepIds: [], agents: new Set() };
    const { model } = validate(doc.getText());
    const top = isObj(model.yaml.value) ? model.yaml.value : {};
    const steps = isObj(top.steps) ? top.steps : {};
    const stepIds = model.graph.ids.slice();
    const agents = new Set(
      stepIds.filter((id) => {
        const step = steps[id];
        return isObj(step) && step.type === "agent";
      }),
    );
    return { stepIds, agents };
  }
}
