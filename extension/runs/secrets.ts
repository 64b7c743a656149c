// Secrets for runs started in the editor: kept in VS Code's SecretStorage (the OS keychain), handed
// to `keel run` as KEEL_SECRET_<NAME> in its environment only. They never reach the store (the
// runner redacts them), the log or the webview. A secret not set here comes from the
// environment, as in a terminal.
import * as vscode from "vscode";

const NAMES_KEY = "keel.secretNames";
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class Secrets {
  constructor(private readonly context: vscode.ExtensionContext) {}

  private names(): string[] {
    return this.context.globalState.get<string[]>(NAMES_KEY, []);
  }

  /** The environment a run gets: KEEL_SECRET_<NAME> for every secret set in the editor. */
  async environment(): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const name of this.names()) {
      const value = await this.context.secrets.get(`keel.secret.${name}`);
      if (value !== undefined) env[`KEEL_SECRET_${name}`] = value;
    }
    return env;
  }

  async set(): Promise<void> {
    const name = await vscode.window.showInputBox({
      title: "Keel: Set Secret",
      prompt: "The secret's name, as workflows read it: ${{ secrets.NAME }}",
      validateInput: (v) =>
        NAME.test(v) ? undefined : "letters, digits and _, not starting with a digit",
    });
    if (!name) return;
    const value = await vscode.window.showInputBox({
      title: `Keel: value of ${name}`,
      prompt: "Kept in VS Code's secret storage; given to runs started here, never recorded",
      password: true,
    });
    if (value === undefined) return;
    await this.context.secrets.store(`keel.secret.${name}`, value);
    const names = new Set(this.names());
    names.add(name);
    await this.context.globalState.update(NAMES_KEY, [...names].sort());
    void vscode.window.showInformationMessage(`Keel: secret ${name} set.`);
  }

  async clear(): Promise<void> {
    const names = this.names();
    if (names.length === 0) {
      void vscode.window.showInformationMessage("Keel: no secret is set in the editor.");
      return;
    }
    const name = await vscode.window.showQuickPick(names, { title: "Keel: Clear Secret" });
    if (!name) return;
    await this.context.secrets.delete(`keel.secret.${name}`);
    await this.context.globalState.update(
      NAMES_KEY,
      names.filter((n) => n !== name),
    );
    void vscode.window.showInformationMessage(`Keel: secret ${name} cleared.`);
  }
}
