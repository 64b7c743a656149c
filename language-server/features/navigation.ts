// Go to definition (steps, inputs, providers, a tool's `uses:` module and a workflow step's child
// file), find references and document highlights.
import { DocumentHighlightKind, type Location, type Position } from "vscode-languageserver";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { LineIndex } from "@keel/core/index";
import { readExports } from "@keel/core/check/tool-exports";
import { definitionAt, highlightsAt, referencesAt } from "@keel/core/service/navigation";
import { callSpans, childPartAt } from "@keel/core/service/children";
import { pythonDefinitionAt } from "@keel/core/service/python";
import { nodeHost } from "@keel/core/node/host";
import {
  promptFileAt,
  promptInputAt,
  promptInputOccurrences,
} from "@keel/core/service/prompt-files";
import type { PromptDocument } from "../workspace";
import type { Context, Feature } from "../context";
import { toRange } from "../convert";

export const navigation: Feature = {
  capabilities: {
    definitionProvider: true,
    referencesProvider: true,
    documentHighlightProvider: true,
  },
  register({ connection, workspace, callers }) {
    connection.onDefinition(({ textDocument, position }) => {
      // In a prompt file: from a `${{ name }}` to the input's declaration in the front matter.
      const prompt = workspace.promptDocument(textDocument.uri);
      if (prompt) {
        const at = promptInputAt(prompt.check, prompt.index.offset(position));
        const decl = at && prompt.check.file.inputs.get(at.name);
        return decl ? { uri: textDocument.uri, range: toRange(prompt.index, decl.span) } : null;
      }
      const a = workspace.analysis(textDocument.uri);
      if (!a) return null;
      const offset = a.index.offset(position);
      const promptFile = a.file && promptFileAt(a.model, offset);
      if (promptFile && a.file) return fileLocation(a.file, promptFile.path, workspace);
      // A Python tool: from `uses:` to the `def`, from a `with:` key to the parameter.
      const python = workspace.python(textDocument.uri);
      const def = python && pythonDefinitionAt(a.model, offset, python);
      if (def) {
        const at = def.index.position(def.offset);
        return { uri: pathToFileURL(def.path).href, range: { start: at, end: at } };
      }
      const target = definitionAt(a.model, offset, workspace.children(textDocument.uri));
      if (!target) return null;
      if (target.kind === "span")
        return { uri: textDocument.uri, range: toRange(a.index, target.span) };
      if (target.kind === "child") {
        const { child, span } = target;
        return { uri: pathToFileURL(child.path).href, range: toRange(child.index, span) };
      }
      if (!a.file) return null;
      if (target.kind === "workflow") return fileLocation(a.file, target.file, workspace);
      return moduleLocation(a.file, target.module, target.exportName, workspace);
    });
    connection.onReferences(({ textDocument, position, context }) => {
      const prompt = workspace.promptDocument(textDocument.uri);
      if (prompt) return promptReferences(prompt, textDocument.uri, position, context, callers);
      const a = workspace.analysis(textDocument.uri);
      if (!a) return null;
      const offset = a.index.offset(position);
      const here = referencesAt(a.model, offset, context.includeDeclaration).map(
        (span): Location => ({ uri: textDocument.uri, range: toRange(a.index, span) }),
      );
      // In a child workflow: where its callers run it, pass the input or read the output.
      const part = a.file && childPartAt(a.model, offset);
      if (!part || !a.file) return here;
      const there = callers.of(a.file).flatMap((c) =>
        callSpans(c.calls, part).map((span): Location => ({
          uri: c.uri,
          range: toRange(c.index, span),
        })),
      );
      return [...here, ...there];
    });
    connection.onDocumentHighlight(({ textDocument, position }) => {
      const a = workspace.analysis(textDocument.uri);
      if (!a) return null;
      return highlightsAt(a.model, a.index.offset(position)).map((h) => ({
        range: toRange(a.index, h.span),
        kind: h.write ? DocumentHighlightKind.Write : DocumentHighlightKind.Read,
      }));
    });
  },
};

/**
 * References in a prompt file: of an input, its declaration and reads in the file and the `with:`
 * keys that give it in the workspace's workflows; elsewhere, the steps that use the file.
 */
function promptReferences(
  prompt: PromptDocument,
  uri: string,
  position: Position,
  context: { includeDeclaration: boolean },
  callers: Context["callers"],
): Location[] {
  const at = promptInputAt(prompt.check, prompt.index.offset(position));
  const users = callers.promptUsers(prompt.path);
  if (!at) {
    return users.flatMap((u) =>
      u.uses.map((use): Location => ({ uri: u.uri, range: toRange(u.index, use.file) })),
    );
  }
  const here = promptInputOccurrences(prompt.check, at.name, context.includeDeclaration).map(
    (span): Location => ({ uri, range: toRange(prompt.index, span) }),
  );
  const there = users.flatMap((u) =>
    u.uses.flatMap((use) => {
      const key = use.inputs.get(at.name);
      return key ? [{ uri: u.uri, range: toRange(u.index, key) }] : [];
    }),
  );
  return [...here, ...there];
}

/** A file named relative to the workflow's folder: its URI and text (open or on disk), if any. */
function fileAt(
  workflowFile: string,
  relative: string,
  workspace: Context["workspace"],
): { uri: string; source: string } | null {
  const path = resolve(dirname(workflowFile), relative);
  const uri = pathToFileURL(path).href;
  const source = workspace.documents.get(uri)?.getText() ?? nodeHost.readFile(path);
  return source === undefined ? null : { uri, source };
}

/** A child workflow's file, at its start, when it exists. */
function fileLocation(
  workflowFile: string,
  relative: string,
  workspace: Context["workspace"],
): Location | null {
  const file = fileAt(workflowFile, relative, workspace);
  const start = { line: 0, character: 0 };
  return file && { uri: file.uri, range: { start, end: start } };
}

/** The tool module's file, at the statement exporting the name when it can be found. */
function moduleLocation(
  workflowFile: string,
  module: string,
  exportName: string,
  workspace: Context["workspace"],
): Location | null {
  const file = fileAt(workflowFile, module, workspace);
  if (!file) return null;
  const exports = readExports(file.source);
  const at = exports instanceof Error ? undefined : exports.at.get(exportName);
  const position = new LineIndex(file.source).position(at ?? 0);
  return { uri: file.uri, range: { start: position, end: position } };
}
