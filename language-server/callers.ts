// The workflows of the workspace that call a child workflow file, for references (and the
// "N callers" lens) of a child, and those whose llm steps use a prompt file (its references and
// the rename of its inputs). The workspace folders are searched for `*.keel.yaml` once, on the
// first question; the list then follows didChangeWatchedFiles (created, changed, deleted) and the
// documents opened in the editor. A file's text is its open document's, else read from disk once
// and again after a watched-file event for it; only the files whose text names the child's file
// are parsed, and a parse is kept while the text stays the same.
import { basename } from "node:path";
import { pathToFileURL } from "node:url";
import { validate, type WorkflowModel } from "@keel/core/check/validate";
import { LineIndex } from "@keel/core/index";
import { callsOf, type ChildCall } from "@keel/core/service/children";
import { findWorkflowFiles, nodeHost } from "@keel/core/node/host";
import { promptFileUses, type PromptFileUse } from "@keel/core/service/prompt-files";
import { filePath, type Workspace } from "./workspace";

/** A workflow file that calls the child, with its calls. */
export interface Caller {
  readonly uri: string;
  readonly index: LineIndex;
  readonly calls: readonly ChildCall[];
}

/** A workflow file whose llm steps use a prompt file. */
export interface PromptUser {
  readonly uri: string;
  readonly index: LineIndex;
  readonly uses: readonly PromptFileUse[];
}

const WORKFLOW = /\.keel\.ya?ml$/;

export class Callers {
  private folders: readonly string[] = [];
  private files?: Set<string>;
  /** Files' text on disk (undefined: unreadable), until a watched-file event for them. */
  private readonly disk = new Map<string, string | undefined>();
  private readonly parsed = new Map<
    string,
    { text: string; model: WorkflowModel; index: LineIndex }
  >();

  constructor(private readonly workspace: Workspace) {}

  /** The workspace folders (paths) to search; forgets an earlier search. */
  setFolders(folders: readonly string[]): void {
    this.folders = folders;
    this.files = undefined;
  }

  /** A workflow file was created, changed or deleted on disk. */
  fileEvent(path: string, deleted: boolean): void {
    if (!WORKFLOW.test(path)) return;
    this.disk.delete(path);
    if (deleted) {
      this.files?.delete(path);
      this.parsed.delete(path);
    } else this.files?.add(path);
  }

  /** The workflows that call the file `child` (an absolute path), in path order. */
  of(child: string): Caller[] {
    return this.scan(child, (model, path) =>
      callsOf(model, (uses) => nodeHost.resolve(path, uses), child),
    ).map(({ uri, index, found }) => ({ uri, index, calls: found }));
  }

  /** The workflows whose llm steps use the prompt file `file` (an absolute path), in path order. */
  promptUsers(file: string): PromptUser[] {
    return this.scan(file, (model, path) =>
      promptFileUses(model, (p) => nodeHost.resolve(path, p), file),
    ).map(({ uri, index, found }) => ({ uri, index, uses: found }));
  }

  /** The workspace's workflows whose text names `file`'s name, with what `find` finds in each. */
  private scan<T>(
    file: string,
    find: (model: WorkflowModel, path: string) => T[],
  ): { uri: string; index: LineIndex; found: T[] }[] {
    this.files ??= new Set(this.folders.length ? findWorkflowFiles(this.folders).files : []);
    const uris = new Map<string, string>([...this.files].map((p) => [p, pathToFileURL(p).href]));
    for (const doc of this.workspace.documents.all()) {
      const path = filePath(doc.uri);
      if (path && this.workspace.isWorkflow(doc.uri)) uris.set(path, doc.uri);
    }
    const name = basename(file);
    const out: { uri: string; index: LineIndex; found: T[] }[] = [];
    for (const [path, uri] of [...uris].sort(([a], [b]) => a.localeCompare(b))) {
      const doc = this.workspace.documents.get(uri);
      const text = doc ? doc.getText() : this.diskText(path);
      if (text === undefined || !text.includes(name)) continue;
      const open = doc && this.workspace.analysis(uri);
      const known = open ? { model: open.model, index: open.index } : this.parse(path, text);
      const found = find(known.model, path);
      if (found.length > 0) out.push({ uri, index: known.index, found });
    }
    return out;
  }

  private diskText(path: string): string | undefined {
    if (!this.disk.has(path)) this.disk.set(path, nodeHost.readFile(path));
    return this.disk.get(path);
  }

  /** A file not open in the editor, validated without reading its children. */
  private parse(path: string, text: string): { model: WorkflowModel; index: LineIndex } {
    const hit = this.parsed.get(path);
    if (hit && hit.text === text) return hit;
    const made = { text, model: validate(text, { file: path }).model, index: new LineIndex(text) };
    this.parsed.set(path, made);
    return made;
  }
}
