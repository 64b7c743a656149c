// Open documents and their analyses. Each workflow document is analysed at most once per version
// (and again only when a file it read, a tool module, changes); every feature asks here. A new
// version is analysed from the previous one: an edit inside one step re-checks that step only.
// Invariant: `analysis(uri)` always describes the document's current version.
import { TextDocuments } from "vscode-languageserver";
import { TextDocument } from "vscode-languageserver-textdocument";
import { fileURLToPath } from "node:url";
import type { ValidationHost } from "@keel/core/index";
import { analyze, reanalyze, type Analysis } from "@keel/core/service/analysis";
import { childReader, type ChildReader } from "@keel/core/service/children";
import { pythonReader, type PythonReader } from "@keel/core/service/python";
import { toolReader, type ToolReader } from "@keel/core/service/agents";
import { nodeHost } from "@keel/core/node/host";
import { LineIndex } from "@keel/core/index";
import { promptFileCheck } from "@keel/core/service/prompt-files";
import type { PromptFileCheck } from "@keel/core/check/prompt-file";

const WORKFLOW = /\.keel\.ya?ml$/;
const PROMPT_YML = /\.prompt\.ya?ml$/;

/** A prompt file as the editor shows it: its checks and its lines. */
export interface PromptDocument {
  readonly path: string;
  readonly check: PromptFileCheck;
  readonly index: LineIndex;
}

export function filePath(uri: string): string | undefined {
  try {
    return uri.startsWith("file:") ? fileURLToPath(uri) : undefined;
  } catch {
    return undefined;
  }
}

export class Workspace {
  readonly documents = new TextDocuments(TextDocument);
  private readonly cache = new Map<string, { version: number; analysis: Analysis }>();
  private readonly prompts = new Map<string, { version: number; prompt: PromptDocument }>();

  /** Tool modules are read from the editor when open there (unsaved edits count), else from disk. */
  private readonly host: ValidationHost = {
    resolve: nodeHost.resolve,
    readFile: (path) => this.openText(path) ?? nodeHost.readFile(path),
  };

  isWorkflow(uri: string): boolean {
    const doc = this.documents.get(uri);
    return WORKFLOW.test(uri) || doc?.languageId === "keel";
  }

  /**
   * Whether an open document is a prompt file (docs/editor.md "Prompt files"): a `.prompt.yml`,
   * or a Markdown file whose front matter declares `inputs` or whose text holds a `${{ }}`.
   */
  isPromptFile(uri: string): boolean {
    if (PROMPT_YML.test(uri)) return true;
    if (!/\.md$/i.test(uri)) return false;
    const text = this.documents.get(uri)?.getText() ?? "";
    return /^---\r?\n(?:.*\r?\n)*?inputs:/.test(text) || text.includes("${{");
  }

  /** An open prompt file, checked at its current version; undefined for any other document. */
  promptDocument(uri: string): PromptDocument | undefined {
    const doc = this.documents.get(uri);
    const path = filePath(uri);
    if (!doc || !path || !this.isPromptFile(uri)) return undefined;
    const text = doc.getText();
    const hit = this.prompts.get(uri);
    if (hit && hit.version === doc.version) return hit.prompt;
    const prompt = { path, check: promptFileCheck(text, path), index: new LineIndex(text) };
    this.prompts.set(uri, { version: doc.version, prompt });
    return prompt;
  }

  /** The current version's analysis, or undefined for a document that is not an open workflow. */
  analysis(uri: string): Analysis | undefined {
    const doc = this.documents.get(uri);
    if (!doc || !this.isWorkflow(uri)) return undefined;
    const hit = this.cache.get(uri);
    if (hit && hit.version === doc.version) return hit.analysis;
    const options = { file: filePath(uri), host: this.host };
    // An edit inside one step re-checks that step only (core/check/incremental.ts).
    const analysis = hit
      ? reanalyze(hit.analysis, doc.getText(), options)
      : analyze(doc.getText(), options);
    this.cache.set(uri, { version: doc.version, analysis });
    return analysis;
  }

  /** Reads the child workflows of the workflow at `uri` (open text first, else disk). */
  children(uri: string): ChildReader | undefined {
    return childReader(filePath(uri), this.host);
  }

  /** Reads the Python tool modules of the workflow at `uri` (open text first, else disk). */
  python(uri: string): PythonReader | undefined {
    return pythonReader(filePath(uri), this.host);
  }

  /** Reads the parameters of the agents' tools of the workflow at `uri` (derived ones included). */
  tools(uri: string): ToolReader {
    return toolReader(filePath(uri), this.host);
  }

  /** The version an analysis was made for, if it is still cached. */
  versionOf(uri: string): number | undefined {
    return this.cache.get(uri)?.version;
  }

  /** Forgets the analyses that read any of `paths`; returns the URIs of those workflows. */
  filesChanged(paths: readonly string[]): string[] {
    const changed = new Set(paths);
    const affected: string[] = [];
    for (const [uri, { analysis }] of this.cache) {
      if ([...analysis.reads].some((p) => changed.has(p))) {
        this.cache.delete(uri);
        affected.push(uri);
      }
    }
    return affected;
  }

  forget(uri: string): void {
    this.cache.delete(uri);
    this.prompts.delete(uri);
  }

  private openText(path: string): string | undefined {
    for (const doc of this.documents.all()) {
      if (filePath(doc.uri) === path) return doc.getText();
    }
    return undefined;
  }
}
